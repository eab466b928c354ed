"""Operations: /healthz, /readyz, /metrics, /api/openapi.json, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import socketio
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families

from handlers.http import ROUTES
from server import create_app
from tests.clients import PASSWORD, Api
from tests.conftest import JWT_SECRET, make_settings
from tests.nodes import start_nodes
from tests.proxy import proxy_to, server_with_cuttable_redis, through
from tests.scrape import sample
from tests.waiting import eventually

StartServer = Callable[..., Awaitable[TestServer]]
LOGIN, LOGOUT = "/api/auth/login", "/api/auth/logout"


def api_for(server: TestServer, http: ClientSession) -> Api:
    return Api(http, str(server.make_url("")).rstrip("/"))


async def test_healthz_is_always_ok(api: Api) -> None:
    assert await api.get("/healthz") == (200, {"status": "ok"})


async def test_readyz_checks_the_database(api: Api) -> None:
    assert await api.get("/readyz") == (200, {"status": "ok", "checks": {"database": "ok"}})


async def test_readyz_checks_redis_and_fails_while_it_is_unreachable(
    start_server: StartServer, redis_url: str, http: ClientSession
) -> None:
    async with server_with_cuttable_redis(start_server, redis_url) as (proxy, server):
        api = api_for(server, http)
        ready = {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
        assert await api.get("/readyz") == (200, ready)
        await proxy.cut()
        unready = {"status": "unavailable", "checks": {"database": "ok", "redis": "unavailable"}}
        assert await api.get("/readyz") == (503, unready)
        assert await api.get("/healthz") == (200, {"status": "ok"})
        await proxy.start()
        await eventually(lambda: _answers(api, "/readyz", (200, ready)))


async def test_after_a_redis_outage_a_node_hears_other_nodes_again(
    start_server: StartServer,
    http: ClientSession,
    sockets: Any,
    redis_url: str,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A logout on another node still disconnects this node's sockets once Redis is back."""
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": JWT_SECRET,
        "BCRYPT_ROUNDS": "4",
        "DATA_DIR": str(tmp_path / "node"),
        "LOG_LEVEL": "WARNING",
    }
    (other_node,) = await start_nodes(1, env, tmp_path)
    async with server_with_cuttable_redis(start_server, redis_url) as (proxy, server):
        here, there = api_for(server, http), Api(http, other_node.url)
        account = await here.register()
        credentials = {"login": account.user["email"], "password": PASSWORD}

        async def revocation_arrives() -> bool:
            """Right after an outage a login or handshake may still fail once: then retry."""
            status, session = await here.post(LOGIN, credentials)
            if status != 200:
                return False
            try:
                client = await sockets(str(server.make_url("")), session["access_token"])
            except socketio.exceptions.ConnectionError:
                return False
            assert (await there.post(LOGOUT, token=session["access_token"]))[0] == 204
            with contextlib.suppress(TimeoutError):
                await client.wait_disconnected(timeout=1.0)
            return client.disconnected.is_set()

        try:
            assert await revocation_arrives()
            with caplog.at_level(logging.WARNING, logger="infra.bus"):
                await proxy.cut()
                await eventually(lambda: _logged(caplog, "control bus lost Redis"))
            await proxy.start()
            await eventually(revocation_arrives, timeout=10)
        finally:
            other_node.stop()


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in caplog.records)


async def test_readyz_fails_while_the_database_is_unreachable(
    http: ClientSession, postgres_migrated: str, tmp_path: Path
) -> None:
    """On PostgreSQL only: an SQLite file cannot become unreachable."""
    database_url = postgres_migrated
    proxy = await proxy_to(database_url)
    settings = make_settings(through(proxy, database_url), tmp_path)
    server = TestServer(create_app(settings, migrate=False), host="127.0.0.1")
    await server.start_server()
    try:
        api = api_for(server, http)
        ready = {"status": "ok", "checks": {"database": "ok"}}
        assert await api.get("/readyz") == (200, ready)
        await proxy.cut()
        unready = {"status": "unavailable", "checks": {"database": "unavailable"}}
        assert await api.get("/readyz") == (503, unready)
        await proxy.start()
        await eventually(lambda: _answers(api, "/readyz", (200, ready)))
    finally:
        await server.close()


async def _answers(api: Api, path: str, expected: tuple[int, Any]) -> bool:
    return await api.get(path) == expected


async def test_metrics_are_prometheus_text(api: Api, http: ClientSession) -> None:
    await api.register()
    async with http.get(api.base_url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    families = {family.name for family in text_string_to_metric_families(text)}
    expected = {"parley_sockets_connected", "parley_events", "parley_event_seconds"}
    assert expected | {"parley_http_requests", "parley_http_seconds"} <= families


async def test_metrics_count_sockets_and_events(api: Api, server: TestServer, sockets: Any) -> None:
    account = await api.register()
    before = await sample(api, "parley_sockets_connected")
    labels = {"ok": {"event": "auth:refresh", "outcome": "ok"}}
    labels["bad"] = {"event": "auth:refresh", "outcome": "bad_request"}
    labels["unknown"] = {"event": "unknown", "outcome": "not_found"}
    counts = {
        key: await sample(api, "parley_events_total", **value) for key, value in labels.items()
    }
    latency = await sample(api, "parley_event_seconds_count", event="auth:refresh")

    client = await sockets(str(server.make_url("")), account.access_token)
    assert await sample(api, "parley_sockets_connected") == before + 1
    await client.ok("auth:refresh", {"access_token": account.access_token})
    await client.error("auth:refresh", {})
    await client.error("made:up", {})
    for key, value in labels.items():
        assert await sample(api, "parley_events_total", **value) == counts[key] + 1, key
    assert await sample(api, "parley_event_seconds_count", event="auth:refresh") == latency + 2
    await client.close()

    async def socket_gone() -> bool:
        return await sample(api, "parley_sockets_connected") == before

    await eventually(socket_gone)


async def test_metrics_count_http_requests_by_route_template(api: Api, http: ClientSession) -> None:
    created = {"method": "POST", "route": "/api/auth/register", "status": "201"}
    before = await sample(api, "parley_http_requests_total", **created)
    await api.register()
    assert await sample(api, "parley_http_requests_total", **created) == before + 1
    assert (await api.get("/no/such/path/7f3a"))[0] == 404
    _, text = await api.get("/metrics")
    assert "/no/such/path/7f3a" not in text
    assert await sample(api, "parley_http_requests_total", route="unmatched", status="404") >= 1


async def test_openapi_is_valid_and_lists_every_route(api: Api) -> None:
    status, spec = await api.get("/api/openapi.json")
    assert status == 200
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {route.path for route in ROUTES}
    operation_ids = []
    for route in ROUTES:
        operation = spec["paths"][route.path][route.method.lower()]
        operation_ids.append(operation["operationId"])
        assert operation["summary"] == route.summary
        responses = operation["responses"]
        assert str(route.status) in responses and "default" in responses
        assert ("security" in operation) is route.authenticated
        if route.body is not None:
            content_type = getattr(route, "body_content_type", "application/json")
            schema = operation["requestBody"]["content"][content_type]["schema"]
            _assert_describes(spec, schema, route.body, "validation")
        if route.response is not None:
            schema = responses[str(route.status)]["content"]["application/json"]["schema"]
            _assert_describes(spec, schema, route.response, "serialization")
    assert len(set(operation_ids)) == len(ROUTES)


def _assert_describes(spec: dict[str, Any], schema: dict[str, Any], model: Any, mode: str) -> None:
    """The schema, after its $ref, has exactly the model's fields and required ones."""
    name = schema["$ref"].rsplit("/", 1)[1]
    resolved = spec["components"]["schemas"][name]
    own = model.model_json_schema(mode=mode)
    assert set(resolved["properties"]) == set(own["properties"]), name
    assert set(resolved.get("required", [])) == set(own.get("required", [])), name


async def test_closing_the_server_disconnects_sockets_and_closes_the_database(
    start_server: StartServer, http: ClientSession, sockets: Any, database_url: str
) -> None:
    """Idle engine.io sessions are not swept during the test: closing must not wait for them."""
    server = await start_server(connect_timeout_seconds=3600)
    account = await api_for(server, http).register()
    client = await sockets(str(server.make_url("")), account.access_token)
    assert await _database_in_use(database_url)
    await asyncio.wait_for(server.close(), timeout=10)
    await client.wait_disconnected(timeout=5)

    async def database_released() -> bool:
        return not await _database_in_use(database_url)

    await eventually(database_released)


async def _database_in_use(url: str) -> bool:
    """SQLite: its WAL file exists while a connection is open. PostgreSQL: open backends."""
    if url.startswith("sqlite://"):
        return await asyncio.to_thread(Path(url.removeprefix("sqlite://") + "-wal").exists)
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        others = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return others > 0
