"""Event and HTTP plumbing: validation, the ack shape, errors, events without an ack."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis.exceptions import RedisError

from tests.auth_helpers import refused
from tests.clients import PASSWORD, Account, Api, SocketClient
from tests.proxy import server_with_cuttable_redis
from tests.scrape import sample
from tests.waiting import eventually

INTERNAL = {"code": "internal", "message": "Internal server error"}


@dataclass
class Connected:
    api: Api
    account: Account
    socket: SocketClient

    async def still_works(self) -> None:
        """A following successful call proves the socket survived."""
        assert self.socket.sio.connected
        data = await self.socket.ok("auth:refresh", {"access_token": self.account.access_token})
        assert data["expires_at"].endswith("Z")


async def connect(api: Api, server: TestServer, sockets: Any) -> Connected:
    account = await api.register()
    return Connected(api, account, await sockets(str(server.make_url("")), account.access_token))


@pytest.fixture
async def user(api: Api, server: TestServer, sockets: Any) -> Connected:
    return await connect(api, server, sockets)


@pytest.mark.parametrize(
    "args",
    [("a string",), ([1, 2],), (42,), (None,), (True,), (), ({"access_token": "x"}, {"b": 2})],
    ids=["string", "list", "number", "null", "bool", "no_payload", "two_args"],
)
async def test_a_non_object_payload_is_a_bad_request(user: Connected, args: tuple) -> None:
    ack = await user.socket.sio.call("auth:refresh", args, timeout=5)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ack
    assert set(ack) == {"ok", "error"} and ack["error"]["message"]
    await user.still_works()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"access_token"}),
        ({"access_token": 5}, {"access_token"}),
        ({"access_token": ""}, {"access_token"}),
        ({"access_token": "t", "extra": 1}, {"extra"}),
    ],
)
async def test_invalid_fields_are_named(user: Connected, payload: dict, fields: set[str]) -> None:
    error = await user.socket.error("auth:refresh", payload)
    assert error["code"] == "bad_request" and set(error["details"]["fields"]) == fields
    await user.still_works()


async def test_success_ack_shape(user: Connected) -> None:
    ack = await user.socket.call("auth:refresh", {"access_token": user.account.access_token})
    assert set(ack) == {"ok", "data"} and ack["ok"] is True and set(ack["data"]) == {"expires_at"}


@pytest.mark.parametrize("args", [({},), (), ("x",)], ids=["object", "no_payload", "string"])
async def test_an_unknown_event_gets_an_error_ack(user: Connected, args: tuple) -> None:
    ack = await user.socket.sio.call("no:such-event", args, timeout=5)
    assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
    await user.still_works()


async def test_events_without_an_ack_are_still_processed(
    api: Api, server: TestServer, sockets: Any
) -> None:
    alice, bob = await connect(api, server, sockets), await connect(api, server, sockets)
    created = await alice.socket.ok("chat:create", {"type": "dm", "user_id": bob.account.id})
    chat_id = created["chat"]["id"]
    await alice.socket.sio.emit("auth:refresh", "not an object")
    await alice.socket.sio.emit("no:such-event")
    await alice.socket.sio.emit("typing", {"chat_id": chat_id, "typing": True})
    typing = await bob.socket.expect("typing")
    assert typing == {"chat_id": chat_id, "user_id": alice.account.id, "typing": True}
    refreshed = await sample(api, "parley_events_total", event="auth:refresh", outcome="ok")
    await alice.socket.sio.emit("auth:refresh", {"access_token": alice.account.access_token})

    async def counted() -> bool:
        now = await sample(api, "parley_events_total", event="auth:refresh", outcome="ok")
        return now == refreshed + 1

    await eventually(counted)
    await alice.still_works()


async def test_an_unexpected_failure_is_logged_and_answered_internal(
    start_server: Callable[..., Awaitable[TestServer]],
    redis_url: str,
    http: ClientSession,
    sockets: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Redis outage is a real unexpected failure: `internal` answers, logs, live sockets."""
    async with server_with_cuttable_redis(start_server, redis_url) as (proxy, server):
        api = Api(http, str(server.make_url("")).rstrip("/"))
        user = await connect(api, server, sockets)
        refresh = {"access_token": user.account.access_token}
        await proxy.cut()
        with caplog.at_level(logging.ERROR):
            assert await user.socket.error("auth:refresh", refresh) == INTERNAL
            await user.socket.sio.emit("auth:refresh", refresh)
            await eventually(lambda: _logged(caplog, "event auth:refresh failed", 2))
            login = {"login": user.account.user["email"], "password": PASSWORD}
            assert await api.post("/api/auth/login", login) == (500, {"error": INTERNAL})
            assert await _logged(caplog, "POST /api/auth/login failed", 1)
            refusal = await refused(str(server.make_url("")), user.account.access_token)
            assert refusal == INTERNAL
            assert await _logged(caplog, "handshake failed", 1)
        assert user.socket.sio.connected
        await proxy.start()

        async def answers_again() -> bool:
            return (await user.socket.call("auth:refresh", refresh))["ok"]

        await eventually(answers_again)
        await user.still_works()


async def _logged(caplog: pytest.LogCaptureFixture, needle: str, count: int) -> bool:
    """`count` error records mentioning `needle`, each with the Redis error's traceback."""
    records = [r for r in caplog.records if needle in r.getMessage()]
    return len(records) == count and all(
        r.exc_info and isinstance(r.exc_info[1], RedisError) for r in records
    )


async def test_unknown_routes_and_methods_answer_in_the_error_shape(api: Api) -> None:
    for method, path in [("GET", "/api/nothing-here"), ("GET", "/api/auth/login")]:
        status, body = await api.request(method, path)
        assert status == 404 and body["error"]["code"] == "not_found", (method, path, body)


async def test_an_oversized_body_is_too_large(api: Api) -> None:
    status, body = await api.post("/api/auth/login", {"login": "x", "password": "p" * 200_000})
    assert status == 413 and body["error"]["code"] == "too_large"


@pytest.mark.parametrize("enabled", [False, True], ids=["default", "WS_COMPRESSION"])
async def test_websocket_compression_is_off_unless_enabled(
    start_server: Callable[..., Awaitable[TestServer]], http: ClientSession, enabled: bool
) -> None:
    """Browsers offer permessage-deflate on every websocket; by default the server declines."""
    server = await start_server(ws_compression=enabled)
    url = server.make_url("/socket.io/").with_query(EIO="4", transport="websocket")
    async with http.ws_connect(url, compress=15) as websocket:
        opening = await websocket.receive_str()
        assert opening.startswith("0{")
        assert websocket.compress == (15 if enabled else 0)
