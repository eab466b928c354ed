"""Profiles: read (own: full, others: public), update, and statuses that expire on time.

A status with `expires_at` is cleared by a durable timer (re-created from the database after
a restart); handlers/present.py already hides an expired status if the timer runs late.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from handlers import timers
from handlers.access import require_active
from handlers.context import Actor, Ctx
from handlers.errors import NotFound
from handlers.notify import user_room
from handlers.presence import chat_rooms_of
from handlers.present import full_user, public_user
from handlers.schemas.profiles import ProfileGetIn, ProfileUpdateIn, UserEnvelope, UserUpdatedOut
from models import AccountStatus, User

STATUS_TIMER = "status_expiry"


async def online_among(ctx: Ctx, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The users with a live socket on any node."""
    if not user_ids:
        return set()
    counts = await ctx.state.live_sockets([str(user_id) for user_id in user_ids])
    return {user_id for user_id in user_ids if counts.get(str(user_id), 0) > 0}


async def get_profile(ctx: Ctx, actor: Actor, cmd: ProfileGetIn) -> UserEnvelope:
    """Unknown and banned users are `not_found` alike."""
    user_id = cmd.user_id or actor.user_id
    user = await User.get_or_none(id=user_id)
    own = user_id == actor.user_id
    if user is None or (not own and user.account_status == AccountStatus.BANNED):
        raise NotFound("User not found")
    online = user.id in await online_among(ctx, [user.id])
    return UserEnvelope(user=full_user(user, online) if own else public_user(user, online))


async def update_profile(ctx: Ctx, actor: Actor, cmd: ProfileUpdateIn) -> UserEnvelope:
    require_active(actor.user)
    user = await User.get(id=actor.user_id)
    changes = _changes(user, cmd)
    online = user.id in await online_among(ctx, [user.id])
    if changes:
        user.update_from_dict(changes)
        await user.save(update_fields=list(changes))
        actor.user = user
        if "status" in cmd.model_fields_set:
            await _track_expiry(ctx, user)
        await _broadcast(ctx, user, online)
    return UserEnvelope(user=full_user(user, online))


def _changes(user: User, cmd: ProfileUpdateIn) -> dict[str, Any]:
    """Column values that differ from the user's, for the fields sent (`null` clears)."""
    given = cmd.model_fields_set
    changes: dict[str, Any] = {}
    if cmd.display_name is not None:
        changes |= {"display_name": cmd.display_name, "display_name_key": cmd.display_name.lower()}
    if "avatar_url" in given:
        changes["avatar_url"] = cmd.avatar_url
    if "bio" in given:
        changes["bio"] = cmd.bio or None
    if "phone" in given and cmd.phone != user.phone:
        changes |= {"phone": cmd.phone, "phone_verified": False}
    if "public_key" in given:
        changes["public_key"] = cmd.public_key
    if "status" in given:
        status = cmd.status if cmd.status is not None and not cmd.status.is_empty else None
        changes |= {
            "status_text": (status.text or None) if status else None,
            "status_emoji": status.emoji if status else None,
            "status_expires_at": status.expires_at if status else None,
        }
    return {field: value for field, value in changes.items() if getattr(user, field) != value}


async def _broadcast(ctx: Ctx, user: User, online: bool) -> None:
    """`user:updated` to every chat the user is in and to their own other sockets."""
    rooms = [*await chat_rooms_of(user.id), user_room(user.id)]
    await ctx.notify.emit("user:updated", UserUpdatedOut(user=public_user(user, online)), rooms)


async def _track_expiry(ctx: Ctx, user: User) -> None:
    """Time the status's end, or drop the timer of a status without one."""
    expires_at = user.status_expires_at
    if expires_at is None:
        await timers.cancel(ctx, STATUS_TIMER, str(user.id))
        return
    delay = (expires_at - datetime.now(UTC)).total_seconds()
    await timers.schedule(ctx, STATUS_TIMER, str(user.id), delay, user_id=str(user.id))


async def _clear_if_expired(ctx: Ctx, user_id: uuid.UUID) -> None:
    """Clear a status whose time has come; a newer one is timed again instead."""
    cleared = await User.filter(id=user_id, status_expires_at__lte=datetime.now(UTC)).update(
        status_text=None, status_emoji=None, status_expires_at=None
    )
    user = await User.get_or_none(id=user_id)
    if user is None:
        return
    if cleared:
        await _broadcast(ctx, user, user.id in await online_among(ctx, [user.id]))
    elif user.status_expires_at is not None:
        await _track_expiry(ctx, user)


@timers.timer_handler(STATUS_TIMER)
async def status_expired(ctx: Ctx, payload: dict[str, Any]) -> None:
    await _clear_if_expired(ctx, uuid.UUID(payload["user_id"]))


@timers.recoverer
async def recover_status_timers(ctx: Ctx) -> None:
    """After a restart: clear statuses that ended meanwhile, time the others again."""
    user_ids = await User.filter(status_expires_at__not_isnull=True).values_list("id", flat=True)
    for user_id in user_ids:
        await _clear_if_expired(ctx, uuid.UUID(str(user_id)))
