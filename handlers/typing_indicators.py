"""Typing indicators: broadcast to the chat, throttled, ending by themselves."""

from __future__ import annotations

import uuid
from typing import Any

from handlers import timers
from handlers.access import require_member
from handlers.context import Actor, Ctx
from handlers.notify import chat_room
from handlers.schemas.common import EmptyOut
from handlers.schemas.receipts import TypingIn, TypingOut

TYPING_TTL_SECONDS = 6.0
"""A typing indicator ends this long after the last refresh."""
THROTTLE_SECONDS = 1.0
"""At most one `typing: true` broadcast per user and chat in this window."""


async def set_typing(ctx: Ctx, actor: Actor, cmd: TypingIn) -> EmptyOut:
    await require_member(cmd.chat_id, actor.user_id)
    key = f"{cmd.chat_id}:{actor.user_id}"
    if cmd.typing:
        if await ctx.state.set_once(f"typing:{key}", THROTTLE_SECONDS):
            await timers.schedule(
                ctx,
                "typing",
                key,
                TYPING_TTL_SECONDS,
                chat_id=str(cmd.chat_id),
                user_id=str(actor.user_id),
            )
            await _broadcast(ctx, cmd.chat_id, actor.user_id, True, actor.socket_id)
    else:
        await ctx.state.clear(f"typing:{key}")
        await timers.cancel(ctx, "typing", key)
        await _broadcast(ctx, cmd.chat_id, actor.user_id, False, actor.socket_id)
    return EmptyOut()


async def _broadcast(
    ctx: Ctx, chat_id: uuid.UUID, user_id: uuid.UUID, typing: bool, skip_sid: str | None
) -> None:
    payload = TypingOut(chat_id=chat_id, user_id=user_id, typing=typing)
    await ctx.notify.emit("typing", payload, chat_room(chat_id), skip_sid=skip_sid)


@timers.timer_handler("typing")
async def typing_expired(ctx: Ctx, payload: dict[str, Any]) -> None:
    """No refresh for TYPING_TTL_SECONDS: tell the chat the user stopped typing."""
    chat_id, user_id = uuid.UUID(payload["chat_id"]), uuid.UUID(payload["user_id"])
    await ctx.state.clear(f"typing:{chat_id}:{user_id}")
    await _broadcast(ctx, chat_id, user_id, False, None)
