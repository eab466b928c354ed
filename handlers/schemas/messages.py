"""Message payloads in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from handlers.schemas.common import ClientId, Id, In, Out
from handlers.schemas.polls import PollOut

SendableType = Literal["text", "image", "voice", "video", "file", "sticker"]
ENCRYPTED_MAX_CHARS = 65536
"""Ciphertext of an end-to-end encrypted message: stored as is, at most 64 KiB."""

Content = Annotated[str, StringConstraints(max_length=ENCRYPTED_MAX_CHARS)]
Seq = Annotated[int, Field(ge=0, le=2**62)]


class StickerIn(In):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    pack: Annotated[str, StringConstraints(max_length=64)] | None = None
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None


class SendMessageIn(In):
    chat_id: Id
    client_id: ClientId
    type: SendableType
    content: Content | None = None
    attachment_id: Id | None = None
    sticker: StickerIn | None = None
    reply_to_id: Id | None = None
    encrypted: bool = False

    @model_validator(mode="after")
    def _fields_fit_type(self) -> SendMessageIn:
        if self.type == "text" and not (self.content and self.content.strip()):
            raise ValueError("a text message needs non-empty content")
        if self.type == "sticker" and self.sticker is None:
            raise ValueError("a sticker message needs sticker")
        if self.type != "sticker" and self.sticker is not None:
            raise ValueError("only sticker messages carry a sticker")
        needs_file = self.type in ("image", "voice", "video", "file")
        if needs_file and self.attachment_id is None:
            raise ValueError(f"a {self.type} message needs attachment_id")
        if not needs_file and self.attachment_id is not None:
            raise ValueError(f"a {self.type} message carries no attachment")
        return self


class HistoryIn(In):
    chat_id: Id
    before_seq: Seq | None = None
    after_seq: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50

    @model_validator(mode="after")
    def _one_direction(self) -> HistoryIn:
        if self.before_seq is not None and self.after_seq is not None:
            raise ValueError("give before_seq or after_seq, not both")
        return self


class EditMessageIn(In):
    message_id: Id
    content: Annotated[str, StringConstraints(min_length=1, max_length=ENCRYPTED_MAX_CHARS)]


class DeleteMessageIn(In):
    message_id: Id
    scope: Literal["everyone", "me"]


class ReportMessageIn(In):
    message_id: Id
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ReactionSummary(BaseModel):
    count: int
    user_ids: list[Id]


class AttachmentOut(Out):
    id: Id
    kind: str
    mime_type: str
    size: int
    filename: str
    url: str | None = None
    thumbnail_url: str | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None


class MessageOut(Out):
    id: Id
    chat_id: Id
    seq: int
    change: int
    client_id: str | None
    sender_id: Id | None
    type: str
    content: str | None
    attachment: AttachmentOut | None = None
    sticker: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    reply_to_id: Id | None = None
    reactions: dict[str, ReactionSummary] = {}
    poll: PollOut | None = None
    encrypted: bool
    visibility: str
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    created_at: datetime


class MessageEnvelope(Out):
    message: MessageOut


class HistoryOut(Out):
    messages: list[MessageOut]
    has_more: bool


class MessageIdOut(Out):
    message_id: Id


class DeletedOut(Out):
    message_id: Id
    chat_id: Id


class ReportOut(Out):
    report_id: Id
