"""Catch-up after being offline: every message changed since the client's `last_change`.

A fixed number of queries whatever the number of chats: the caller's memberships, one ranked
query that picks at most SYNC_PAGE + 1 changed messages per chat (a window function, on
SQLite and PostgreSQL alike), the messages themselves, and `present_messages` for all.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from handlers.context import Actor, Ctx
from handlers.message_view import present_messages
from handlers.schemas.messages import MessageOut
from handlers.schemas.sync import SYNC_PAGE, ChatChanges, SyncIn, SyncOut
from infra import db
from models import Membership, Message


async def sync(ctx: Ctx, actor: Actor, cmd: SyncIn) -> SyncOut:
    rows = await Membership.filter(user_id=actor.user_id, chat_id__in=list(cmd.chats)).values_list(
        "chat_id", "chat__last_change"
    )
    latest = {uuid.UUID(str(chat_id)): last_change for chat_id, last_change in rows}
    removed = [chat_id for chat_id in cmd.chats if chat_id not in latest]
    behind = {
        chat_id: known for chat_id, known in cmd.chats.items() if latest.get(chat_id, 0) > known
    }
    pages = await _changed_messages(actor, behind)
    changes = {}
    for chat_id in latest:
        page = pages.get(chat_id, [])
        has_more = len(page) > SYNC_PAGE
        page = page[:SYNC_PAGE]
        last_change = page[-1].change if has_more else latest[chat_id]
        changes[chat_id] = ChatChanges(messages=page, last_change=last_change, has_more=has_more)
    return SyncOut(chats=changes, removed=removed)


async def _changed_messages(
    actor: Actor, behind: dict[uuid.UUID, int]
) -> dict[uuid.UUID, list[MessageOut]]:
    """Per chat, up to SYNC_PAGE + 1 messages above the known change, ascending by change."""
    if not behind:
        return {}
    ids = await _page_ids(actor.user_id, behind)
    messages = await Message.filter(id__in=ids).select_related("attachment")
    messages.sort(key=lambda message: (str(message.chat_id), message.change))
    pages: dict[uuid.UUID, list[MessageOut]] = defaultdict(list)
    for out in await present_messages(messages, actor.user):
        pages[out.chat_id].append(out)
    return pages


async def _page_ids(user_id: uuid.UUID, behind: dict[uuid.UUID, int]) -> list[Any]:
    """One ranked query: ROW_NUMBER() per chat over the messages changed since `known`,
    leaving out those the caller deleted for themselves."""
    postgres = db.is_postgres()
    values: list[Any] = []

    def param(value: Any) -> str:
        values.append(value if postgres or not isinstance(value, uuid.UUID) else str(value))
        return f"${len(values)}" if postgres else "?"

    chats = " OR ".join(
        f"(m.chat_id = {param(chat_id)} AND m.change > {param(known)})"
        for chat_id, known in behind.items()
    )
    sql = (
        "SELECT id FROM (SELECT m.id AS id, ROW_NUMBER() OVER "
        "(PARTITION BY m.chat_id ORDER BY m.change) AS rn FROM messages m "
        f"WHERE ({chats}) AND m.id NOT IN "
        f"(SELECT h.message_id FROM message_hides h WHERE h.user_id = {param(user_id)})) ranked "
        f"WHERE rn <= {param(SYNC_PAGE + 1)}"
    )
    rows = await db.current().execute_query_dict(sql, values)
    return [row["id"] for row in rows]
