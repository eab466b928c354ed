"""Emoji reactions: one row per message, user and emoji."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class Reaction(Entity):
    message = fields.ForeignKeyField(
        "models.Message", related_name="reactions", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField("models.User", related_name="reactions", on_delete=fields.CASCADE)
    emoji = fields.CharField(max_length=64)

    class Meta:
        table = "reactions"
        unique_together = (("message", "user", "emoji"),)
