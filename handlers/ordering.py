"""Per-chat order, assigned inside the writer's transaction.

`seq` numbers a chat's messages 1, 2, 3, ... with no gaps; `change` grows on every change to
any of its messages. The chat row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite
serialises writers) so concurrent writers queue instead of reading the same counter.

Broadcasts must also leave in commit order, on every node: `chat_order_lock` holds a
per-chat mutex in shared state across "commit, then emit", so the next writer commits only
after the previous change was handed to the fan-out (messages in seq order, and the last
full-state reaction/poll broadcast a client gets is the newest).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from handlers.context import Ctx
from handlers.errors import Unavailable
from infra.state import LockTimeout
from models import Chat, Message

LOCK_TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def chat_order_lock(ctx: Ctx, chat_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold around "write, commit, emit" for one chat; a lock timeout answers `unavailable`."""
    try:
        async with ctx.state.lock(f"chat-order:{chat_id}", LOCK_TIMEOUT_SECONDS):
            yield
    except LockTimeout as exc:
        raise Unavailable("The chat is busy; try again") from exc


async def _locked_chat(chat_id: uuid.UUID, conn: BaseDBAsyncClient) -> Chat:
    return await Chat.filter(id=chat_id).select_for_update().using_db(conn).get()


async def append_message(chat_id: uuid.UUID, conn: BaseDBAsyncClient, **fields: Any) -> Message:
    """Insert a message with the chat's next (seq, change); bumps the chat's activity time."""
    chat = await _locked_chat(chat_id, conn)
    seq, change = chat.last_seq + 1, chat.last_change + 1
    await (
        Chat.filter(id=chat_id)
        .using_db(conn)
        .update(last_seq=seq, last_change=change, last_activity_at=datetime.now(UTC))
    )
    return await Message.create(chat_id=chat_id, seq=seq, change=change, using_db=conn, **fields)


async def next_change(chat_id: uuid.UUID, conn: BaseDBAsyncClient) -> int:
    """Reserve the next change number for an edit, deletion, reaction or vote."""
    chat = await _locked_chat(chat_id, conn)
    change = chat.last_change + 1
    await Chat.filter(id=chat_id).using_db(conn).update(last_change=change)
    return change
