"""Engine.IO / Socket.IO wire details: JSON codec and websocket compression."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp.web import WebSocketResponse
from engineio.async_drivers import aiohttp as eio_aiohttp


class OrjsonCodec:
    """The `json` module interface python-socketio expects, backed by orjson."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: Any) -> Any:
        return orjson.loads(data)


class UncompressedWebSocket(eio_aiohttp.WebSocket):
    """python-engineio's aiohttp websocket without permessage-deflate.

    aiohttp accepts deflate from any browser that offers it; it costs ~4x memory per idle
    socket, so Parley turns it off unless WS_COMPRESSION is set.
    """

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock


def disable_websocket_compression(eio_server: Any) -> None:
    eio_server._async = {**eio_server._async, "websocket": UncompressedWebSocket}
