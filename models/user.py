"""Accounts: credentials, profile, moderation state."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    BANNED = "banned"


class User(Entity):
    email = fields.CharField(max_length=254, unique=True, description="stored lower-cased")
    username = fields.CharField(max_length=32, description="as the user typed it")
    username_key = fields.CharField(max_length=32, unique=True, description="lower-cased")
    password_hash = fields.CharField(max_length=100)
    display_name = fields.CharField(max_length=64)
    display_name_key = fields.CharField(max_length=64, db_index=True, description="lower-cased")
    avatar_url = fields.CharField(max_length=2048, null=True)
    bio = fields.CharField(max_length=500, null=True)
    phone = fields.CharField(max_length=20, null=True)
    email_verified = fields.BooleanField(default=False)
    phone_verified = fields.BooleanField(default=False)
    public_key = fields.TextField(null=True)
    status_text = fields.CharField(max_length=140, null=True)
    status_emoji = fields.CharField(max_length=32, null=True)
    status_expires_at = fields.DatetimeField(null=True, db_index=True)
    verified = fields.BooleanField(default=False, description="badge granted by admins")
    role = fields.CharEnumField(Role, default=Role.USER)
    account_status = fields.CharEnumField(AccountStatus, default=AccountStatus.ACTIVE)
    suspended_until = fields.DatetimeField(null=True)
    moderation_reason = fields.CharField(max_length=500, null=True)
    last_seen_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "users"
        indexes = (("created_at",), ("account_status",))

    def __str__(self) -> str:
        return self.username
