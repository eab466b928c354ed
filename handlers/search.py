"""Message search: the caller's chats only, newest-relevant first, with a stable cursor.

Never returned: deleted, hidden (moderation) or encrypted messages, nor messages the caller
deleted for themselves. The cursor is opaque (base64url JSON): the search's anchor time and
the last hit's (rank, id); later pages never include messages sent after the first page.
"""

from __future__ import annotations

import base64
import html
import uuid
from datetime import UTC, datetime

import orjson
from pydantic import AwareDatetime, BaseModel

from handlers.access import require_member
from handlers.context import Actor, Ctx
from handlers.errors import BadRequest
from handlers.message_view import present_messages
from handlers.schemas.search import SearchHit, SearchIn, SearchOut
from infra import search
from models import Message


class _Cursor(BaseModel):
    anchor: AwareDatetime
    rank: float
    id: uuid.UUID


async def search_messages(ctx: Ctx, actor: Actor, cmd: SearchIn) -> SearchOut:
    if cmd.chat_id is not None:
        await require_member(cmd.chat_id, actor.user_id)
    cursor = decode_cursor(cmd.cursor) if cmd.cursor else None
    anchor = cursor.anchor if cursor else datetime.now(UTC)
    hits = await search.backend().search(
        search.SearchQuery(
            text=cmd.q,
            user_id=actor.user_id,
            chat_id=cmd.chat_id,
            anchor=anchor,
            after=search.Position(cursor.rank, cursor.id) if cursor else None,
            limit=cmd.limit + 1,
        )
    )
    more, hits = len(hits) > cmd.limit, hits[: cmd.limit]
    found = await Message.filter(id__in=[hit.message_id for hit in hits]).select_related(
        "attachment"
    )
    by_id = {message.id: message for message in found}
    kept = [hit for hit in hits if hit.message_id in by_id]
    presented = await present_messages([by_id[hit.message_id] for hit in kept], actor.user)
    results = [
        SearchHit(message=message, chat_id=hit.chat_id, highlight=render_highlight(hit.highlight))
        for hit, message in zip(kept, presented, strict=True)
    ]
    next_cursor = None
    if more:
        last = hits[-1]
        next_cursor = encode_cursor(_Cursor(anchor=anchor, rank=last.rank, id=last.message_id))
    return SearchOut(results=results, next_cursor=next_cursor)


def render_highlight(raw: str) -> str:
    """HTML-escaped excerpt with matches in <mark>: safe to insert as HTML."""
    escaped = html.escape(raw, quote=True)
    return escaped.replace(search.MARK_START, "<mark>").replace(search.MARK_END, "</mark>")


def encode_cursor(cursor: _Cursor) -> str:
    data = orjson.dumps(cursor.model_dump(mode="json"))
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_cursor(text: str) -> _Cursor:
    """A cursor from `next_cursor`; anything else is `bad_request` (binascii, JSON and
    validation errors are all ValueErrors)."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return _Cursor.model_validate(orjson.loads(data))
    except ValueError:
        raise BadRequest("cursor is not valid", {"fields": {"cursor": "invalid"}}) from None
