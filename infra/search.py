"""Full-text search over messages: PostgreSQL tsvector or SQLite FTS5, behind one interface.

The index is kept by the database itself (migrations/0002_search.py): PostgreSQL has a
generated `search_vector` column with a GIN index; SQLite an external-content FTS5 table kept
by triggers. Deleted and encrypted messages are never indexed; an edit re-indexes.

Both return hits ordered by a `rank` (higher first, ties by id) that depends only on the
message, the query and the search's `anchor` time, so a keyset cursor over (rank, id) stays
stable while messages keep arriving:
- PostgreSQL: `ts_rank_cd` divided by (1 + age at the anchor / 30 days);
- SQLite: newest first (FTS5's bm25 depends on the whole corpus, which would move pages).
Highlights mark matches with MARK_START/MARK_END; the caller escapes and renders them.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infra import db

MARK_START, MARK_END = "\ue000", "\ue001"
RECENCY_SECONDS = 30 * 86400
TEXT_CONFIG = "simple"
"""No stemming and no stop words: the same words match in every language (as in FTS5)."""


@dataclass(frozen=True)
class Position:
    rank: float
    message_id: uuid.UUID


@dataclass(frozen=True)
class SearchQuery:
    text: str
    user_id: uuid.UUID
    chat_id: uuid.UUID | None
    anchor: datetime
    after: Position | None
    limit: int


@dataclass(frozen=True)
class Hit:
    message_id: uuid.UUID
    chat_id: uuid.UUID
    rank: float
    highlight: str


class SearchBackend(ABC):
    @abstractmethod
    async def search(self, query: SearchQuery) -> list[Hit]:
        """Visible, undeleted, unencrypted matches in the user's chats, minus their own hides."""


def _hits(rows: list[dict[str, Any]]) -> list[Hit]:
    return [
        Hit(
            message_id=uuid.UUID(str(row["id"])),
            chat_id=uuid.UUID(str(row["chat_id"])),
            rank=float(row["rank"]),
            highlight=row["highlight"] or "",
        )
        for row in rows
    ]


class PostgresSearch(SearchBackend):
    HEADLINE = f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=35, MinWords=15'
    SQL = f"""
        WITH q AS (SELECT websearch_to_tsquery('{TEXT_CONFIG}', $1) AS query),
        matches AS (
            SELECT m.id, m.chat_id, m.content,
                   ts_rank_cd(m.search_vector, q.query)::float8
                   / (1 + EXTRACT(EPOCH FROM ($3::timestamptz - m.created_at))::float8
                          / {RECENCY_SECONDS}) AS rank
            FROM messages m
            JOIN memberships mb ON mb.chat_id = m.chat_id AND mb.user_id = $2
            CROSS JOIN q
            WHERE m.search_vector @@ q.query
              AND m.visibility = 'visible' AND m.deleted_at IS NULL AND NOT m.encrypted
              AND m.created_at <= $3::timestamptz
              AND ($4::uuid IS NULL OR m.chat_id = $4::uuid)
              AND NOT EXISTS (SELECT 1 FROM message_hides h
                              WHERE h.message_id = m.id AND h.user_id = $2)
        ),
        page AS (
            SELECT * FROM matches
            WHERE $5::float8 IS NULL OR (rank, id) < ($5::float8, $6::uuid)
            ORDER BY rank DESC, id DESC
            LIMIT $7
        )
        SELECT page.id, page.chat_id, page.rank,
               ts_headline('{TEXT_CONFIG}', page.content, q.query, $8) AS highlight
        FROM page CROSS JOIN q
        ORDER BY page.rank DESC, page.id DESC
    """

    async def search(self, query: SearchQuery) -> list[Hit]:
        after = query.after
        rows = await db.current().execute_query_dict(
            self.SQL,
            [
                query.text,
                query.user_id,
                query.anchor,
                query.chat_id,
                after.rank if after else None,
                after.message_id if after else None,
                query.limit,
                self.HEADLINE,
            ],
        )
        return _hits(rows)


class SqliteSearch(SearchBackend):
    SQL = """
        WITH matches AS (
            SELECT m.id, m.chat_id, julianday(m.created_at) AS rank,
                   snippet(messages_fts, 0, ?, ?, '…', 24) AS highlight
            FROM messages_fts
            JOIN messages m ON m.rowid = messages_fts.rowid
            JOIN memberships mb ON mb.chat_id = m.chat_id AND mb.user_id = ?
            WHERE messages_fts MATCH ?
              AND m.visibility = 'visible' AND m.deleted_at IS NULL AND NOT m.encrypted
              AND julianday(m.created_at) <= julianday(?)
              AND (? IS NULL OR m.chat_id = ?)
              AND NOT EXISTS (SELECT 1 FROM message_hides h
                              WHERE h.message_id = m.id AND h.user_id = ?)
        )
        SELECT id, chat_id, rank, highlight FROM matches
        WHERE ? IS NULL OR (rank, id) < (?, ?)
        ORDER BY rank DESC, id DESC
        LIMIT ?
    """

    async def search(self, query: SearchQuery) -> list[Hit]:
        expression = fts5_expression(query.text)
        if expression is None:
            return []
        user = str(query.user_id)
        chat = str(query.chat_id) if query.chat_id else None
        after = query.after
        rank = after.rank if after else None
        after_id = str(after.message_id) if after else None
        rows = await db.current().execute_query_dict(
            self.SQL,
            [MARK_START, MARK_END, user, expression, query.anchor.isoformat(), chat, chat, user,
             rank, rank, after_id, query.limit],
        )  # fmt: skip
        return _hits(rows)


_TOKEN = re.compile(r'(?P<neg>-?)(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')


def _literal(text: str) -> str | None:
    """An FTS5 string (operators and column filters inside it are plain text), or None
    when it holds no word characters (FTS5 would find nothing, or refuse it)."""
    if not any(ch.isalnum() for ch in text):
        return None
    return '"' + text.replace('"', '""') + '"'


def fts5_expression(text: str) -> str | None:
    """User text -> a safe FTS5 query with web-search syntax: words and "phrases" must all
    match, `or` between two of them lets either match, a leading `-` excludes. Every piece
    of user text ends up inside an FTS5 string, so nothing typed can change the syntax.
    """
    groups: list[list[str]] = []
    excluded: list[str] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        raw = match["phrase"] if match["phrase"] is not None else match["word"]
        if not match["neg"] and match["word"] and raw.lower() == "or":
            pending_or = bool(groups)
            continue
        literal = _literal(raw)
        if literal is None:
            continue
        if match["neg"]:
            excluded.append(literal)
        elif pending_or:
            groups[-1].append(literal)
        else:
            groups.append([literal])
        pending_or = False
    if not groups:
        return None
    expression = " AND ".join("(" + " OR ".join(group) + ")" for group in groups)
    if excluded:
        expression = f"({expression}) NOT ({' OR '.join(excluded)})"
    return expression


def backend() -> SearchBackend:
    return PostgresSearch() if db.is_postgres() else SqliteSearch()
