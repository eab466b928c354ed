"""Receipts and unread counts, typing indicators, presence, and `sync` catch-up."""

from __future__ import annotations

import uuid

import pytest

from handlers import typing_indicators
from tests.test_chat_list import counting_queries, person, populate
from tests.test_messages import Room, make_room, text


@pytest.fixture
async def room(api, sockets, server) -> Room:
    return await make_room(api, sockets, server)


async def send(room: Room, count: int, by: str = "alice") -> list[dict]:
    member = getattr(room, by)
    return [
        (await member.socket.ok("message:send", text(room.chat_id, f"m{i}")))["message"]
        for i in range(count)
    ]


async def test_read_moves_forward_and_broadcasts(room: Room) -> None:
    await send(room, 3)
    data = await room.bob.socket.ok("message:read", {"chat_id": room.chat_id, "seq": 2})
    assert data == {"chat_id": room.chat_id, "seq": 2, "unread_count": 1}
    receipt = await room.alice.socket.expect("receipt")
    assert receipt == {"chat_id": room.chat_id, "user_id": room.bob.id, "seq": 2, "kind": "read"}
    back = await room.bob.socket.ok("message:read", {"chat_id": room.chat_id, "seq": 1})
    assert back == {"chat_id": room.chat_id, "seq": 2, "unread_count": 1}
    done = await room.bob.socket.ok("message:read", {"chat_id": room.chat_id, "seq": 3})
    assert done["unread_count"] == 0
    assert (await room.alice.socket.expect("receipt"))["seq"] == 3
    assert room.alice.socket.pending("receipt") == []


async def test_own_and_deleted_messages_are_not_unread(room: Room) -> None:
    await send(room, 2, by="bob")
    theirs = await send(room, 2, by="alice")
    await room.alice.socket.ok(
        "message:delete", {"message_id": theirs[0]["id"], "scope": "everyone"}
    )
    data = await room.bob.socket.ok("message:read", {"chat_id": room.chat_id, "seq": 0})
    assert data["unread_count"] == 1


async def test_read_beyond_last_seq_is_refused(room: Room) -> None:
    await send(room, 1)
    for event in ("message:read", "message:delivered"):
        error = await room.bob.socket.error(event, {"chat_id": room.chat_id, "seq": 2})
        assert error["code"] == "bad_request" and "seq" in error["details"]["fields"]
        error = await room.bob.socket.error(event, {"chat_id": room.chat_id, "seq": -1})
        assert error["code"] == "bad_request"


async def test_delivered_receipt(room: Room) -> None:
    await send(room, 2)
    assert await room.bob.socket.ok("message:delivered", {"chat_id": room.chat_id, "seq": 2}) == {}
    receipt = await room.alice.socket.expect("receipt")
    assert receipt["kind"] == "delivered" and receipt["seq"] == 2


async def test_receipts_and_typing_refuse_outsiders(room: Room) -> None:
    await send(room, 1)
    unknown = str(uuid.uuid4())
    for event, payload in [
        ("message:read", {"seq": 1}),
        ("message:delivered", {"seq": 1}),
        ("typing", {"typing": True}),
    ]:
        real = await room.carol.socket.error(event, {"chat_id": room.chat_id, **payload})
        fake = await room.carol.socket.error(event, {"chat_id": unknown, **payload})
        assert real == fake and real["code"] == "not_found"


async def test_typing_goes_to_others_and_is_throttled(room: Room) -> None:
    for _ in range(20):
        await room.bob.socket.ok("typing", {"chat_id": room.chat_id, "typing": True})
    first = await room.alice.socket.expect("typing")
    assert first == {"chat_id": room.chat_id, "user_id": room.bob.id, "typing": True}
    await room.bob.socket.ok("typing", {"chat_id": room.chat_id, "typing": False})
    stopped = await room.alice.socket.expect("typing")
    assert stopped["typing"] is False
    assert room.alice.socket.pending("typing") == []
    assert room.bob.socket.pending("typing") == []


async def test_typing_ends_by_itself(start_server, api, sockets, monkeypatch) -> None:
    monkeypatch.setattr(typing_indicators, "TYPING_TTL_SECONDS", 0.3)
    server = await start_server()
    api.base_url = str(server.make_url("")).rstrip("/")
    room = await make_room(api, sockets, server)
    await room.bob.socket.ok("typing", {"chat_id": room.chat_id, "typing": True})
    assert (await room.alice.socket.expect("typing"))["typing"] is True
    assert (await room.alice.socket.expect("typing"))["typing"] is False


async def test_presence_first_and_last_socket(api, sockets, server) -> None:
    room = await make_room(api, sockets, server)
    base_url = str(server.make_url(""))
    second = await sockets(base_url, room.bob.account.access_token)
    await room.bob.socket.close()
    await second.close()
    offline = await room.alice.socket.expect("presence")
    assert offline["user_id"] == room.bob.id and offline["online"] is False
    assert offline["last_seen_at"]
    assert room.alice.socket.pending("presence") == []
    again = await sockets(base_url, room.bob.account.access_token)
    online = await room.alice.socket.expect("presence")
    assert online["user_id"] == room.bob.id and online["online"] is True
    await again.close()


async def test_sync_returns_everything_changed(room: Room) -> None:
    sent = await send(room, 3)
    known = sent[1]["change"]
    await room.alice.socket.ok("message:edit", {"message_id": sent[0]["id"], "content": "new"})
    await room.alice.socket.ok("message:delete", {"message_id": sent[1]["id"], "scope": "everyone"})
    data = await room.bob.socket.ok("sync", {"chats": {room.chat_id: known}})
    changes = data["chats"][room.chat_id]
    assert [m["seq"] for m in changes["messages"]] == [3, 1, 2]
    by_seq = {m["seq"]: m for m in changes["messages"]}
    assert by_seq[1]["content"] == "new" and by_seq[2]["deleted_at"]
    assert changes["has_more"] is False and data["removed"] == []
    again = await room.bob.socket.ok("sync", {"chats": {room.chat_id: changes["last_change"]}})
    assert again["chats"][room.chat_id]["messages"] == []


async def test_sync_pages_and_reports_removed(api, sockets, server, monkeypatch) -> None:
    monkeypatch.setattr("handlers.sync.SYNC_PAGE", 2)
    room = await make_room(api, sockets, server)
    await send(room, 5)
    page = await room.bob.socket.ok("sync", {"chats": {room.chat_id: 0}})
    first = page["chats"][room.chat_id]
    assert [m["seq"] for m in first["messages"]] == [1, 2] and first["has_more"] is True
    rest = await room.bob.socket.ok("sync", {"chats": {room.chat_id: first["last_change"]}})
    assert [m["seq"] for m in rest["chats"][room.chat_id]["messages"]] == [3, 4]
    outsider = await room.carol.socket.ok("sync", {"chats": {room.chat_id: 0}})
    assert outsider == {"chats": {}, "removed": [room.chat_id]}


async def test_reconnecting_client_loses_nothing(api, sockets, server) -> None:
    room = await make_room(api, sockets, server)
    before = await send(room, 1)
    await room.bob.socket.close()
    await send(room, 2)
    await room.alice.socket.ok("message:edit", {"message_id": before[0]["id"], "content": "e"})
    bob = await sockets(str(server.make_url("")), room.bob.account.access_token)
    data = await bob.ok("sync", {"chats": {room.chat_id: before[0]["change"]}})
    messages = data["chats"][room.chat_id]["messages"]
    assert {m["seq"] for m in messages} == {1, 2, 3}
    assert next(m for m in messages if m["seq"] == 1)["content"] == "e"


@pytest.mark.parametrize(
    "payload", [{"chats": []}, {"chats": {"not-a-uuid": 1}}, {"chats": {str(uuid.uuid4()): -1}}]
)
async def test_sync_rejects_bad_payloads(room: Room, payload) -> None:
    assert (await room.bob.socket.error("sync", payload))["code"] == "bad_request"


async def test_sync_query_count_does_not_grow_with_chats(api, sockets, server) -> None:
    few, many, other = [await person(api, sockets, server) for _ in range(3)]
    await populate(few, other, 2)
    await populate(many, other, 9)
    few_known, many_known = [
        {"chats": {c["id"]: 0 for c in (await who.socket.ok("chat:list", {}))["chats"]}}
        for who in (few, many)
    ]
    with counting_queries() as log_few:
        few_data = await few.socket.ok("sync", few_known)
    with counting_queries() as log_many:
        many_data = await many.socket.ok("sync", many_known)
    assert len(few_data["chats"]) == 2 and len(many_data["chats"]) == 9
    counts = sorted(len(c["messages"]) for c in many_data["chats"].values())
    assert counts == [2] + [3] * 8  # the first chat's newest was deleted for the caller only
    assert len(log_few.statements) == len(log_many.statements), log_many.statements
