"""Admin lists: users (search, status filter), reports, the audit log; and their views.

Each list pages newest first by (created_at, id) with an opaque cursor, in a fixed number of
queries per page. Moderation actions live in handlers/moderation.py, statistics in
handlers/admin_stats.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from handlers.access import require_admin, status_in_force
from handlers.context import Actor, Ctx
from handlers.message_view import present_messages
from handlers.present import full_user, public_user
from handlers.profiles import online_among
from handlers.schemas import admin as schemas
from models import AccountStatus, AuditEntry, Report, User
from models.base import Entity

T = TypeVar("T", bound=Entity)


def status_filter(status: str, now: datetime) -> Q:
    """Users whose status in force (see access.status_in_force) is `status`."""
    lapsed = Q(account_status=AccountStatus.SUSPENDED) & Q(suspended_until__lte=now)
    if status == "active":
        return Q(account_status=AccountStatus.ACTIVE) | lapsed
    if status == "suspended":
        return Q(account_status=AccountStatus.SUSPENDED) & (
            Q(suspended_until__isnull=True) | Q(suspended_until__gt=now)
        )
    return Q(account_status=AccountStatus.BANNED)


async def _page(query: QuerySet[T], cmd: schemas.PageIn) -> tuple[list[T], str | None]:
    """One page newest first, and the cursor of the next one (None on the last page)."""
    if cmd.cursor is not None:
        at, last_id = cmd.cursor
        query = query.filter(Q(created_at__lt=at) | (Q(created_at=at) & Q(id__lt=last_id)))
    rows = await query.order_by("-created_at", "-id").limit(cmd.limit + 1)
    if len(rows) <= cmd.limit:
        return rows, None
    rows = rows[: cmd.limit]
    return rows, schemas.encode_cursor(rows[-1].created_at, rows[-1].id)


def admin_user(user: User, online: bool = False) -> schemas.AdminUserOut:
    """The full user with moderation state; `account_status` is the one in force."""
    full = full_user(user, online).model_dump()
    full["account_status"] = status_in_force(user).value
    return schemas.AdminUserOut(
        **full, suspended_until=user.suspended_until, moderation_reason=user.moderation_reason
    )


async def list_users(ctx: Ctx, actor: Actor, cmd: schemas.UsersQuery) -> schemas.AdminUsersOut:
    require_admin(actor.user)
    query = User.all()
    if cmd.q:
        text = cmd.q.lower()
        query = query.filter(
            Q(username_key__contains=text)
            | Q(display_name_key__contains=text)
            | Q(email__contains=text)
        )
    if cmd.status:
        query = query.filter(status_filter(cmd.status, datetime.now(UTC)))
    users, next_cursor = await _page(query, cmd)
    online = await online_among(ctx, [user.id for user in users])
    return schemas.AdminUsersOut(
        users=[admin_user(user, user.id in online) for user in users], next_cursor=next_cursor
    )


async def reports_out(reports: Sequence[Report], viewer: User) -> list[schemas.AdminReportOut]:
    """Reports with `message__attachment` and `reporter` fetched; messages as admins see them."""
    messages = await present_messages([report.message for report in reports], viewer)
    return [
        schemas.AdminReportOut(
            id=report.id,
            status=report.status.value,
            reason=report.reason,
            action=report.action,
            chat_id=report.message.chat_id,
            message=message,
            sender_id=report.message.sender_id,
            reporter=public_user(report.reporter),
            resolved_by_id=report.resolved_by_id,
            resolved_at=report.resolved_at,
            created_at=report.created_at,
        )
        for report, message in zip(reports, messages, strict=True)
    ]


async def list_reports(
    ctx: Ctx, actor: Actor, cmd: schemas.ReportsQuery
) -> schemas.AdminReportsOut:
    require_admin(actor.user)
    query = Report.all().select_related("message__attachment", "reporter")
    if cmd.status:
        query = query.filter(status=cmd.status)
    reports, next_cursor = await _page(query, cmd)
    return schemas.AdminReportsOut(
        reports=await reports_out(reports, actor.user), next_cursor=next_cursor
    )


async def list_audit(ctx: Ctx, actor: Actor, cmd: schemas.AuditQuery) -> schemas.AuditOut:
    require_admin(actor.user)
    entries, next_cursor = await _page(AuditEntry.all(), cmd)
    return schemas.AuditOut(
        entries=[schemas.AuditEntryOut.model_validate(entry) for entry in entries],
        next_cursor=next_cursor,
    )
