from uuid import uuid4

from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.attachment import AttachmentKind
from models.call import CallKind, CallStatus, ParticipantState
from models.chat import ChatType
from models.membership import MemberRole
from models.message import MessageType, Visibility
from models.report import ReportStatus
from models.user import AccountStatus, Role


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "email",
                    fields.CharField(unique=True, description="stored lower-cased", max_length=254),
                ),
                ("username", fields.CharField(description="as the user typed it", max_length=32)),
                (
                    "username_key",
                    fields.CharField(unique=True, description="lower-cased", max_length=32),
                ),
                ("password_hash", fields.CharField(max_length=100)),
                ("display_name", fields.CharField(max_length=64)),
                (
                    "display_name_key",
                    fields.CharField(db_index=True, description="lower-cased", max_length=64),
                ),
                ("avatar_url", fields.CharField(null=True, max_length=2048)),
                ("bio", fields.CharField(null=True, max_length=500)),
                ("phone", fields.CharField(null=True, max_length=20)),
                ("email_verified", fields.BooleanField(default=False)),
                ("phone_verified", fields.BooleanField(default=False)),
                ("public_key", fields.TextField(null=True, unique=False)),
                ("status_text", fields.CharField(null=True, max_length=140)),
                ("status_emoji", fields.CharField(null=True, max_length=32)),
                (
                    "status_expires_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                (
                    "verified",
                    fields.BooleanField(default=False, description="badge granted by admins"),
                ),
                (
                    "role",
                    fields.CharEnumField(
                        default=Role.USER,
                        description="USER: user\nADMIN: admin",
                        enum_type=Role,
                        max_length=5,
                    ),
                ),
                (
                    "account_status",
                    fields.CharEnumField(
                        default=AccountStatus.ACTIVE,
                        description="ACTIVE: active\nSUSPENDED: suspended\nBANNED: banned",
                        enum_type=AccountStatus,
                        max_length=9,
                    ),
                ),
                (
                    "suspended_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("moderation_reason", fields.CharField(null=True, max_length=500)),
                (
                    "last_seen_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
            ],
            options={
                "table": "users",
                "app": "models",
                "indexes": [Index(fields=["created_at"]), Index(fields=["account_status"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Attachment",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "uploader",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="uploader_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="attachments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="IMAGE: image\nVIDEO: video\nAUDIO: audio\nDOCUMENT: document",
                        enum_type=AttachmentKind,
                        max_length=8,
                    ),
                ),
                ("mime_type", fields.CharField(max_length=127)),
                ("size", fields.BigIntField()),
                ("filename", fields.CharField(max_length=255)),
                ("storage_key", fields.CharField(unique=True, max_length=255)),
                ("thumbnail_key", fields.CharField(null=True, max_length=255)),
                ("width", fields.IntField(null=True)),
                ("height", fields.IntField(null=True)),
                ("duration_seconds", fields.FloatField(null=True)),
                (
                    "posted_at",
                    fields.DatetimeField(
                        null=True,
                        description="first used in a message",
                        auto_now=False,
                        auto_now_add=False,
                    ),
                ),
            ],
            options={
                "table": "attachments",
                "app": "models",
                "indexes": [Index(fields=["posted_at", "created_at"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="audit_entries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("action", fields.CharField(max_length=64)),
                ("target_type", fields.CharField(max_length=32)),
                ("target_id", fields.CharField(max_length=64)),
                ("details", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "audit_log",
                "app": "models",
                "indexes": [Index(fields=["created_at"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Chat",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "type",
                    fields.CharEnumField(
                        description="DM: dm\nGROUP: group", enum_type=ChatType, max_length=5
                    ),
                ),
                ("name", fields.CharField(null=True, max_length=100)),
                ("avatar_url", fields.CharField(null=True, max_length=2048)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="created_chats",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "dm_key",
                    fields.CharField(
                        null=True,
                        unique=True,
                        description="sorted member ids of a DM",
                        max_length=80,
                    ),
                ),
                (
                    "last_seq",
                    fields.BigIntField(default=0, description="seq of the newest message"),
                ),
                (
                    "last_change",
                    fields.BigIntField(default=0, description="the chat's change counter"),
                ),
                (
                    "last_activity_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True),
                ),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "chats",
                "app": "models",
                "indexes": [Index(fields=["type"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Call",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "chat",
                    fields.ForeignKeyField(
                        "models.Chat",
                        source_field="chat_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="calls",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("room_name", fields.CharField(unique=True, max_length=64)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="VIDEO: video\nAUDIO: audio", enum_type=CallKind, max_length=5
                    ),
                ),
                (
                    "initiator",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="initiator_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="started_calls",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=CallStatus.RINGING,
                        description="RINGING: ringing\nACTIVE: active\nENDED: ended\nMISSED: missed\nREJECTED: rejected",
                        enum_type=CallStatus,
                        max_length=8,
                    ),
                ),
                (
                    "live_chat_key",
                    fields.CharField(
                        null=True,
                        unique=True,
                        description="chat id while ringing or active",
                        max_length=36,
                    ),
                ),
                (
                    "started_at",
                    fields.DatetimeField(
                        null=True, description="first accept", auto_now=False, auto_now_add=False
                    ),
                ),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("duration_seconds", fields.IntField(null=True)),
                ("end_reason", fields.CharField(null=True, max_length=32)),
            ],
            options={
                "table": "calls",
                "app": "models",
                "indexes": [Index(fields=["status"]), Index(fields=["created_at"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="CallParticipant",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "call",
                    fields.ForeignKeyField(
                        "models.Call",
                        source_field="call_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="participants",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="call_participations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "state",
                    fields.CharEnumField(
                        default=ParticipantState.INVITED,
                        description="INVITED: invited\nJOINED: joined\nLEFT: left\nREJECTED: rejected",
                        enum_type=ParticipantState,
                        max_length=8,
                    ),
                ),
                ("joined_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("left_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "call_participants",
                "app": "models",
                "unique_together": (("call", "user"),),
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Membership",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "chat",
                    fields.ForeignKeyField(
                        "models.Chat",
                        source_field="chat_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "role",
                    fields.CharEnumField(
                        default=MemberRole.MEMBER,
                        description="OWNER: owner\nADMIN: admin\nMEMBER: member",
                        enum_type=MemberRole,
                        max_length=6,
                    ),
                ),
                ("archived", fields.BooleanField(default=False)),
                ("hidden", fields.BooleanField(default=False)),
                ("last_read_seq", fields.BigIntField(default=0)),
                ("last_delivered_seq", fields.BigIntField(default=0)),
            ],
            options={
                "table": "memberships",
                "app": "models",
                "unique_together": (("chat", "user"),),
                "indexes": [Index(fields=["user_id", "chat_id"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Message",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "chat",
                    fields.ForeignKeyField(
                        "models.Chat",
                        source_field="chat_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("seq", fields.BigIntField(description="1, 2, 3, ... per chat in commit order")),
                (
                    "change",
                    fields.BigIntField(description="chat change counter at the last change"),
                ),
                ("client_id", fields.CharField(null=True, max_length=64)),
                (
                    "sender",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="sender_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "type",
                    fields.CharEnumField(
                        description="TEXT: text\nIMAGE: image\nVOICE: voice\nVIDEO: video\nFILE: file\nSTICKER: sticker\nPOLL: poll\nCALL: call",
                        enum_type=MessageType,
                        max_length=7,
                    ),
                ),
                ("content", fields.TextField(null=True, unique=False)),
                (
                    "attachment",
                    fields.ForeignKeyField(
                        "models.Attachment",
                        source_field="attachment_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("sticker", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                (
                    "meta",
                    fields.JSONField(
                        null=True,
                        description="system payloads, e.g. a call record",
                        encoder=JSON_DUMPS,
                        decoder=loads,
                    ),
                ),
                (
                    "reply_to",
                    fields.ForeignKeyField(
                        "models.Message",
                        source_field="reply_to_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="replies",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("encrypted", fields.BooleanField(default=False)),
                (
                    "visibility",
                    fields.CharEnumField(
                        default=Visibility.VISIBLE,
                        description="VISIBLE: visible\nHIDDEN: hidden",
                        enum_type=Visibility,
                        max_length=7,
                    ),
                ),
                ("edited_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("deleted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "messages",
                "app": "models",
                "unique_together": (("chat", "seq"), ("sender", "client_id")),
                "indexes": [
                    Index(fields=["chat_id", "change"]),
                    Index(fields=["created_at"]),
                    Index(fields=["type"]),
                ],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="MessageHide",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "message",
                    fields.ForeignKeyField(
                        "models.Message",
                        source_field="message_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="hides",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="hidden_messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "message_hides",
                "app": "models",
                "unique_together": (("message", "user"),),
                "pk_attr": "id",
                "table_description": "A message one user deleted for themselves only.",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Poll",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "message",
                    fields.OneToOneField(
                        "models.Message",
                        source_field="message_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="poll",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "chat",
                    fields.ForeignKeyField(
                        "models.Chat",
                        source_field="chat_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="polls",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "creator",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="creator_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="polls",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("question", fields.CharField(max_length=300)),
                ("multiple_choice", fields.BooleanField(default=False)),
                ("anonymous", fields.BooleanField(default=False)),
                (
                    "closes_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "polls", "app": "models", "pk_attr": "id"},
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="PollOption",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "poll",
                    fields.ForeignKeyField(
                        "models.Poll",
                        source_field="poll_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="options",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.SmallIntField()),
                ("text", fields.CharField(max_length=100)),
            ],
            options={
                "table": "poll_options",
                "app": "models",
                "unique_together": (("poll", "position"),),
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="PollVote",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "poll",
                    fields.ForeignKeyField(
                        "models.Poll",
                        source_field="poll_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="votes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "option",
                    fields.ForeignKeyField(
                        "models.PollOption",
                        source_field="option_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="votes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="poll_votes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "poll_votes",
                "app": "models",
                "unique_together": (("poll", "option", "user"),),
                "indexes": [Index(fields=["poll_id", "user_id"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Reaction",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "message",
                    fields.ForeignKeyField(
                        "models.Message",
                        source_field="message_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reactions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reactions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("emoji", fields.CharField(max_length=64)),
            ],
            options={
                "table": "reactions",
                "app": "models",
                "unique_together": (("message", "user", "emoji"),),
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Report",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "message",
                    fields.ForeignKeyField(
                        "models.Message",
                        source_field="message_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reports",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "reporter",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="reporter_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reports",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("reason", fields.CharField(max_length=500)),
                (
                    "status",
                    fields.CharEnumField(
                        default=ReportStatus.OPEN,
                        description="OPEN: open\nRESOLVED: resolved",
                        enum_type=ReportStatus,
                        max_length=8,
                    ),
                ),
                ("action", fields.CharField(null=True, max_length=32)),
                (
                    "resolved_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="resolved_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="resolved_reports",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "resolved_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "reports",
                "app": "models",
                "unique_together": (("message", "reporter"),),
                "indexes": [Index(fields=["status", "created_at"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Session",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_reason", fields.CharField(null=True, max_length=32)),
                ("user_agent", fields.CharField(null=True, max_length=256)),
                ("ip", fields.CharField(null=True, max_length=64)),
            ],
            options={
                "table": "sessions",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One login. Every refresh token issued from it belongs to this family.",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="RefreshToken",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "session",
                    fields.ForeignKeyField(
                        "models.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="refresh_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("spent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "refresh_tokens",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A refresh token, stored as its SHA-256 and spent once used.",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Verification",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="verifications",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("channel", fields.CharField(description="email or phone", max_length=8)),
                ("target", fields.CharField(max_length=254)),
                ("code_hash", fields.CharField(max_length=64)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("attempts", fields.SmallIntField(default=0)),
                (
                    "consumed_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "verifications",
                "app": "models",
                "indexes": [Index(fields=["user_id", "channel", "created_at"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
    ]
