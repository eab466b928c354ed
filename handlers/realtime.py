"""The `Fanout` that use cases reach through `Notifier`: Socket.IO emits and room moves.

Emits and room moves both go through python-socketio's client manager, so with Redis they
travel on one channel in order: a socket that joins a room on another node is in it before
any emit published after the join. A user's socket ids (on every node) come from shared
state. Disconnects name a room of members (`user:<id>`, `session:<id>`) and travel on the
control bus, so every node disconnects its own sockets in that room.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from infra.bus import MemoryBus
from infra.state import State

NAMESPACE = "/"
log = logging.getLogger(__name__)


class SocketFanout:
    def __init__(self, sio: socketio.AsyncServer, bus: MemoryBus, state: State) -> None:
        self.sio = sio
        self.bus = bus
        self.state = state
        self.multi_node = isinstance(sio.manager, AsyncPubSubManager)

    async def emit(
        self, event: str, data: dict[str, Any], room: str | list[str], skip_sid: str | None
    ) -> None:
        await self.sio.emit(event, data, to=room, skip_sid=skip_sid)

    async def join(self, user_ids: list[str], room: str) -> None:
        for sid in await self._sockets_of(user_ids):
            await self.sio.enter_room(sid, room)

    async def leave(self, user_ids: list[str], room: str) -> None:
        for sid in await self._sockets_of(user_ids):
            await self.sio.leave_room(sid, room)

    async def _sockets_of(self, user_ids: list[str]) -> list[str]:
        """Socket ids to move: remote ones are forwarded by the Redis manager."""
        sids = await self.state.user_socket_ids(user_ids)
        if self.multi_node:
            return sids
        return [sid for sid in sids if self.sio.manager.is_connected(sid, NAMESPACE)]

    async def disconnect(self, member_room: str) -> None:
        await self.bus.publish({"op": "disconnect", "members": member_room})

    async def apply(self, message: dict[str, Any]) -> None:
        """Carry out a control message on this node's sockets."""
        if message.get("op") != "disconnect":
            log.warning("unknown control message %r", message.get("op"))
            return
        room = str(message.get("members"))
        for sid, _ in list(self.sio.manager.get_participants(NAMESPACE, room)):
            await self.sio.disconnect(sid)
