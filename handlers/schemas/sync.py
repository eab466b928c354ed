"""Catch-up payloads."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from handlers.schemas.common import Id, In, Out
from handlers.schemas.messages import MessageOut

MAX_SYNC_CHATS = 1000
SYNC_PAGE = 200


class SyncIn(In):
    chats: Annotated[
        dict[Id, Annotated[int, Field(ge=0, le=2**62)]], Field(max_length=MAX_SYNC_CHATS)
    ]


class ChatChanges(Out):
    messages: list[MessageOut]
    last_change: int
    has_more: bool


class SyncOut(Out):
    chats: dict[Id, ChatChanges]
    removed: list[Id]
