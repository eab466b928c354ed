"""Engine.IO / Socket.IO spoken by hand, to send what well-behaved clients never send.

Engine.IO v4 framing: `0` open, `1` close, `2` ping, `3` pong, `4` message; a Socket.IO
packet follows a `4`: `0` connect, `2` event, `5` binary event (`5<n>-` announces n
attachments). Long-polling payloads join packets with the record separator `\\x1e`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, ClientWebSocketResponse, WSMsgType

from tests.clients import EVENT_TIMEOUT

PATH = "/socket.io/?EIO=4"
RECORD_SEPARATOR = "\x1e"
CLOSED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)
TIMEOUT = ClientTimeout(total=EVENT_TIMEOUT)


def connect_packet(token: str | None) -> str:
    return "40" + (json.dumps({"token": token}) if token is not None else "")


def event_packet(event: str, payload: Any, ack_id: int | None = None) -> str:
    return "42" + ("" if ack_id is None else str(ack_id)) + json.dumps([event, payload])


@dataclass
class WebSocketSession:
    """An engine.io session over a raw websocket."""

    ws: ClientWebSocketResponse
    handshake: dict[str, Any]
    received: list[str] = field(default_factory=list)

    @classmethod
    async def open(
        cls, http: ClientSession, base_url: str, headers: dict[str, str] | None = None
    ) -> WebSocketSession:
        ws = await http.ws_connect(f"{base_url}{PATH}&transport=websocket", headers=headers)
        opening = await ws.receive_str(timeout=EVENT_TIMEOUT)
        assert opening.startswith("0"), opening
        return cls(ws, json.loads(opening[1:]))

    async def connect(self, token: str | None) -> str:
        """Send the Socket.IO CONNECT; return the reply packet (`40...` or `44...`)."""
        await self.ws.send_str(connect_packet(token))
        return await self.next_message()

    async def next_message(self) -> str:
        """The next Socket.IO packet (engine.io pings are answered and skipped)."""
        while True:
            text = await self.ws.receive_str(timeout=EVENT_TIMEOUT)
            if text == "2":
                await self.ws.send_str("3")
                continue
            self.received.append(text)
            return text

    async def wait_closed(self, timeout: float = EVENT_TIMEOUT) -> int | None:
        """Read until the server closes the websocket; return the close code."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.ws.receive()
                if message.type in CLOSED:
                    return self.ws.close_code
                if message.type is WSMsgType.TEXT:
                    self.received.append(message.data)

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class PollingSession:
    """An engine.io session over raw long-polling requests."""

    http: ClientSession
    url: str
    handshake: dict[str, Any]

    @classmethod
    async def open(
        cls, http: ClientSession, base_url: str, headers: dict[str, str] | None = None
    ) -> PollingSession:
        url = f"{base_url}{PATH}&transport=polling"
        async with http.get(url, headers=headers, timeout=TIMEOUT) as response:
            body = await response.text()
            assert response.status == 200, body
        assert body.startswith("0"), body
        handshake = json.loads(body[1:])
        return cls(http, f"{base_url}{PATH}&transport=polling&sid={handshake['sid']}", handshake)

    async def post(self, *packets: str) -> int:
        data = RECORD_SEPARATOR.join(packets).encode()
        async with self.http.post(self.url, data=data, timeout=TIMEOUT) as response:
            await response.read()
            return response.status

    async def poll(self) -> tuple[int, list[str]]:
        """One GET: the status and the packets it carried."""
        async with self.http.get(self.url, timeout=TIMEOUT) as response:
            body = await response.text()
            return response.status, body.split(RECORD_SEPARATOR) if response.ok else []
