"""Test fixtures: a real Parley on a loopback port, HTTP and Socket.IO clients.

Database tests run on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too; Redis
tests need TEST_REDIS_URL. Under CI=true a missing service fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from infra import db
from infra.settings import Settings
from server import create_app
from tests.clients import Api, SocketClient
from tests.nodes import Node, start_nodes
from tests.uploads_support import file_store, moto_endpoint  # noqa: F401 (fixtures)

IN_CI = os.environ.get("CI", "").lower() == "true"
WORKER_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
JWT_SECRET = "test-secret-that-is-long-enough-for-hs256!"


def worker_database_url(base: str | None) -> str | None:
    """Each pytest-xdist worker gets its own PostgreSQL database: `<name>_w<N>`."""
    if not base:
        return None
    stem, _, name = base.rpartition("/")
    return f"{stem}/{name}_w{WORKER_INDEX}"


def worker_redis_url(base: str | None) -> str | None:
    """Each pytest-xdist worker gets its own Redis database: the given number minus N."""
    if not base:
        return None
    stem, _, number = base.rpartition("/")
    return f"{stem}/{int(number or 0) - WORKER_INDEX}"


TEST_DATABASE_URL = worker_database_url(os.environ.get("TEST_DATABASE_URL"))
TEST_REDIS_URL = worker_redis_url(os.environ.get("TEST_REDIS_URL"))


def require_service(url: str | None, name: str) -> str:
    if url:
        return url
    if IN_CI:
        pytest.fail(f"CI=true but {name} is not set: the service is required in CI")
    pytest.skip(f"{name} not set")


def migrate_now(url: str) -> None:
    """Apply migrations from a worker thread (callers may be inside the test's event loop)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, db.apply_migrations(url)).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate_now(f"sqlite://{path}")
    return path


async def create_database(url: str) -> None:
    """Create the worker's database (on the server named by `url`) unless it exists."""
    stem, _, name = url.rpartition("/")
    conn = await asyncpg.connect(stem.replace("postgres://", "postgresql://", 1) + "/postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    url = require_service(TEST_DATABASE_URL, "TEST_DATABASE_URL")
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create_database(url)).result()
    migrate_now(url)
    return url


async def truncate_postgres(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT LIKE 'tortoise_%'"
        )
        names = ", ".join(f'"{row["tablename"]}"' for row in tables)
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database of one test run: a fresh SQLite copy, or a truncated PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "parley.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    url = request.getfixturevalue("postgres_migrated")
    await truncate_postgres(url)
    return url


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A clean Redis database for one test."""
    url = require_service(TEST_REDIS_URL, "TEST_REDIS_URL")
    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    yield url


@pytest.fixture(params=["memory", "redis"])
def state_url(request: pytest.FixtureRequest) -> str | None:
    """A `redis_url` setting: shared state (and so timers) in memory, or in a clean Redis."""
    return None if request.param == "memory" else request.getfixturevalue("redis_url")


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": JWT_SECRET,
        "bcrypt_rounds": 4,
        "data_dir": tmp_path / "data",
        "upload_dir": tmp_path / "uploads",
        "redis_url": None,
        "parley_env": "development",
        "cors_origins": ["*"],
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


StartServer = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def open_clients() -> list[SocketClient]:
    """Every socket client of the test, closed before any server (a server that still has
    clients waits for their engine.io sessions to time out when it closes)."""
    return []


@pytest.fixture
async def start_server(
    database_url: str, tmp_path: Path, open_clients: list[SocketClient]
) -> AsyncIterator[StartServer]:
    """Start a Parley on a loopback port; keyword arguments override settings."""
    servers: list[TestServer] = []

    async def start(**overrides: Any) -> TestServer:
        app: web.Application = create_app(
            make_settings(database_url, tmp_path, **overrides), migrate=False
        )
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for client in open_clients:
        await client.close()
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def server(start_server: StartServer) -> TestServer:
    return await start_server()


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


@pytest.fixture
def api(server: TestServer, http: ClientSession) -> Api:
    return Api(http, str(server.make_url("")).rstrip("/"))


@pytest.fixture
async def sockets(
    open_clients: list[SocketClient],
) -> AsyncIterator[Callable[..., Awaitable[SocketClient]]]:
    """Connect python-socketio clients; all are disconnected at the end of the test."""

    async def connect(base_url: str, token: str | None, **kwargs: Any) -> SocketClient:
        client = SocketClient()
        await client.connect_to(base_url, token, **kwargs)
        open_clients.append(client)
        return client

    yield connect
    for client in open_clients:
        await client.close()


@pytest.fixture
def unique() -> Callable[[str], str]:
    return lambda prefix: f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def cluster(
    redis_url: str, postgres_migrated: str, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[list[Node]]]]:
    """Start N `python server.py` processes on one PostgreSQL and one Redis."""
    started: list[Node] = []

    async def start(count: int = 2, **settings: str) -> list[Node]:
        database = postgres_migrated
        await truncate_postgres(database)
        env = {
            "DATABASE_URL": database,
            "REDIS_URL": redis_url,
            "JWT_SECRET": JWT_SECRET,
            "BCRYPT_ROUNDS": "4",
            "DATA_DIR": str(tmp_path / "data"),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "LOG_LEVEL": "WARNING",
            **{key.upper(): value for key, value in settings.items()},
        }
        nodes = await start_nodes(count, env, tmp_path)
        started.extend(nodes)
        return nodes

    yield start
    for node in started:
        node.stop()
