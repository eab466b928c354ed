"""The `Fanout` that use cases reach through `Notifier`: Socket.IO emits and room moves.

Emits go through python-socketio's client manager (Redis pub/sub when configured). Room moves
and disconnects name a room of members (`user:<id>`, `session:<id>`) and travel on the control
bus, so every node applies them to its own sockets.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from infra.bus import MemoryBus

NAMESPACE = "/"
log = logging.getLogger(__name__)


class SocketFanout:
    def __init__(self, sio: socketio.AsyncServer, bus: MemoryBus) -> None:
        self.sio = sio
        self.bus = bus

    async def emit(
        self, event: str, data: dict[str, Any], room: str | list[str], skip_sid: str | None
    ) -> None:
        await self.sio.emit(event, data, to=room, skip_sid=skip_sid)

    async def join(self, member_room: str, room: str) -> None:
        await self.bus.publish({"op": "join", "members": member_room, "room": room})

    async def leave(self, member_room: str, room: str) -> None:
        await self.bus.publish({"op": "leave", "members": member_room, "room": room})

    async def disconnect(self, member_room: str) -> None:
        await self.bus.publish({"op": "disconnect", "members": member_room})

    def local_sids(self, room: str) -> list[str]:
        return [sid for sid, _ in self.sio.manager.get_participants(NAMESPACE, room)]

    async def apply(self, message: dict[str, Any]) -> None:
        """Carry out a control message on this node's sockets."""
        op, sids = message.get("op"), self.local_sids(str(message.get("members")))
        for sid in sids:
            if op == "join":
                await self.sio.enter_room(sid, message["room"])
            elif op == "leave":
                await self.sio.leave_room(sid, message["room"])
            elif op == "disconnect":
                await self.sio.disconnect(sid)
            else:
                log.warning("unknown control message %r", op)
                return
