"""The command line (OPERATIONS.md): serve, migrate, create-admin, settings and logging.

Every case runs `python server.py` as a real process with a clean environment (no setting
inherited from the machine running the tests).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import stat
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientError, ClientSession
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from infra.settings import Settings, describe_error
from tests.clients import PASSWORD, Api, SocketClient
from tests.conftest import JWT_SECRET, TEST_DATABASE_URL, require_service
from tests.nodes import PROJECT_DIR, free_port
from tests.waiting import eventually

SETTING_NAMES = {name.upper() for name in Settings.model_fields}
TABLES = {"users", "sessions", "refresh_tokens", "chats", "memberships", "messages"}
ADMIN_PASSWORD = "an admin password"


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any Parley setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
    return {**env, **settings}


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


async def run_cli(*args: str, cwd: Path = PROJECT_DIR, **settings: str) -> Finished:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "server.py",
        *args,
        cwd=cwd,
        env=clean_env(**settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    return Finished(process.returncode or 0, stdout.decode(), stderr.decode())


class Serving:
    """`python server.py --port P` running in the background."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    async def healthy(self) -> bool:
        assert self.process.returncode is None, "the server exited"
        try:
            async with ClientSession() as http, http.get(self.url + "/healthz") as response:
                return response.status == 200
        except ClientError:
            return False

    async def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit code and everything it logged."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(self.process.communicate(), 30)
        return self.process.returncode or 0, stderr.decode()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Serving]]]:
    started: list[Serving] = []

    async def start(cwd: Path = PROJECT_DIR, **settings: str) -> Serving:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "server.py",
            "--port",
            str(port),
            cwd=cwd,
            env=clean_env(**settings),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        serving = Serving(process, port)
        started.append(serving)
        await eventually(serving.healthy, timeout=30)
        return serving

    yield start
    for serving in started:
        if serving.process.returncode is None:
            serving.process.kill()
            await serving.process.wait()


# migrate


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database nothing was ever applied to: a new SQLite path, or a new PostgreSQL DB."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/fresh/parley.sqlite3"
        return
    url = require_service(TEST_DATABASE_URL, "TEST_DATABASE_URL")
    server, _ = url.rsplit("/", 1)
    name = f"parley_cli_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1) + "/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def tables_of(url: str) -> set[str]:
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        with ThreadPoolExecutor(1) as pool:
            rows = await asyncio.get_running_loop().run_in_executor(pool, _sqlite_tables, path)
        return rows
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {row["tablename"] for row in rows}


def _sqlite_tables(path: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


async def test_migrate_builds_the_schema_on_a_fresh_database(
    fresh_database: str, tmp_path: Path
) -> None:
    finished = await run_cli("migrate", DATABASE_URL=fresh_database, DATA_DIR=str(tmp_path))
    assert finished.code == 0, finished.stderr
    assert finished.stdout.strip() == "migrations applied"
    assert await tables_of(fresh_database) >= TABLES


# create-admin


async def test_create_admin_creates_then_promotes(
    start_server: Callable[..., Awaitable[TestServer]],
    http: ClientSession,
    database_url: str,
    tmp_path: Path,
) -> None:
    api = Api(http, str((await start_server()).make_url("")).rstrip("/"))
    member = await api.register()
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "BCRYPT_ROUNDS": "4"}

    created = await run_cli(
        "create-admin", "--email", "Boss@Example.com", "--password", ADMIN_PASSWORD, **env
    )
    assert created.code == 0, created.stderr
    assert created.stdout.strip() == "created admin boss <boss@example.com>"
    status, body = await api.post(
        "/api/auth/login", {"login": "boss@example.com", "password": ADMIN_PASSWORD}
    )
    assert status == 200 and body["user"]["role"] == "admin"
    assert body["user"]["email_verified"] is True

    email = member.user["email"]
    promoted = await run_cli("create-admin", "--email", email, "--password", "ignored " * 2, **env)
    assert promoted.code == 0, promoted.stderr
    assert promoted.stdout.strip() == f"promoted {member.user['username']} <{email}> to admin"
    status, body = await api.post("/api/auth/login", {"login": email, "password": PASSWORD})
    assert status == 200 and body["user"]["role"] == "admin"

    clash = await run_cli(
        "create-admin",
        *("--email", "other@example.com", "--password", ADMIN_PASSWORD),
        *("--username", member.user["username"].upper()),
        **env,
    )
    assert clash.code == 1
    assert len(clash.error_lines) == 1 and "--username" in clash.error_lines[0]
    assert "Traceback" not in clash.stderr


BAD_CONFIGURATIONS: dict[str, tuple[tuple[str, ...], dict[str, str], str]] = {
    "port not a number": ((), {"PORT": "abc"}, "PORT"),
    "production without a secret": ((), {"PARLEY_ENV": "production"}, "JWT_SECRET"),
    "admin password too short": (
        ("create-admin", "--email", "a@example.com", "--password", "short"), {}, "--password"
    ),
    "redis unreachable": ((), {"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL"),
}  # fmt: skip


async def test_bad_configuration_stops_with_one_line_naming_it(tmp_path: Path) -> None:
    """All cases at once (each is a process start); a logged refusal is one JSON line."""

    async def attempt(case: str) -> tuple[str, Finished]:
        args, settings, _ = BAD_CONFIGURATIONS[case]
        folder = tmp_path / case.replace(" ", "_")
        database = f"sqlite://{folder}/parley.sqlite3"
        env = {"DATA_DIR": str(folder), "DATABASE_URL": database, "LOG_FORMAT": "json"}
        return case, await run_cli(*args, **{**env, **settings})

    results = await asyncio.gather(*(attempt(case) for case in BAD_CONFIGURATIONS))
    for case, finished in results:
        named = BAD_CONFIGURATIONS[case][2]
        assert finished.code != 0, case
        assert len(finished.error_lines) == 1, (case, finished.stderr)
        assert named in finished.error_lines[0], (case, finished.stderr)
        assert "Traceback" not in finished.stderr, case
    redis_line = dict(results)["redis unreachable"].error_lines[0]
    assert json.loads(redis_line)["level"] == "CRITICAL"


GOOD_SECRET = "s" * 32


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"SOCKETIO_TRANSPORTS": "pigeon"}, "SOCKETIO_TRANSPORTS"),
        ({"PARLEY_ENV": "production", "JWT_SECRET": "s" * 31}, "JWT_SECRET"),
        ({"PARLEY_ENV": "production", "JWT_SECRET": GOOD_SECRET, "CORS_ORIGINS": "*"}, "CORS"),
        (
            {"PARLEY_ENV": "production", "JWT_SECRET": GOOD_SECRET, "CORS_ORIGINS": "https://a,*"},
            "CORS_ORIGINS",
        ),
        ({"PARLEY_ENV": "production", "JWT_SECRET": GOOD_SECRET, "BCRYPT_ROUNDS": "10"}, "BCRYPT"),
    ],
)
def test_settings_refusals_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], named: str
) -> None:
    """The same validation the command line runs (shown above), for more cases, in-process."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    line = describe_error(refused.value)
    assert "\n" not in line and named in line


def test_production_accepts_safe_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARLEY_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", GOOD_SECRET)
    monkeypatch.setenv("CORS_ORIGINS", "https://chat.example")
    settings = Settings(_env_file=None)
    assert settings.is_production and settings.cors_origins == ["https://chat.example"]


def test_the_generated_jwt_secret_is_one_even_when_processes_race(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: settings.resolved_jwt_secret(), range(16)))
    assert len(secrets) == 1 and len(secrets.pop()) >= 32
    path = tmp_path / "data" / "jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["jwt_secret"]


# serve


def copy_of_the_project(destination: Path) -> Path:
    """The code alone: no data/, no .env, no tests, as in a fresh clone."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "data", ".env", "tests", "bench", "docs", "node_modules",
        "__pycache__", "*.egg-info", ".*_cache",
    )  # fmt: skip
    shutil.copytree(PROJECT_DIR, destination, ignore=ignore)
    return destination


async def test_serve_with_no_configuration_at_all(
    tmp_path: Path, serve: Any, http: ClientSession, sockets: Any
) -> None:
    """Defaults only: SQLite and a JWT secret under the project's data/, then SIGTERM."""
    project = copy_of_the_project(tmp_path / "parley")
    server = await serve(cwd=project)
    data = project / "data"
    assert (data / "parley.sqlite3").is_file()
    assert stat.S_IMODE((data / "jwt_secret").stat().st_mode) == 0o600
    api = Api(http, server.url)
    assert await api.get("/readyz") == (200, {"status": "ok", "checks": {"database": "ok"}})
    account = await api.register()
    client: SocketClient = await sockets(server.url, account.access_token)
    await client.ok("auth:refresh", {"access_token": account.access_token})
    code, log = await server.stop()
    await client.wait_disconnected(timeout=5)
    assert code == 0, log
    assert "Parley ready" in log and "Traceback" not in log


async def test_json_logs_are_one_object_per_line(
    tmp_path: Path, serve: Any, http: ClientSession
) -> None:
    server = await serve(
        DATABASE_URL=f"sqlite://{tmp_path}/parley.sqlite3",
        DATA_DIR=str(tmp_path),
        JWT_SECRET=JWT_SECRET,
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    await Api(http, server.url).post("/api/auth/login", {"login": "nobody", "password": "x" * 10})
    code, log = await server.stop()
    assert code == 0
    records: list[dict[str, Any]] = [json.loads(line) for line in log.splitlines() if line]
    assert records and all(isinstance(record, dict) for record in records)
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
    assert any(record["message"].startswith("Parley ready") for record in records)
