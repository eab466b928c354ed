"""Catch-up after being offline: every message changed since the client's `last_change`.

Queries: one for the caller's memberships, then one per chat that actually changed.
"""

from __future__ import annotations

import uuid

from tortoise.expressions import Subquery

from handlers.context import Actor, Ctx
from handlers.message_view import present_messages
from handlers.schemas.sync import SYNC_PAGE, ChatChanges, SyncIn, SyncOut
from models import Membership, Message, MessageHide


async def sync(ctx: Ctx, actor: Actor, cmd: SyncIn) -> SyncOut:
    rows = await Membership.filter(user_id=actor.user_id, chat_id__in=list(cmd.chats)).values_list(
        "chat_id", "chat__last_change"
    )
    current = {uuid.UUID(str(chat_id)): last_change for chat_id, last_change in rows}
    removed = [chat_id for chat_id in cmd.chats if chat_id not in current]
    changes = {}
    for chat_id, known in cmd.chats.items():
        if chat_id in current:
            changes[chat_id] = await _changes(actor, chat_id, known, current[chat_id])
    return SyncOut(chats=changes, removed=removed)


async def _changes(actor: Actor, chat_id: uuid.UUID, known: int, latest: int) -> ChatChanges:
    if latest <= known:
        return ChatChanges(messages=[], last_change=latest, has_more=False)
    hidden = MessageHide.filter(user_id=actor.user_id, message__chat_id=chat_id)
    page = await (
        Message.filter(chat_id=chat_id, change__gt=known)
        .exclude(id__in=Subquery(hidden.values("message_id")))
        .order_by("change")
        .limit(SYNC_PAGE + 1)
        .select_related("attachment")
    )
    has_more = len(page) > SYNC_PAGE
    page = page[:SYNC_PAGE]
    last_change = page[-1].change if has_more else latest
    return ChatChanges(
        messages=await present_messages(page, actor.user),
        last_change=last_change,
        has_more=has_more,
    )
