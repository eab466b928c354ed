"""Messages, numbered per chat, and per-user "delete for me" marks."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    STICKER = "sticker"
    POLL = "poll"
    CALL = "call"


class Visibility(StrEnum):
    VISIBLE = "visible"
    HIDDEN = "hidden"


class Message(Entity):
    chat = fields.ForeignKeyField("models.Chat", related_name="messages", on_delete=fields.CASCADE)
    seq = fields.BigIntField(description="1, 2, 3, ... per chat in commit order")
    change = fields.BigIntField(description="chat change counter at the last change")
    client_id = fields.CharField(max_length=64, null=True)
    sender = fields.ForeignKeyField(
        "models.User", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    type = fields.CharEnumField(MessageType)
    content = fields.TextField(null=True)
    attachment = fields.ForeignKeyField(
        "models.Attachment", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    sticker = fields.JSONField(null=True)
    meta = fields.JSONField(null=True, description="system payloads, e.g. a call record")
    reply_to = fields.ForeignKeyField(
        "models.Message", related_name="replies", null=True, on_delete=fields.SET_NULL
    )
    encrypted = fields.BooleanField(default=False)
    visibility = fields.CharEnumField(Visibility, default=Visibility.VISIBLE)
    edited_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "messages"
        unique_together = (("chat", "seq"), ("sender", "client_id"))
        indexes = (("chat_id", "change"), ("created_at",), ("type",))


class MessageHide(Entity):
    """A message one user deleted for themselves only."""

    message = fields.ForeignKeyField(
        "models.Message", related_name="hides", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField(
        "models.User", related_name="hidden_messages", on_delete=fields.CASCADE
    )

    class Meta:
        table = "message_hides"
        unique_together = (("message", "user"),)
