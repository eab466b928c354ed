"""One-time codes proving an email address or phone number."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class Verification(Entity):
    user = fields.ForeignKeyField(
        "models.User", related_name="verifications", on_delete=fields.CASCADE
    )
    channel = fields.CharField(max_length=8, description="email or phone")
    target = fields.CharField(max_length=254)
    code_hash = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()
    attempts = fields.SmallIntField(default=0)
    consumed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "verifications"
        indexes = (("user_id", "channel", "created_at"),)
