"""Unread counts: one grouped query for any number of chats.

A message is unread for a member when its seq is above their `last_read_seq`, someone else
sent it, it is not deleted, and they did not delete it for themselves.
"""

from __future__ import annotations

import uuid

from tortoise.expressions import F, Subquery
from tortoise.functions import Count

from models import Message, MessageHide


async def unread_counts(user_id: uuid.UUID, chat_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Unread messages per chat for this member (chats with none are absent)."""
    if not chat_ids:
        return {}
    hidden = MessageHide.filter(user_id=user_id).values("message_id")
    rows = (
        await Message.filter(
            chat_id__in=chat_ids,
            chat__memberships__user_id=user_id,
            seq__gt=F("chat__memberships__last_read_seq"),
            deleted_at=None,
        )
        .exclude(sender_id=user_id)
        .exclude(id__in=Subquery(hidden))
        .group_by("chat_id")
        .annotate(unread=Count("id"))
        .values_list("chat_id", "unread")
    )
    return {uuid.UUID(str(chat_id)): int(count) for chat_id, count in rows}


async def unread_count(user_id: uuid.UUID, chat_id: uuid.UUID) -> int:
    return (await unread_counts(user_id, [chat_id])).get(chat_id, 0)
