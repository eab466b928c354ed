"""Uploaded files and where they are stored."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class AttachmentKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class Attachment(Entity):
    uploader = fields.ForeignKeyField(
        "models.User", related_name="attachments", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(AttachmentKind)
    mime_type = fields.CharField(max_length=127)
    size = fields.BigIntField()
    filename = fields.CharField(max_length=255)
    storage_key = fields.CharField(max_length=255, unique=True)
    thumbnail_key = fields.CharField(max_length=255, null=True)
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    duration_seconds = fields.FloatField(null=True)
    posted_at = fields.DatetimeField(null=True, description="first used in a message")

    class Meta:
        table = "attachments"
        indexes = (("posted_at", "created_at"),)
