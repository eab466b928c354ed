"""Message search payloads."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

from handlers.schemas.common import Id, In, Out
from handlers.schemas.messages import MessageOut

MAX_QUERY_CHARS = 256
MAX_CURSOR_CHARS = 512


def _words_only(value: object) -> object:
    """Trimmed, and control characters (NUL included, which PostgreSQL text cannot hold)
    become spaces."""
    if isinstance(value, str):
        return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in value).strip()
    return value


class SearchIn(In):
    q: Annotated[
        str,
        BeforeValidator(_words_only),
        StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS),
    ] = Field(description='words, "quoted phrases", `or`, and -excluded words')
    chat_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 20
    cursor: Annotated[str, StringConstraints(max_length=MAX_CURSOR_CHARS)] | None = None


class SearchHit(Out):
    message: MessageOut
    chat_id: Id
    highlight: str = Field(
        description="an HTML-escaped excerpt with each match wrapped in <mark></mark>"
    )


class SearchOut(Out):
    results: list[SearchHit]
    next_cursor: str | None
