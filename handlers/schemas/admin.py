"""Admin payloads: statistics, the users list, moderation, reports and the audit log.

List endpoints page newest first with an opaque `cursor` (the last item's creation time and
id); a cursor that was not issued by the server is `bad_request`.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BeforeValidator, Field, StringConstraints, WithJsonSchema

from handlers.schemas.common import Id, In, Out
from handlers.schemas.messages import MessageOut
from handlers.schemas.polls import FutureTime
from handlers.schemas.users import UserFull, UserPublic

PAGE_MAX = 100


class PageKey(NamedTuple):
    """Where a page ends: the last item's (created_at, id)."""

    created_at: datetime
    id: uuid.UUID


def encode_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(value: Any) -> PageKey:
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError("is not a cursor issued by this server")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        created_at, item_id = raw.split("|")
        key = PageKey(datetime.fromisoformat(created_at), uuid.UUID(item_id))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("is not a cursor issued by this server") from None
    if key.created_at.tzinfo is None:
        raise ValueError("is not a cursor issued by this server")
    return key


Cursor = Annotated[
    PageKey,
    BeforeValidator(_decode_cursor),
    WithJsonSchema({"type": "string", "description": "next_cursor of the previous page"}),
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class PageIn(In):
    cursor: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=PAGE_MAX)] = 50


class UsersQuery(PageIn):
    q: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    status: Literal["active", "suspended", "banned"] | None = None


class ReportsQuery(PageIn):
    status: Literal["open", "resolved"] | None = None


class AuditQuery(PageIn):
    pass


class TargetIn(In):
    """The `{id}` in an admin route's path."""

    id: Id


class ModerationIn(In):
    """unsuspend, ban, unban: an optional reason, kept on the user and in the audit log."""

    reason: Reason | None = None


class SuspendIn(ModerationIn):
    """Without `until` the suspension lasts until `unsuspend`."""

    until: FutureTime | None = None


class BadgeIn(ModerationIn):
    """`verify-badge` grants the verified badge; `{"verified": false}` revokes it."""

    verified: bool = True


class ResolveIn(In):
    action: Literal["dismiss", "hide_message", "suspend_sender"]
    reason: Reason | None = None


class AdminUserOut(UserFull):
    suspended_until: datetime | None
    moderation_reason: str | None


class AdminUserEnvelope(Out):
    user: AdminUserOut


class AdminUsersOut(Out):
    users: list[AdminUserOut]
    next_cursor: str | None


class AdminReportOut(Out):
    id: Id
    status: Literal["open", "resolved"]
    reason: str
    action: str | None
    chat_id: Id
    message: MessageOut
    sender_id: Id | None
    reporter: UserPublic
    resolved_by_id: Id | None
    resolved_at: datetime | None
    created_at: datetime


class AdminReportEnvelope(Out):
    report: AdminReportOut


class AdminReportsOut(Out):
    reports: list[AdminReportOut]
    next_cursor: str | None


class AuditEntryOut(Out):
    id: Id
    actor_id: Id | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any] | None
    created_at: datetime


class AuditOut(Out):
    entries: list[AuditEntryOut]
    next_cursor: str | None


class UserStats(Out):
    total: int
    new_24h: int
    new_7d: int
    active_24h: int
    online_now: int
    verified: int
    suspended: int
    banned: int


class ChatStats(Out):
    total: int
    dm: int
    group: int


class DayCount(Out):
    date: date
    count: int


class MessageStats(Out):
    total: int
    last_24h: int
    per_day: list[DayCount]
    by_type: dict[str, int]


class CallStats(Out):
    total: int
    active: int
    missed: int
    avg_duration_seconds: float | None


class ReportStats(Out):
    open: int
    resolved: int


class RealtimeStats(Out):
    sockets: int
    nodes: int


class ServerStats(Out):
    version: str
    uptime_seconds: int


class StatsOut(Out):
    users: UserStats
    chats: ChatStats
    messages: MessageStats
    calls: CallStats
    reports: ReportStats
    realtime: RealtimeStats
    server: ServerStats
