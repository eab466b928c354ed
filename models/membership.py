"""Who belongs to which chat, with per-user chat state."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class MemberRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Membership(Entity):
    chat = fields.ForeignKeyField(
        "models.Chat", related_name="memberships", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(MemberRole, default=MemberRole.MEMBER)
    archived = fields.BooleanField(default=False)
    hidden = fields.BooleanField(default=False)
    last_read_seq = fields.BigIntField(default=0)
    last_delivered_seq = fields.BigIntField(default=0)

    class Meta:
        table = "memberships"
        unique_together = (("chat", "user"),)
        indexes = (("user_id", "chat_id"),)
