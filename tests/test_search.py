"""GET /api/messages/search against a real server (PostgreSQL tsvector and SQLite FTS5)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients import Account, Api
from tests.test_admin import make_admin
from tests.test_messages import Room, make_room, text

SEARCH = "/api/messages/search"


@pytest.fixture
async def room(api: Api, sockets: Any, server: Any) -> Room:
    return await make_room(api, sockets, server)


async def search(api: Api, account: Account, **params: Any) -> tuple[int, Any]:
    return await api.get(SEARCH, params=params, token=account.access_token)


async def found(api: Api, account: Account, q: str, **params: Any) -> list[str]:
    """Contents of the hits, best first."""
    status, body = await search(api, account, q=q, **params)
    assert status == 200, body
    return [hit["message"]["content"] for hit in body["results"]]


async def say(member: Any, chat_id: str, content: str, **extra: Any) -> dict[str, Any]:
    return (await member.socket.ok("message:send", text(chat_id, content, **extra)))["message"]


async def test_finds_messages_in_the_callers_chats_only(api: Api, room: Room) -> None:
    sent = await say(room.alice, room.chat_id, "Pineapple pizza on Friday")
    own = (
        await room.carol.socket.ok(
            "chat:create", {"type": "group", "name": "Solo", "member_ids": []}
        )
    )["chat"]
    await say(room.carol, own["id"], "pineapple is my secret")
    status, body = await search(api, room.bob.account, q="pineapple")
    assert status == 200 and body["next_cursor"] is None
    assert body["results"] == [
        {
            "message": sent,
            "chat_id": room.chat_id,
            "highlight": "<mark>Pineapple</mark> pizza on Friday",
        }
    ]
    assert await found(api, room.carol.account, "PINEAPPLE") == ["pineapple is my secret"]
    assert await found(api, room.bob.account, "pineapple", chat_id=room.chat_id) == [
        "Pineapple pizza on Friday"
    ]
    for chat_id in (own["id"], "00000000-0000-4000-8000-000000000000"):
        status, body = await search(api, room.bob.account, q="pineapple", chat_id=chat_id)
        assert status == 404 and body["error"]["code"] == "not_found"


async def test_deleted_hidden_encrypted_and_self_deleted_messages_never_match(
    api: Api, room: Room
) -> None:
    deleted = await say(room.alice, room.chat_id, "walrus one")
    mine_only = await say(room.alice, room.chat_id, "walrus two")
    await say(room.alice, room.chat_id, "walrus three", encrypted=True)
    moderated = await say(room.bob, room.chat_id, "walrus four")
    kept = await say(room.alice, room.chat_id, "walrus five")
    assert len(await found(api, room.bob.account, "walrus")) == 4

    delete = {"message_id": deleted["id"], "scope": "everyone"}
    await room.alice.socket.ok("message:delete", delete)
    await room.bob.socket.ok("message:delete", {"message_id": mine_only["id"], "scope": "me"})
    report = await room.alice.socket.ok(
        "message:report", {"message_id": moderated["id"], "reason": "rude"}
    )
    admin = await make_admin(api)
    status, body = await api.post(
        f"/api/admin/reports/{report['report_id']}/resolve",
        {"action": "hide_message"},
        token=admin.access_token,
    )
    assert status == 200, body

    assert await found(api, room.bob.account, "walrus") == [kept["content"]]
    assert await found(api, room.alice.account, "walrus") == [kept["content"], "walrus two"]
    assert await found(api, admin, "walrus") == []  # not a member of the chat


async def test_edits_are_reindexed(api: Api, room: Room) -> None:
    sent = await say(room.alice, room.chat_id, "meet at the lighthouse")
    await room.alice.socket.ok(
        "message:edit", {"message_id": sent["id"], "content": "meet at the harbour"}
    )
    assert await found(api, room.bob.account, "lighthouse") == []
    assert await found(api, room.bob.account, "harbour") == ["meet at the harbour"]


async def test_cursor_pages_are_stable_while_messages_arrive(api: Api, room: Room) -> None:
    for number in range(7):
        await say(room.alice, room.chat_id, f"kiwi number {number}")
    pages: list[list[str]] = []
    cursor = None
    while True:
        params = {"q": "kiwi", "limit": 3, **({"cursor": cursor} if cursor else {})}
        status, body = await search(api, room.bob.account, **params)
        assert status == 200, body
        pages.append([hit["message"]["content"] for hit in body["results"]])
        cursor = body["next_cursor"]
        if len(pages) == 1:
            await say(room.bob, room.chat_id, "kiwi arrived meanwhile")
        if cursor is None:
            break
    # Equally relevant, so the newest come first; the late message never joins this walk.
    expected = [f"kiwi number {n}" for n in range(6, -1, -1)]
    assert pages == [expected[:3], expected[3:6], expected[6:]]
    assert (await found(api, room.bob.account, "kiwi", limit=1)) == ["kiwi arrived meanwhile"]


async def test_relevance_then_recency(api: Api, room: Room, database_url: str) -> None:
    """PostgreSQL ranks by ts_rank_cd damped by age; SQLite (embedded) is newest first."""
    await say(room.alice, room.chat_id, "mango mango mango")
    await say(room.alice, room.chat_id, "a mango with lots of other words around it")
    hits = await found(api, room.bob.account, "mango")
    if database_url.startswith("postgres"):
        assert hits[0] == "mango mango mango"
    else:
        assert hits[0] == "a mango with lots of other words around it"


async def test_fts_operators_and_quotes_are_safe(api: Api, room: Room) -> None:
    fox = await say(room.alice, room.chat_id, "the quick brown fox")
    thinking = await say(room.alice, room.chat_id, "quick thinking here")
    dog = await say(room.alice, room.chat_id, "lazy dog sleeps")
    bob = room.bob.account
    assert await found(api, bob, '"quick brown"') == [fox["content"]]
    assert await found(api, bob, '"brown quick"') == []
    assert await found(api, bob, "quick -brown") == [thinking["content"]]
    assert await found(api, bob, "fox or dog") == [dog["content"], fox["content"]]
    assert await found(api, bob, "quick fox") == [fox["content"]]
    assert await found(api, bob, "quick*") == [thinking["content"], fox["content"]]
    hostile = [
        '"unclosed quote',
        "quick AND OR NOT",
        "content:quick",
        "NEAR(quick fox)",
        "^quick",
        "'); DROP TABLE messages; --",
        '"',
        "***",
        "-",
        "or",
        "\\",
        "(((",
        "quick\x00fox",
        '"" "" ""',
    ]
    for q in hostile:
        status, body = await search(api, bob, q=q)
        assert status == 200, (q, body)
    assert await found(api, bob, "'); DROP TABLE messages; --") == []
    assert len(await found(api, bob, "quick")) == 2


async def test_highlights_are_escaped_html(api: Api, room: Room) -> None:
    await say(room.alice, room.chat_id, '<img src=x onerror=alert(1)> quick & "dirty"')
    _, body = await search(api, room.bob.account, q="dirty")
    highlight = body["results"][0]["highlight"]
    assert "<img" not in highlight and "&lt;img" in highlight
    assert "<mark>dirty</mark>" in highlight and "&amp;" in highlight


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "word " * 2048}, "q"),  # 10 KB of text
        ({"q": "x", "limit": "0"}, "limit"),
        ({"q": "x", "limit": "51"}, "limit"),
        ({"q": "x", "limit": "many"}, "limit"),
        ({"q": "x", "chat_id": "nope"}, "chat_id"),
        ({"q": "x", "cursor": "not-a-cursor"}, "cursor"),
        ({"q": "x", "cursor": "eyJhbmNob3IiOiAxfQ"}, "cursor"),
        ({"q": "x", "sort": "new"}, "sort"),
    ],
)
async def test_bad_queries_are_bad_request(
    api: Api, room: Room, params: dict[str, str], field: str
) -> None:
    status, body = await search(api, room.bob.account, **params)
    assert status == 400 and body["error"]["code"] == "bad_request", body
    assert field in body["error"]["details"]["fields"]


async def test_search_needs_a_token(api: Api) -> None:
    status, body = await api.get(SEARCH, params={"q": "x"})
    assert status == 401 and body["error"]["code"] == "unauthorized"
