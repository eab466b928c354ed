"""Database wiring: Tortoise config from DATABASE_URL, migrations, open and close."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.api import migrate

from infra.settings import PROJECT_DIR

APP_LABEL = "models"


def resolve_url(url: str) -> str:
    """Make a relative SQLite path relative to the project, and create its folder."""
    prefix = "sqlite://"
    if not url.startswith(prefix) or url == "sqlite://:memory:":
        return url
    raw_path = url[len(prefix) :]
    path = Path(raw_path.split("?", 1)[0])
    if not path.is_absolute():
        path = PROJECT_DIR / path
    path.parent.mkdir(parents=True, exist_ok=True)
    query = "?" + raw_path.split("?", 1)[1] if "?" in raw_path else ""
    return f"{prefix}{path}{query}"


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
