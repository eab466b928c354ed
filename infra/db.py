"""Database wiring: Tortoise config from DATABASE_URL, migrations, open and close."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.api import migrate

from infra.settings import PROJECT_DIR

APP_LABEL = "models"


URL_DEFAULTS = {
    # WAL (Tortoise's default) with NORMAL sync: durable across crashes, ~100x faster commits.
    "sqlite": {"synchronous": "NORMAL"},
    # Tortoise's asyncpg pool defaults to 5 connections: too few for a chat server.
    "postgres": {"maxsize": "20"},
}


def _with_defaults(url: str) -> str:
    """Add the dialect's default connection options the URL does not set itself."""
    base, _, query = url.partition("?")
    params = dict(parse_qsl(query))
    for key, value in URL_DEFAULTS.get(connection_name(url), {}).items():
        params.setdefault(key, value)
    return f"{base}?{urlencode(params)}" if params else base


def resolve_url(url: str) -> str:
    """Make a relative SQLite path relative to the project (creating its folder), and add
    the dialect's default options."""
    prefix = "sqlite://"
    if not url.startswith(prefix) or url == "sqlite://:memory:":
        return _with_defaults(url)
    raw_path, _, query = url[len(prefix) :].partition("?")
    path = Path(raw_path)
    if not path.is_absolute():
        path = PROJECT_DIR / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return _with_defaults(f"{prefix}{path}" + (f"?{query}" if query else ""))


def connection_name(url: str) -> str:
    """Named by dialect: Tortoise caches SQL per connection name, and tests switch dialects."""
    return url.split(":", 1)[0]


def tortoise_config(url: str) -> dict[str, Any]:
    name = connection_name(url)
    return {
        "connections": {name: resolve_url(url)},
        "apps": {
            APP_LABEL: {
                "models": ["models"],
                "default_connection": name,
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# Read by the `tortoise` CLI through [tool.tortoise] in pyproject.toml (makemigrations).
MIGRATION_CONFIG = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://data/parley.sqlite3"))


async def apply_migrations(url: str) -> None:
    """Apply every pending migration, then release the connections migrate opened."""
    await migrate(config=tortoise_config(url))
    await Tortoise.close_connections()


async def open_database(url: str) -> None:
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)


async def close_database() -> None:
    await Tortoise.close_connections()


def current() -> BaseDBAsyncClient:
    """The one open connection."""
    return connections.get(next(iter(connections.db_config)))


async def ping() -> None:
    """Raise if the database does not answer."""
    await current().execute_query("SELECT 1")


def is_postgres() -> bool:
    return current().capabilities.dialect == "postgres"
