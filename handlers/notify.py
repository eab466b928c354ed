"""After-commit broadcasts and cross-node socket moves.

Use cases call these only after their transaction has committed. The transport
(handlers/realtime.py) implements `Fanout`; this module knows rooms, not sockets.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from pydantic import BaseModel


def user_room(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}"


def chat_room(chat_id: uuid.UUID | str) -> str:
    return f"chat:{chat_id}"


def session_room(session_id: uuid.UUID | str) -> str:
    return f"session:{session_id}"


class Fanout(Protocol):
    async def emit(
        self, event: str, data: dict[str, Any], room: str | list[str], skip_sid: str | None
    ) -> None: ...

    async def join(self, user_ids: list[str], room: str) -> None:
        """Every socket of these users (on every node) joins `room`."""

    async def leave(self, user_ids: list[str], room: str) -> None: ...

    async def disconnect(self, member_room: str) -> None:
        """Disconnect every socket, on every node, in `member_room`."""


class Notifier:
    """The one way use cases reach sockets."""

    def __init__(self, fanout: Fanout | None = None) -> None:
        self.fanout = fanout

    async def emit(
        self,
        event: str,
        payload: BaseModel | dict[str, Any],
        room: str | list[str],
        skip_sid: str | None = None,
    ) -> None:
        if self.fanout is None:
            return
        data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
        await self.fanout.emit(event, data, room, skip_sid)

    async def join_chat(self, user_ids: list[uuid.UUID], chat_id: uuid.UUID) -> None:
        """The users' connected sockets, on every node, join the chat's room."""
        if self.fanout is not None and user_ids:
            await self.fanout.join([str(user_id) for user_id in user_ids], chat_room(chat_id))

    async def leave_chat(self, user_id: uuid.UUID, chat_id: uuid.UUID) -> None:
        if self.fanout is not None:
            await self.fanout.leave([str(user_id)], chat_room(chat_id))

    async def disconnect_session(self, session_id: uuid.UUID) -> None:
        if self.fanout is not None:
            await self.fanout.disconnect(session_room(session_id))

    async def disconnect_user(self, user_id: uuid.UUID) -> None:
        if self.fanout is not None:
            await self.fanout.disconnect(user_room(user_id))
