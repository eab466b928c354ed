"""Adapters to the outside world: settings, database, state, security, storage, mail."""
