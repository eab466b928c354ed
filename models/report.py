"""User reports of messages, and the admin audit log."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Report(Entity):
    message = fields.ForeignKeyField(
        "models.Message", related_name="reports", on_delete=fields.CASCADE
    )
    reporter = fields.ForeignKeyField(
        "models.User", related_name="reports", on_delete=fields.CASCADE
    )
    reason = fields.CharField(max_length=500)
    status = fields.CharEnumField(ReportStatus, default=ReportStatus.OPEN)
    action = fields.CharField(max_length=32, null=True)
    resolved_by = fields.ForeignKeyField(
        "models.User", related_name="resolved_reports", null=True, on_delete=fields.SET_NULL
    )
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reports"
        unique_together = (("message", "reporter"),)
        indexes = (("status", "created_at"),)


class AuditEntry(Entity):
    actor = fields.ForeignKeyField(
        "models.User", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32)
    target_id = fields.CharField(max_length=64)
    details = fields.JSONField(null=True)

    class Meta:
        table = "audit_log"
        indexes = (("created_at",),)
