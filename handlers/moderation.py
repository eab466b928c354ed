"""Admin moderation: suspend, unsuspend, ban, unban, the verified badge, resolving reports.

Each action checks, then writes the change and its audit entry in one transaction, and only
after commit ends sessions or broadcasts. Allowed moves (anything else is `conflict`):
suspend an active or suspended user (re-suspending replaces `until` and the reason); unsuspend
a suspended one, also after the suspension lapsed; ban anyone not banned; unban a banned one.
An admin cannot suspend or ban themselves (`conflict`). Suspend and ban end every session of
the user and disconnect their sockets on every node.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from handlers.access import require_admin
from handlers.admin import admin_user, reports_out
from handlers.auth import revoke_user_sessions
from handlers.context import Actor, Ctx
from handlers.errors import Conflict, NotFound
from handlers.message_view import present_message
from handlers.notify import chat_room, user_room
from handlers.ordering import chat_order_lock, next_change
from handlers.presence import chat_rooms_of
from handlers.present import public_user
from handlers.profiles import online_among
from handlers.schemas import admin as schemas
from handlers.schemas.messages import MessageEnvelope
from handlers.schemas.profiles import UserUpdatedOut
from models import AccountStatus, AuditEntry, Message, Report, ReportStatus, Role, User, Visibility

ACTIVE, SUSPENDED, BANNED = AccountStatus.ACTIVE, AccountStatus.SUSPENDED, AccountStatus.BANNED
TRANSITIONS: dict[str, tuple[AccountStatus, set[AccountStatus]]] = {
    "suspend": (SUSPENDED, {ACTIVE, SUSPENDED}),
    "unsuspend": (ACTIVE, {SUSPENDED}),
    "ban": (BANNED, {ACTIVE, SUSPENDED}),
    "unban": (ACTIVE, {BANNED}),
}
ENDS_SESSIONS = {"suspend", "ban"}


async def audit(
    actor: Actor, action: str, target_type: str, target_id: uuid.UUID, /, **details: Any
) -> None:
    """Write one audit-log entry (inside the action's transaction)."""
    kept = {key: value for key, value in details.items() if value is not None}
    await AuditEntry.create(
        actor_id=actor.user_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        details=kept or None,
    )


async def _locked_user(user_id: uuid.UUID) -> User:
    user = await User.filter(id=user_id).select_for_update().first()
    if user is None:
        raise NotFound("User not found")
    return user


async def _transition(
    actor: Actor,
    user_id: uuid.UUID,
    action: str,
    reason: str | None,
    until: datetime | None = None,
    report_id: uuid.UUID | None = None,
) -> User:
    """Move a user's account status (inside the caller's transaction) and audit it."""
    status, allowed_from = TRANSITIONS[action]
    user = await _locked_user(user_id)
    if action in ENDS_SESSIONS and user.id == actor.user_id:
        raise Conflict(f"You cannot {action} yourself")
    if user.account_status not in allowed_from:
        raise Conflict(f"Cannot {action} a user whose account is {user.account_status.value}")
    user.account_status = status
    user.suspended_until = until
    user.moderation_reason = reason if status != ACTIVE else None
    await user.save(update_fields=["account_status", "suspended_until", "moderation_reason"])
    await audit(actor, f"user.{action}", "user", user.id, reason=reason, until=_iso(until),
                report_id=str(report_id) if report_id else None)  # fmt: skip
    return user


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def change_status(
    ctx: Ctx, actor: Actor, user_id: uuid.UUID, action: str, cmd: schemas.ModerationIn
) -> schemas.AdminUserEnvelope:
    """suspend / unsuspend / ban / unban from the admin routes."""
    require_admin(actor.user)
    until = cmd.until if isinstance(cmd, schemas.SuspendIn) else None
    async with in_transaction():
        user = await _transition(actor, user_id, action, cmd.reason, until)
    if action in ENDS_SESSIONS:
        await revoke_user_sessions(ctx, user.id, action)
    online = user.id in await online_among(ctx, [user.id])
    return schemas.AdminUserEnvelope(user=admin_user(user, online))


async def set_badge(
    ctx: Ctx, actor: Actor, user_id: uuid.UUID, cmd: schemas.BadgeIn
) -> schemas.AdminUserEnvelope:
    """Grant (or with `verified: false` revoke) the verified badge; `user:updated` follows."""
    require_admin(actor.user)
    async with in_transaction():
        user = await _locked_user(user_id)
        user.verified = cmd.verified
        await user.save(update_fields=["verified"])
        action = "user.verify_badge" if cmd.verified else "user.unverify_badge"
        await audit(actor, action, "user", user.id, reason=cmd.reason)
    online = user.id in await online_among(ctx, [user.id])
    rooms = [*await chat_rooms_of(user.id), user_room(user.id)]
    await ctx.notify.emit("user:updated", UserUpdatedOut(user=public_user(user, online)), rooms)
    return schemas.AdminUserEnvelope(user=admin_user(user, online))


async def resolve_report(
    ctx: Ctx, actor: Actor, report_id: uuid.UUID, cmd: schemas.ResolveIn
) -> schemas.AdminReportEnvelope:
    """dismiss, hide the message (members then see a placeholder), or suspend its sender.

    Runs under the chat's order lock, so the `message:updated` of a hidden message leaves in
    change order with the chat's other broadcasts.
    """
    require_admin(actor.user)
    chat_id = await Report.filter(id=report_id).values_list("message__chat_id", flat=True)
    if not chat_id:
        raise NotFound("Report not found")
    async with chat_order_lock(ctx, chat_id[0]):
        message, hidden, suspended = await _resolve(actor, report_id, cmd)
        if hidden:
            await _announce_hidden(ctx, message)
    if suspended is not None:
        await revoke_user_sessions(ctx, suspended.id, "suspend")
    resolved = await Report.filter(id=report_id).select_related("message__attachment", "reporter")
    return schemas.AdminReportEnvelope(report=(await reports_out(resolved, actor.user))[0])


async def _resolve(
    actor: Actor, report_id: uuid.UUID, cmd: schemas.ResolveIn
) -> tuple[Message, bool, User | None]:
    """In one transaction: (the message, whether it became hidden, the suspended sender)."""
    async with in_transaction() as conn:
        report = await Report.filter(id=report_id).select_for_update().get()
        if report.status == ReportStatus.RESOLVED:
            raise Conflict("The report is already resolved")
        message = await Message.filter(id=report.message_id).select_related("attachment").get()
        hidden = cmd.action == "hide_message" and await _hide(message, conn)
        suspended = None
        if cmd.action == "suspend_sender":
            suspended = await _suspend_sender(actor, report, message, cmd.reason)
        report.status, report.action = ReportStatus.RESOLVED, cmd.action
        report.resolved_by_id, report.resolved_at = actor.user_id, datetime.now(UTC)
        await report.save(update_fields=["status", "action", "resolved_by_id", "resolved_at"])
        await audit(actor, "report.resolve", "report", report.id, action=cmd.action,
                    message_id=str(message.id), reason=cmd.reason)  # fmt: skip
    return message, hidden, suspended


async def _hide(message: Message, conn: BaseDBAsyncClient) -> bool:
    """Hide a visible message as a change of its chat; False if it was hidden already."""
    if message.visibility == Visibility.HIDDEN:
        return False
    message.change = await next_change(message.chat_id, conn)
    message.visibility = Visibility.HIDDEN
    await message.save(using_db=conn, update_fields=["change", "visibility"])
    return True


async def _suspend_sender(
    actor: Actor, report: Report, message: Message, reason: str | None
) -> User:
    if message.sender_id is None:
        raise Conflict("The sender's account no longer exists")
    return await _transition(
        actor, message.sender_id, "suspend", reason or report.reason, report_id=report.id
    )


async def _announce_hidden(ctx: Ctx, message: Message) -> None:
    """`message:updated` with the placeholder every non-admin member now sees."""
    member_view = User(role=Role.USER)
    placeholder = await present_message(message, member_view)
    await ctx.notify.emit(
        "message:updated", MessageEnvelope(message=placeholder), chat_room(message.chat_id)
    )
