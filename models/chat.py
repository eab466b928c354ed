"""Chats (DMs and groups) with their seq/change counters."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class ChatType(StrEnum):
    DM = "dm"
    GROUP = "group"


class Chat(Entity):
    type = fields.CharEnumField(ChatType)
    name = fields.CharField(max_length=100, null=True)
    avatar_url = fields.CharField(max_length=2048, null=True)
    created_by = fields.ForeignKeyField(
        "models.User", related_name="created_chats", null=True, on_delete=fields.SET_NULL
    )
    dm_key = fields.CharField(
        max_length=80, null=True, unique=True, description="sorted member ids of a DM"
    )
    last_seq = fields.BigIntField(default=0, description="seq of the newest message")
    last_change = fields.BigIntField(default=0, description="the chat's change counter")
    last_activity_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "chats"
        indexes = (("type",),)
