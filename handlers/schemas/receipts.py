"""Read/delivered receipts and typing payloads."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from handlers.schemas.common import Id, In, Out

Seq = Annotated[int, Field(ge=0, le=2**62)]


class ReceiptIn(In):
    chat_id: Id
    seq: Seq


class ReadOut(Out):
    chat_id: Id
    seq: int
    unread_count: int


class ReceiptOut(Out):
    chat_id: Id
    user_id: Id
    seq: int
    kind: Literal["read", "delivered"]


class TypingIn(In):
    chat_id: Id
    typing: bool


class TypingOut(Out):
    chat_id: Id
    user_id: Id
    typing: bool
