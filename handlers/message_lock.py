"""Changing a message in place (a reaction, a vote, a close) under the chat's lock."""

from __future__ import annotations

import uuid

from tortoise.backends.base.client import BaseDBAsyncClient

from handlers.errors import Conflict
from handlers.ordering import next_change
from models import Message, Visibility

_STATE = ("id", "deleted_at", "visibility")


async def change_open_message(
    message_id: uuid.UUID, chat_id: uuid.UUID, conn: BaseDBAsyncClient
) -> int:
    """The chat's next change number (locking the chat) for a message that is still open.

    A deleted or hidden message is a `conflict`; checked under the lock, so a concurrent
    deletion cannot slip in between. The caller stamps the number on the message.
    """
    change = await next_change(chat_id, conn)
    message = await Message.filter(id=message_id).using_db(conn).only(*_STATE).get()
    if message.deleted_at is not None or message.visibility == Visibility.HIDDEN:
        raise Conflict("The message was deleted or hidden")
    return change
