"""Engine.IO / Socket.IO wire details: codec, JSON-only packets, closing sessions, compression.

Parley's events are JSON and files go over HTTP, so a packet that is binary or declares binary
attachments is never legitimate: python-socketio would buffer every attachment it announces
until the last one arrives. Such a packet closes the sender's engine.io session at once.
An engine.io session that has no Socket.IO connection (never sent CONNECT, was refused, or left
the namespace) is closed after CONNECT_TIMEOUT_SECONDS. See docs/security.md.

The session-closing helpers use python-engineio's server internals (`sockets`, a socket's
`close()` and outgoing `queue`), checked against python-engineio 4.13-4.15.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import socketio
from aiohttp import web
from engineio.async_drivers import aiohttp as eio_aiohttp
from socketio import packet

from handlers.errors import TooLarge

log = logging.getLogger(__name__)

NAMESPACE = "/"
SOCKETIO_PATH = "/socket.io/"
_BINARY_TYPES = (str(packet.BINARY_EVENT), str(packet.BINARY_ACK))


class OrjsonCodec:
    """The `json` module interface python-socketio expects, backed by orjson."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: Any) -> Any:
        return orjson.loads(data)


class PacketRefused(ValueError):
    """A packet Parley never accepts: binary, or announcing binary attachments."""


class JsonOnlyPacket(socketio.packet.Packet):
    """A Socket.IO packet that refuses binary frames and attachment counts before buffering."""

    uses_binary_events = False

    def decode(self, encoded_packet: str | bytes) -> int:
        if not isinstance(encoded_packet, str):
            raise PacketRefused("binary frames are not accepted")
        if encoded_packet[:1] in _BINARY_TYPES:
            raise PacketRefused("binary events and acks are not accepted")
        if super().decode(encoded_packet):
            raise PacketRefused("packets with attachments are not accepted")
        return 0


MessageHandler = Callable[[str, Any], Awaitable[None]]


def refuse_binary_packets(sio: socketio.AsyncServer) -> None:
    """Close the session of any client whose packet `JsonOnlyPacket` refuses.

    python-socketio's own message handler lets the decode error escape to python-engineio,
    which only logs it and keeps the connection; this wrapper closes the session instead, and
    drops what is left of a closed session's input (the rest of a long-polling payload).
    """
    handle: MessageHandler = sio.eio.handlers["message"]

    async def guarded(eio_sid: str, data: Any) -> None:
        socket = sio.eio.sockets.get(eio_sid)
        if socket is None or socket.closed or socket.closing:
            return
        try:
            await handle(eio_sid, data)
        except PacketRefused as refused:
            log.warning("closing engine.io session %s: %s", eio_sid, refused)
            await close_session(sio, eio_sid)

    sio.eio.on("message", guarded)


async def close_session(sio: socketio.AsyncServer, eio_sid: str) -> None:
    """Close an engine.io session now, on either transport, without waiting for the client.

    Disconnect handlers run first; a websocket is then closed by ending its writer, and a
    long-polling client gets the CLOSE packet on its pending (or next) poll.
    """
    socket = sio.eio.sockets.get(eio_sid)
    if socket is None or socket.closed or socket.closing:
        return
    await socket.close(wait=False, reason=sio.eio.reason.SERVER_DISCONNECT)
    socket.queue.put_nowait(None)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def polling_body_limit(sio: socketio.AsyncServer) -> Middleware:
    """Middleware: refuse a long-polling POST over MAX_EVENT_BYTES and close its session.

    python-engineio refuses it too, but then waits for the session's outgoing queue to drain,
    which never happens without a pending poll: the request would hang for good.
    """

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        oversized = (request.content_length or 0) > sio.eio.max_http_buffer_size
        if oversized and request.method == "POST" and request.path == SOCKETIO_PATH:
            await close_session(sio, request.query.get("sid", ""))
            raise TooLarge("The packet is larger than MAX_EVENT_BYTES")
        return await handler(request)

    return limit


async def close_socket(sio: socketio.AsyncServer, sid: str) -> None:
    """Close the engine.io session behind a Socket.IO connection (not just the namespace)."""
    eio_sid = sio.manager.eio_sid_from_sid(sid, NAMESPACE)
    if eio_sid is not None:
        await close_session(sio, eio_sid)


async def close_idle_sessions(sio: socketio.AsyncServer, timeout: float) -> None:
    """Forever: close engine.io sessions that go `timeout` seconds without a Socket.IO connection.

    A sweep every `timeout / 2` seconds, so a session lives between `timeout` and `2 * timeout`
    without one. Covers sessions that never send CONNECT, whose CONNECT was refused, and those
    left without a namespace after a disconnect.
    """
    idle_since: dict[str, float] = {}
    while True:
        await asyncio.sleep(timeout / 2)
        try:
            await _close_idle(sio, idle_since, timeout)
        except Exception:
            log.exception("idle-session sweep failed; retrying")


async def _close_idle(
    sio: socketio.AsyncServer, idle_since: dict[str, float], timeout: float
) -> None:
    now = time.monotonic()
    idle = {
        eio_sid
        for eio_sid, socket in list(sio.eio.sockets.items())
        if not socket.closed and sio.manager.sid_from_eio_sid(eio_sid, NAMESPACE) is None
    }
    for eio_sid in list(idle_since):
        if eio_sid not in idle:
            del idle_since[eio_sid]
    for eio_sid in idle:
        since = idle_since.setdefault(eio_sid, now)
        if now - since >= timeout:
            log.info("closing engine.io session %s: no Socket.IO connection", eio_sid)
            del idle_since[eio_sid]
            await close_session(sio, eio_sid)


class UncompressedWebSocket(eio_aiohttp.WebSocket):
    """python-engineio's aiohttp websocket without permessage-deflate.

    aiohttp accepts deflate from any browser that offers it; it costs ~4x memory per idle
    socket, so Parley turns it off unless WS_COMPRESSION is set.
    """

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock


def disable_websocket_compression(eio_server: Any) -> None:
    eio_server._async = {**eio_server._async, "websocket": UncompressedWebSocket}
