"""Engine.IO sessions: websocket-only serving, and sessions without a Socket.IO connection."""

from __future__ import annotations

from aiohttp import ClientSession

from tests.clients import Api
from tests.engineio_raw import PATH, PollingSession, WebSocketSession, connect_packet

CONNECT_TIMEOUT = 0.5


async def started(start_server, http: ClientSession, **settings) -> tuple[Api, str]:
    server = await start_server(**settings)
    base_url = str(server.make_url("")).rstrip("/")
    return Api(http, base_url), base_url


async def test_websocket_only_refuses_a_polling_handshake(start_server, http, sockets) -> None:
    api, url = await started(start_server, http, socketio_transports=["websocket"])
    async with http.get(f"{url}{PATH}&transport=polling") as response:
        assert response.status == 400
    session = await WebSocketSession.open(http, url)
    assert session.handshake["upgrades"] == []
    client = await sockets(url, (await api.register()).access_token)
    assert (await client.error("no:such:event", {}))["code"] == "not_found"


async def test_websocket_session_that_never_connects_is_closed(start_server, http) -> None:
    _, url = await started(start_server, http, connect_timeout_seconds=CONNECT_TIMEOUT)
    session = await WebSocketSession.open(http, url)
    await session.wait_closed(timeout=CONNECT_TIMEOUT * 2 + 2)
    assert session.received == ["1"]


async def test_polling_session_that_never_connects_is_closed(start_server, http) -> None:
    _, url = await started(start_server, http, connect_timeout_seconds=CONNECT_TIMEOUT)
    session = await PollingSession.open(http, url)
    status, packets = await session.poll()
    assert status == 200 and packets == ["1"], (status, packets)
    status, _ = await session.poll()
    assert status == 400


async def test_session_whose_connect_was_refused_is_closed(start_server, http) -> None:
    _, url = await started(start_server, http, connect_timeout_seconds=CONNECT_TIMEOUT)
    session = await WebSocketSession.open(http, url)
    refusal = await session.connect("not-a-token")
    assert refusal.startswith("44") and "unauthorized" in refusal, refusal
    await session.wait_closed(timeout=CONNECT_TIMEOUT * 2 + 2)


async def test_session_that_leaves_the_namespace_is_closed(start_server, http) -> None:
    api, url = await started(start_server, http, connect_timeout_seconds=CONNECT_TIMEOUT)
    session = await WebSocketSession.open(http, url)
    assert (await session.connect((await api.register()).access_token)).startswith("40")
    await session.ws.send_str("41")
    await session.wait_closed(timeout=CONNECT_TIMEOUT * 2 + 2)


async def test_connected_sessions_are_left_alone(start_server, http, sockets) -> None:
    api, url = await started(start_server, http, connect_timeout_seconds=CONNECT_TIMEOUT)
    account = await api.register()
    client = await sockets(url, account.access_token)
    idle = await WebSocketSession.open(http, url)
    await idle.wait_closed(timeout=CONNECT_TIMEOUT * 2 + 2)
    assert client.sio.connected
    assert (await client.error("no:such:event", {}))["code"] == "not_found"
    late = await PollingSession.open(http, url)
    assert await late.post(connect_packet(account.access_token)) == 200
    status, packets = await late.poll()
    assert status == 200 and packets[0].startswith("40"), packets


async def test_polling_is_served_by_default(start_server, http) -> None:
    _, url = await started(start_server, http)
    session = await PollingSession.open(http, url)
    assert session.handshake["upgrades"] == ["websocket"]
