"""Packets Parley refuses: binary events, announced attachments, oversized frames.

Each attack is sent by hand over a raw engine.io session against a real server; the server
must close the sender's session, keep nothing of it, and keep serving everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import WSCloseCode

from server import SIO, TRANSPORT
from tests.clients import Account
from tests.engineio_raw import PollingSession, WebSocketSession, connect_packet, event_packet

MAX_EVENT_BYTES = 131072
ATTACHMENT_FRAMES = 300
FRAME_BYTES = 120 * 1024
"""Each frame fits MAX_EVENT_BYTES, so only the attachment rule can stop the flood (~36 MB)."""
MEMORY_BOUND = 12 * 1024 * 1024
STATUS_FILE = Path("/proc/self/status")
ATTACHMENT_FLOOD = '45999999-["message:send",{"_placeholder":true,"num":0}]'


def rss_bytes() -> int:
    """This process's resident memory (the test server runs in it)."""
    for line in STATUS_FILE.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@contextlib.asynccontextmanager
async def peak_rss_growth() -> AsyncIterator[list[int]]:
    """Sample RSS while the block runs; yields a list that ends up holding the peak growth."""
    if not STATUS_FILE.exists():  # noqa: ASYNC240 (procfs, never blocks)
        pytest.skip("needs /proc to measure memory")
    baseline, peak = rss_bytes(), [0]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], rss_bytes() - baseline)
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    try:
        yield peak
    finally:
        sampler.cancel()
        peak[0] = max(peak[0], rss_bytes() - baseline)


async def connected_session(server, http, account: Account) -> WebSocketSession:
    session = await WebSocketSession.open(http, str(server.make_url("")).rstrip("/"))
    reply = await session.connect(account.access_token)
    assert reply.startswith("40"), reply
    return session


async def assert_session_gone(server, session_id: str) -> None:
    sio = server.app[SIO]
    assert session_id not in sio.eio.sockets or sio.eio.sockets[session_id].closed
    assert session_id not in sio.environ
    assert sio.manager.sid_from_eio_sid(session_id, "/") is None
    assert not server.app[TRANSPORT].actors


async def assert_still_serving(server, api, sockets) -> None:
    bob = await api.register()
    client = await sockets(str(server.make_url("")), bob.access_token)
    assert (await client.error("no:such:event", {}))["code"] == "not_found"


async def test_attachment_flood_is_cut_off_without_holding_memory(
    server, api, http, sockets
) -> None:
    alice = await api.register()
    session = await connected_session(server, http, alice)
    frame = b"\0" * FRAME_BYTES
    async with peak_rss_growth() as growth:
        await session.ws.send_str(ATTACHMENT_FLOOD)
        with contextlib.suppress(ConnectionError):
            for _ in range(ATTACHMENT_FRAMES):
                await session.ws.send_bytes(frame)
        await session.wait_closed()
    assert growth[0] < MEMORY_BOUND, f"server memory grew by {growth[0] / 2**20:.1f} MB"
    await assert_session_gone(server, session.handshake["sid"])
    await assert_still_serving(server, api, sockets)


@pytest.mark.parametrize(
    "packet",
    [
        '451-["message:send",{"_placeholder":true,"num":0}]',
        '461-[{"_placeholder":true,"num":0}]',
        '421-["message:send",{}]',
    ],
    ids=["binary-event", "binary-ack", "event-announcing-attachments"],
)
async def test_packets_announcing_attachments_close_the_session(
    server, api, http, sockets, packet: str
) -> None:
    alice = await api.register()
    session = await connected_session(server, http, alice)
    await session.ws.send_str(packet)
    await session.wait_closed()
    await assert_session_gone(server, session.handshake["sid"])
    await assert_still_serving(server, api, sockets)


async def test_binary_frame_closes_the_session(server, api, http, sockets) -> None:
    alice = await api.register()
    session = await connected_session(server, http, alice)
    await session.ws.send_bytes(b"\x04binary")
    await session.wait_closed()
    await assert_session_gone(server, session.handshake["sid"])
    await assert_still_serving(server, api, sockets)


async def test_attachment_packet_over_long_polling_closes_the_session(
    server, api, http, sockets
) -> None:
    alice = await api.register()
    session = await PollingSession.open(http, str(server.make_url("")).rstrip("/"))
    assert await session.post(connect_packet(alice.access_token)) == 200
    status, packets = await session.poll()
    assert status == 200 and packets[0].startswith("40"), packets
    assert await session.post(ATTACHMENT_FLOOD, "bAAAA", connect_packet(alice.access_token)) == 200
    status, packets = await session.poll()
    assert status == 400 or packets[-1] == "1", (status, packets)
    await assert_session_gone(server, session.handshake["sid"])
    await assert_still_serving(server, api, sockets)


async def test_frame_over_max_event_bytes_closes_websocket(server, api, http, sockets) -> None:
    alice = await api.register()
    session = await connected_session(server, http, alice)
    await session.ws.send_str(event_packet("message:send", {"content": "x" * MAX_EVENT_BYTES}))
    assert await session.wait_closed() == WSCloseCode.MESSAGE_TOO_BIG
    await assert_still_serving(server, api, sockets)


async def test_largest_legitimate_event_is_still_answered(server, api, http) -> None:
    alice = await api.register()
    session = await connected_session(server, http, alice)
    signal = {"call_id": "c", "to_user_id": "u", "data": {"sdp": "x" * 65536}}
    await session.ws.send_str(event_packet("no:such:event", signal, ack_id=7))
    reply = await session.next_message()
    assert reply.startswith("437") and '"not_found"' in reply, reply[:200]


async def test_body_over_max_event_bytes_closes_polling_session(server, api, http, sockets) -> None:
    alice = await api.register()
    session = await PollingSession.open(http, str(server.make_url("")).rstrip("/"))
    assert await session.post(connect_packet(alice.access_token)) == 200
    status, packets = await session.poll()
    assert status == 200 and packets[0].startswith("40"), packets
    oversized = event_packet("message:send", {"content": "x" * MAX_EVENT_BYTES})
    assert await session.post(oversized) == 413
    await assert_session_gone(server, session.handshake["sid"])
    status, packets = await session.poll()
    assert status == 400 or packets[-1] == "1", (status, packets)
    await assert_still_serving(server, api, sockets)
