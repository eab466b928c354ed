"""Login sessions (refresh-token families) and their rotating refresh tokens."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class Session(Entity):
    """One login. Every refresh token issued from it belongs to this family."""

    user = fields.ForeignKeyField("models.User", related_name="sessions", on_delete=fields.CASCADE)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=32, null=True)
    user_agent = fields.CharField(max_length=256, null=True)
    ip = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "sessions"


class RefreshToken(Entity):
    """A refresh token, stored as its SHA-256 and spent once used."""

    session = fields.ForeignKeyField(
        "models.Session", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    spent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_tokens"
