"""Per-chat order, assigned inside the writer's transaction.

`seq` numbers a chat's messages 1, 2, 3, ... with no gaps; `change` grows on every change to
any of its messages. The chat row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite
serialises writers) so concurrent writers queue instead of reading the same counter.

Broadcasts of new messages must also leave in seq order, on every node: `new_message_lock`
holds a per-chat mutex in shared state across "commit, then emit", so the next writer
commits only after the previous message was handed to the fan-out.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from handlers.context import Ctx
from models import Chat

LOCK_TIMEOUT_SECONDS = 10.0


def new_message_lock(ctx: Ctx, chat_id: uuid.UUID) -> AbstractAsyncContextManager[None]:
    """Hold around "write the message, commit, emit message:new" for one chat."""
    return ctx.state.lock(f"chat-order:{chat_id}", LOCK_TIMEOUT_SECONDS)


async def _locked_chat(chat_id: uuid.UUID, conn: BaseDBAsyncClient) -> Chat:
    return await Chat.filter(id=chat_id).select_for_update().using_db(conn).get()


async def next_seq(chat_id: uuid.UUID, conn: BaseDBAsyncClient) -> tuple[int, int]:
    """Reserve the next (seq, change) for a new message; bumps the chat's activity time."""
    chat = await _locked_chat(chat_id, conn)
    seq, change = chat.last_seq + 1, chat.last_change + 1
    await (
        Chat.filter(id=chat_id)
        .using_db(conn)
        .update(last_seq=seq, last_change=change, last_activity_at=datetime.now(UTC))
    )
    return seq, change


async def next_change(chat_id: uuid.UUID, conn: BaseDBAsyncClient) -> int:
    """Reserve the next change number for an edit, deletion, reaction or vote."""
    chat = await _locked_chat(chat_id, conn)
    change = chat.last_change + 1
    await Chat.filter(id=chat_id).using_db(conn).update(last_change=change)
    return change
