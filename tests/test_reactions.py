"""reaction:add / reaction:remove over real sockets, and their catch-up through `sync`."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.clients import Api
from tests.test_admin import make_admin
from tests.test_admin_reports import resolve
from tests.test_messages import Room, make_room, text


@pytest.fixture
async def room(api, sockets, server) -> Room:
    return await make_room(api, sockets, server)


async def sent_by_alice(room: Room) -> dict[str, Any]:
    message = (await room.alice.socket.ok("message:send", text(room.chat_id)))["message"]
    await room.bob.socket.expect("message:new")
    return message


def react(message: dict[str, Any], emoji: str) -> dict[str, str]:
    return {"message_id": message["id"], "emoji": emoji}


async def history(member, chat_id: str) -> list[dict[str, Any]]:
    return (await member.socket.ok("message:history", {"chat_id": chat_id}))["messages"]


async def test_add_broadcasts_full_state_and_bumps_change(room: Room) -> None:
    message = await sent_by_alice(room)
    await room.alice.socket.ok("reaction:add", react(message, "👍"))
    data = await room.bob.socket.ok("reaction:add", react(message, "👍"))
    expected = {"👍": {"count": 2, "user_ids": [room.alice.id, room.bob.id]}}
    assert data == {"message_id": message["id"], "reactions": expected}
    first = await room.alice.socket.expect("reaction:updated")
    assert first["reactions"] == {"👍": {"count": 1, "user_ids": [room.alice.id]}}
    second = await room.alice.socket.expect("reaction:updated")
    assert second == {"message_id": message["id"], "chat_id": room.chat_id, "reactions": expected}
    [stored] = await history(room.bob, room.chat_id)
    assert stored["reactions"] == expected and stored["change"] == message["change"] + 2


async def test_add_and_remove_are_idempotent(room: Room) -> None:
    message = await sent_by_alice(room)
    once = await room.bob.socket.ok("reaction:add", react(message, "🎉"))
    twice = await room.bob.socket.ok("reaction:add", react(message, "🎉"))
    assert once == twice and once["reactions"]["🎉"]["count"] == 1
    [after_add] = await history(room.bob, room.chat_id)
    removed = await room.bob.socket.ok("reaction:remove", react(message, "🎉"))
    again = await room.bob.socket.ok("reaction:remove", react(message, "🎉"))
    never_added = await room.bob.socket.ok("reaction:remove", react(message, "😀"))
    assert removed == again == never_added == {"message_id": message["id"], "reactions": {}}
    [after_remove] = await history(room.bob, room.chat_id)
    assert after_add["change"] == message["change"] + 1
    assert after_remove["change"] == after_add["change"] + 1
    broadcasts = [await room.alice.socket.expect("reaction:updated") for _ in range(2)]
    assert [b["reactions"] for b in broadcasts] == [once["reactions"], {}]
    await room.bob.socket.ok("reaction:add", react(message, "👀"))
    next_one = await room.alice.socket.expect("reaction:updated")
    assert list(next_one["reactions"]) == ["👀"], "a repeat must not broadcast"


@pytest.mark.parametrize("emoji", ["👍🏽", "👨‍👩‍👧", "🏳️‍🌈", "🇫🇷", "1️⃣", "❤️", "👩🏽‍❤️‍💋‍👩🏼"])
async def test_single_emoji_sequences_are_accepted(room: Room, emoji: str) -> None:
    message = await sent_by_alice(room)
    data = await room.bob.socket.ok("reaction:add", react(message, emoji))
    assert data["reactions"] == {emoji: {"count": 1, "user_ids": [room.bob.id]}}


NOT_ONE_EMOJI = [
    "a",
    "👍👍",
    "👍🏽😀",
    "",
    " 👍",
    "👍 ",
    ":thumbsup:",
    "😀x",
    "x" * 10_000,
    5,
    None,
]


@pytest.mark.parametrize("emoji", NOT_ONE_EMOJI)
async def test_text_that_is_not_one_emoji_is_refused(room: Room, emoji: Any) -> None:
    message = await sent_by_alice(room)
    error = await room.bob.socket.error("reaction:add", react(message, emoji))
    assert error["code"] == "bad_request" and "emoji" in error["details"]["fields"]
    error = await room.bob.socket.error("reaction:remove", react(message, emoji))
    assert error["code"] == "bad_request"
    assert (await history(room.bob, room.chat_id))[0]["reactions"] == {}


@pytest.mark.parametrize(
    "payload", [{}, {"message_id": "nope", "emoji": "👍"}, {"emoji": "👍"}, {"extra": 1}]
)
async def test_malformed_payloads(room: Room, payload: dict[str, Any]) -> None:
    message = await sent_by_alice(room)
    body = {**react(message, "👍"), **payload} if "extra" in payload else payload
    assert (await room.bob.socket.error("reaction:add", body))["code"] == "bad_request"


async def test_deleted_message_is_a_conflict(room: Room) -> None:
    message = await sent_by_alice(room)
    await room.bob.socket.ok("reaction:add", react(message, "👍"))
    await room.alice.socket.ok("message:delete", {"message_id": message["id"], "scope": "everyone"})
    for event in ("reaction:add", "reaction:remove"):
        assert (await room.bob.socket.error(event, react(message, "😀")))["code"] == "conflict"
    assert (await room.bob.socket.error("reaction:remove", react(message, "👍")))[
        "code"
    ] == "conflict"


async def test_message_hidden_by_moderation_is_a_conflict(api, room: Room) -> None:
    message = await sent_by_alice(room)
    report = await room.bob.socket.ok(
        "message:report", {"message_id": message["id"], "reason": "spam"}
    )
    admin = await make_admin(api)
    status, _ = await resolve(api, admin, report["report_id"], action="hide_message")
    assert status == 200
    for event in ("reaction:add", "reaction:remove"):
        assert (await room.bob.socket.error(event, react(message, "👍")))["code"] == "conflict"
    assert (await history(room.bob, room.chat_id))[0]["reactions"] == {}


async def test_outsider_and_deleted_for_me_look_unknown(room: Room) -> None:
    message = await sent_by_alice(room)
    unknown = react({"id": str(uuid.uuid4())}, "👍")
    for event in ("reaction:add", "reaction:remove"):
        on_real = await room.carol.socket.error(event, react(message, "👍"))
        on_unknown = await room.carol.socket.error(event, unknown)
        assert on_real == on_unknown and on_real["code"] == "not_found"
    await room.bob.socket.ok("message:delete", {"message_id": message["id"], "scope": "me"})
    on_hidden = await room.bob.socket.error("reaction:add", react(message, "👍"))
    assert on_hidden == await room.bob.socket.error("reaction:add", unknown)
    assert (await history(room.alice, room.chat_id))[0]["reactions"] == {}


async def test_distinct_emoji_cap(start_server, api, sockets) -> None:
    server = await start_server(max_distinct_reactions=3)
    api = Api(api.http, str(server.make_url("")).rstrip("/"))
    room = await make_room(api, sockets, server)
    message = await sent_by_alice(room)
    for emoji in ("😀", "😂", "😍"):
        await room.alice.socket.ok("reaction:add", react(message, emoji))
    error = await room.bob.socket.error("reaction:add", react(message, "🤯"))
    assert error["code"] == "conflict" and error["details"] == {"max_distinct_reactions": 3}
    data = await room.bob.socket.ok("reaction:add", react(message, "😂"))
    assert list(data["reactions"]) == ["😀", "😂", "😍"] and data["reactions"]["😂"]["count"] == 2


async def test_concurrent_reactions_count_exactly(room: Room) -> None:
    message = await sent_by_alice(room)
    emojis = ["😀", "😂", "😍", "🤯", "👍"]
    calls = [
        member.socket.ok("reaction:add", react(message, emoji))
        for member in (room.alice, room.bob)
        for emoji in emojis
    ]
    await asyncio.gather(*calls)
    [stored] = await history(room.alice, room.chat_id)
    assert {e: r["count"] for e, r in stored["reactions"].items()} == dict.fromkeys(emojis, 2)
    assert stored["change"] == message["change"] + 10


async def test_reconnecting_client_catches_up_reactions_through_sync(api, sockets, server) -> None:
    room = await make_room(api, sockets, server)
    kept, touched = await sent_by_alice(room), await sent_by_alice(room)
    await room.bob.socket.ok("reaction:add", react(touched, "🔥"))
    await room.bob.socket.close()
    await room.alice.socket.ok("reaction:add", react(touched, "👍"))
    await room.alice.socket.ok("reaction:add", react(kept, "😀"))
    await room.alice.socket.ok("reaction:remove", react(kept, "😀"))
    bob = await sockets(str(server.make_url("")), room.bob.account.access_token)
    data = await bob.ok("sync", {"chats": {room.chat_id: touched["change"] + 1}})
    changes = data["chats"][room.chat_id]
    by_id = {m["id"]: m for m in changes["messages"]}
    assert by_id[touched["id"]]["reactions"] == {
        "🔥": {"count": 1, "user_ids": [room.bob.id]},
        "👍": {"count": 1, "user_ids": [room.alice.id]},
    }
    assert by_id[kept["id"]]["reactions"] == {}
    assert changes["last_change"] == touched["change"] + 4
