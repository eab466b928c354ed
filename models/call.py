"""Call records and their participants."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class CallStatus(StrEnum):
    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"
    MISSED = "missed"
    REJECTED = "rejected"


class CallKind(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"


class ParticipantState(StrEnum):
    INVITED = "invited"
    JOINED = "joined"
    LEFT = "left"
    REJECTED = "rejected"


class Call(Entity):
    chat = fields.ForeignKeyField("models.Chat", related_name="calls", on_delete=fields.CASCADE)
    room_name = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(CallKind)
    initiator = fields.ForeignKeyField(
        "models.User", related_name="started_calls", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(CallStatus, default=CallStatus.RINGING)
    live_chat_key = fields.CharField(
        max_length=36, null=True, unique=True, description="chat id while ringing or active"
    )
    started_at = fields.DatetimeField(null=True, description="first accept")
    ended_at = fields.DatetimeField(null=True)
    duration_seconds = fields.IntField(null=True)
    end_reason = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "calls"
        indexes = (("status",), ("created_at",))


class CallParticipant(Entity):
    call = fields.ForeignKeyField(
        "models.Call", related_name="participants", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField(
        "models.User", related_name="call_participations", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(ParticipantState, default=ParticipantState.INVITED)
    joined_at = fields.DatetimeField(null=True)
    left_at = fields.DatetimeField(null=True)

    class Meta:
        table = "call_participants"
        unique_together = (("call", "user"),)
