"""Online/offline, counted across nodes, broadcast to everyone sharing a chat."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from handlers.context import Actor, Ctx
from handlers.notify import chat_room
from handlers.schemas.presence import PresenceOut
from models import Membership, User


async def chat_rooms_of(user_id: uuid.UUID) -> list[str]:
    chat_ids = await Membership.filter(user_id=user_id).values_list("chat_id", flat=True)
    return [chat_room(chat_id) for chat_id in chat_ids]


async def socket_connected(ctx: Ctx, actor: Actor) -> int:
    """Count the socket in; the user's first socket anywhere broadcasts `presence` online."""
    live = await ctx.state.socket_up(
        str(actor.user_id), str(actor.socket_id), ctx.settings.presence_ttl_seconds
    )
    if live == 1:
        await _broadcast(ctx, actor.user_id, True, actor.user.last_seen_at)
    return live


async def socket_disconnected(ctx: Ctx, actor: Actor) -> None:
    """Count the socket out; the user's last socket anywhere broadcasts `presence` offline."""
    remaining = await ctx.state.socket_down(str(actor.user_id), str(actor.socket_id))
    if remaining == 0:
        now = datetime.now(UTC)
        await User.filter(id=actor.user_id).update(last_seen_at=now)
        await _broadcast(ctx, actor.user_id, False, now)


async def _broadcast(
    ctx: Ctx, user_id: uuid.UUID, online: bool, last_seen_at: datetime | None
) -> None:
    rooms = await chat_rooms_of(user_id)
    if rooms:
        payload = PresenceOut(user_id=user_id, online=online, last_seen_at=last_seen_at)
        await ctx.notify.emit("presence", payload, rooms)
