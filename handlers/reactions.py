"""Emoji reactions: idempotent add and remove, a cap on distinct emojis per message.

Every real change bumps the chat's `change` and stamps it on the message, so `sync` carries
it; the chat room gets `reaction:updated` with the message's full aggregated reactions.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from handlers.access import require_active
from handlers.context import Actor, Ctx
from handlers.errors import Conflict
from handlers.message_lock import change_open_message
from handlers.message_view import reactions_for
from handlers.messages import visible_message
from handlers.notify import chat_room
from handlers.ordering import chat_order_lock
from handlers.schemas.reactions import ReactionIn, ReactionsOut, ReactionUpdatedOut
from models import Message, Reaction


class _Unchanged(Exception):
    """Raised inside the transaction so an idempotent repeat rolls back its change number."""


async def add_reaction(ctx: Ctx, actor: Actor, cmd: ReactionIn) -> ReactionsOut:
    async def add(conn: BaseDBAsyncClient) -> bool:
        mine = Reaction.filter(message_id=cmd.message_id, user_id=actor.user_id, emoji=cmd.emoji)
        if await mine.using_db(conn).exists():
            return False
        await _check_room_for(ctx, cmd.message_id, cmd.emoji, conn)
        await Reaction.create(
            message_id=cmd.message_id, user_id=actor.user_id, emoji=cmd.emoji, using_db=conn
        )
        return True

    return await _change_reactions(ctx, actor, cmd.message_id, add)


async def remove_reaction(ctx: Ctx, actor: Actor, cmd: ReactionIn) -> ReactionsOut:
    async def remove(conn: BaseDBAsyncClient) -> bool:
        mine = Reaction.filter(message_id=cmd.message_id, user_id=actor.user_id, emoji=cmd.emoji)
        return bool(await mine.using_db(conn).delete())

    return await _change_reactions(ctx, actor, cmd.message_id, remove)


async def _change_reactions(
    ctx: Ctx,
    actor: Actor,
    message_id: uuid.UUID,
    write: Callable[[BaseDBAsyncClient], Awaitable[bool]],
) -> ReactionsOut:
    """Run `write` (True when it changed something) under the chat's locks, then broadcast.

    The chat-order lock makes `reaction:updated` broadcasts leave in change order, so the
    last one a client receives holds the latest state.
    """
    message = await _reactable(actor, message_id)
    async with chat_order_lock(ctx, message.chat_id):
        try:
            async with in_transaction() as conn:
                change = await change_open_message(message.id, message.chat_id, conn)
                if not await write(conn):
                    raise _Unchanged
                await Message.filter(id=message.id).using_db(conn).update(change=change)
        except _Unchanged:
            return await _reactions_of(message.id)
        return await _broadcast(ctx, message)


async def _reactable(actor: Actor, message_id: uuid.UUID) -> Message:
    """A message the caller may see (else `not_found`), by a caller allowed to act."""
    require_active(actor.user)
    message, _ = await visible_message(message_id, actor)
    return message


async def _check_room_for(
    ctx: Ctx, message_id: uuid.UUID, emoji: str, conn: BaseDBAsyncClient
) -> None:
    emojis = set(
        await Reaction.filter(message_id=message_id)
        .using_db(conn)
        .distinct()
        .values_list("emoji", flat=True)
    )
    cap = ctx.settings.max_distinct_reactions
    if emoji not in emojis and len(emojis) >= cap:
        raise Conflict(
            f"A message takes at most {cap} different emojis", {"max_distinct_reactions": cap}
        )


async def _reactions_of(message_id: uuid.UUID) -> ReactionsOut:
    reactions = await reactions_for([message_id])
    return ReactionsOut(message_id=message_id, reactions=reactions.get(message_id, {}))


async def _broadcast(ctx: Ctx, message: Message) -> ReactionsOut:
    out = await _reactions_of(message.id)
    await ctx.notify.emit(
        "reaction:updated",
        ReactionUpdatedOut(message_id=message.id, chat_id=message.chat_id, reactions=out.reactions),
        chat_room(message.chat_id),
    )
    return out
