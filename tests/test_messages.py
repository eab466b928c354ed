"""message:send / history / edit / delete / report over real sockets."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.clients import Account, Api, SocketClient


@dataclass
class Member:
    account: Account
    socket: SocketClient

    @property
    def id(self) -> str:
        return self.account.id


@dataclass
class Room:
    """A group owned by alice with bob as member; carol is an outsider."""

    chat_id: str
    alice: Member
    bob: Member
    carol: Member


async def join(api: Api, sockets: Any, base_url: str) -> Member:
    account = await api.register()
    return Member(account, await sockets(base_url, account.access_token))


async def make_room(api: Api, sockets: Any, server: Any) -> Room:
    base_url = str(server.make_url(""))
    alice, bob, carol = [await join(api, sockets, base_url) for _ in range(3)]
    data = await alice.socket.ok(
        "chat:create", {"type": "group", "name": "Team", "member_ids": [bob.id]}
    )
    await bob.socket.expect("chat:new")
    return Room(data["chat"]["id"], alice, bob, carol)


@pytest.fixture
async def room(api, sockets, server) -> Room:
    return await make_room(api, sockets, server)


def text(chat_id: str, content: str = "hello", **extra: Any) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "client_id": uuid.uuid4().hex,
        "type": "text",
        "content": content,
        **extra,
    }


async def test_send_commits_and_broadcasts(room: Room) -> None:
    data = await room.alice.socket.ok("message:send", text(room.chat_id))
    message = data["message"]
    assert message["seq"] == 1 and message["change"] == 1
    assert message["sender_id"] == room.alice.id and message["content"] == "hello"
    assert message["reactions"] == {} and message["visibility"] == "visible"
    assert message["created_at"].endswith("Z")
    assert (await room.bob.socket.expect("message:new")) == {"message": message}
    assert (await room.alice.socket.expect("message:new")) == {"message": message}


async def test_same_client_id_returns_original_without_broadcast(room: Room) -> None:
    payload = text(room.chat_id)
    first = await room.alice.socket.ok("message:send", payload)
    again = await room.alice.socket.ok("message:send", payload)
    assert again == first
    second = await room.alice.socket.ok("message:send", text(room.chat_id, "next"))
    received = [await room.bob.socket.expect("message:new") for _ in range(2)]
    assert [m["message"]["seq"] for m in received] == [1, 2]
    assert received[1]["message"]["id"] == second["message"]["id"]


async def test_concurrent_sends_get_gapless_seqs_delivered_in_order(api, sockets, server) -> None:
    room = await make_room(api, sockets, server)
    await room.alice.socket.ok(
        "chat:add_members", {"chat_id": room.chat_id, "user_ids": [room.carol.id]}
    )
    senders = [room.alice.socket, room.bob.socket, room.carol.socket]
    sends = [senders[i % 3].ok("message:send", text(room.chat_id, f"m{i}")) for i in range(50)]
    acks = await asyncio.gather(*sends)
    assert sorted(a["message"]["seq"] for a in acks) == list(range(1, 51))
    for member in (room.alice, room.bob, room.carol):
        seqs = [(await member.socket.expect("message:new"))["message"]["seq"] for _ in range(50)]
        assert seqs == list(range(1, 51))


async def test_history_pages(room: Room) -> None:
    for i in range(5):
        await room.alice.socket.ok("message:send", text(room.chat_id, f"m{i}"))
    history = await room.bob.socket.ok("message:history", {"chat_id": room.chat_id, "limit": 2})
    assert [m["seq"] for m in history["messages"]] == [4, 5] and history["has_more"] is True
    older = await room.bob.socket.ok(
        "message:history", {"chat_id": room.chat_id, "before_seq": 4, "limit": 10}
    )
    assert [m["seq"] for m in older["messages"]] == [1, 2, 3] and older["has_more"] is False
    newer = await room.bob.socket.ok(
        "message:history", {"chat_id": room.chat_id, "after_seq": 2, "limit": 2}
    )
    assert [m["seq"] for m in newer["messages"]] == [3, 4] and newer["has_more"] is True
    everything = await room.bob.socket.ok("message:history", {"chat_id": room.chat_id})
    assert [m["seq"] for m in everything["messages"]] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "payload",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"before_seq": 3, "after_seq": 1},
        {"before_seq": -1},
    ],
)
async def test_history_rejects_bad_bounds(room: Room, payload: dict[str, Any]) -> None:
    error = await room.bob.socket.error("message:history", {"chat_id": room.chat_id, **payload})
    assert error["code"] == "bad_request"


async def test_edit_by_sender_broadcasts_and_bumps_change(room: Room) -> None:
    sent = (await room.alice.socket.ok("message:send", text(room.chat_id)))["message"]
    edited = (
        await room.alice.socket.ok(
            "message:edit", {"message_id": sent["id"], "content": "hello, edited"}
        )
    )["message"]
    assert edited["content"] == "hello, edited" and edited["edited_at"]
    assert edited["seq"] == sent["seq"] and edited["change"] == sent["change"] + 1
    await room.bob.socket.expect("message:new")
    assert (await room.bob.socket.expect("message:updated")) == {"message": edited}


async def test_only_sender_edits(room: Room) -> None:
    sent = (await room.alice.socket.ok("message:send", text(room.chat_id)))["message"]
    error = await room.bob.socket.error("message:edit", {"message_id": sent["id"], "content": "x"})
    assert error["code"] == "forbidden"


async def test_delete_for_everyone_leaves_tombstone(room: Room) -> None:
    sent = (await room.bob.socket.ok("message:send", text(room.chat_id)))["message"]
    data = await room.bob.socket.ok(
        "message:delete", {"message_id": sent["id"], "scope": "everyone"}
    )
    assert data == {"message_id": sent["id"]}
    await room.alice.socket.expect("message:new")
    deleted = await room.alice.socket.expect("message:deleted")
    assert deleted == {"message_id": sent["id"], "chat_id": room.chat_id}
    history = await room.alice.socket.ok("message:history", {"chat_id": room.chat_id})
    tombstone = history["messages"][0]
    assert tombstone["content"] is None and tombstone["deleted_at"]
    assert tombstone["change"] > sent["change"]
    error = await room.bob.socket.error("message:edit", {"message_id": sent["id"], "content": "x"})
    assert error["code"] == "conflict"


async def test_group_admin_deletes_others_but_member_cannot(room: Room) -> None:
    by_bob = (await room.bob.socket.ok("message:send", text(room.chat_id)))["message"]
    by_alice = (await room.alice.socket.ok("message:send", text(room.chat_id)))["message"]
    error = await room.bob.socket.error(
        "message:delete", {"message_id": by_alice["id"], "scope": "everyone"}
    )
    assert error["code"] == "forbidden"
    await room.alice.socket.ok("message:delete", {"message_id": by_bob["id"], "scope": "everyone"})


async def test_delete_for_me_hides_only_for_me(room: Room) -> None:
    sent = (await room.alice.socket.ok("message:send", text(room.chat_id)))["message"]
    await room.bob.socket.ok("message:delete", {"message_id": sent["id"], "scope": "me"})
    assert (await room.bob.socket.expect("message:deleted"))["message_id"] == sent["id"]
    mine = await room.bob.socket.ok("message:history", {"chat_id": room.chat_id})
    theirs = await room.alice.socket.ok("message:history", {"chat_id": room.chat_id})
    assert mine["messages"] == [] and [m["id"] for m in theirs["messages"]] == [sent["id"]]
    error = await room.bob.socket.error("message:edit", {"message_id": sent["id"], "content": "x"})
    assert error["code"] == "not_found"


async def test_report(room: Room) -> None:
    sent = (await room.alice.socket.ok("message:send", text(room.chat_id)))["message"]
    first = await room.bob.socket.ok("message:report", {"message_id": sent["id"], "reason": "spam"})
    again = await room.bob.socket.ok("message:report", {"message_id": sent["id"], "reason": "spam"})
    assert first == again and uuid.UUID(first["report_id"])
    own = await room.alice.socket.error("message:report", {"message_id": sent["id"], "reason": "x"})
    assert own["code"] == "bad_request"


async def test_outsider_learns_nothing(room: Room) -> None:
    sent = (await room.alice.socket.ok("message:send", text(room.chat_id)))["message"]
    unknown_chat = str(uuid.uuid4())
    unknown_message = str(uuid.uuid4())
    carol = room.carol.socket
    for event, real, fake in [
        ("message:send", text(room.chat_id), text(unknown_chat)),
        ("message:history", {"chat_id": room.chat_id}, {"chat_id": unknown_chat}),
        (
            "message:edit",
            {"message_id": sent["id"], "content": "x"},
            {"message_id": unknown_message, "content": "x"},
        ),
        (
            "message:delete",
            {"message_id": sent["id"], "scope": "everyone"},
            {"message_id": unknown_message, "scope": "everyone"},
        ),
        (
            "message:report",
            {"message_id": sent["id"], "reason": "x"},
            {"message_id": unknown_message, "reason": "x"},
        ),
    ]:
        on_real, on_fake = await carol.error(event, real), await carol.error(event, fake)
        assert on_real == on_fake and on_real["code"] == "not_found", event
    assert carol.pending("message:new") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"content": ""}, None),
        ({"content": "   "}, None),
        ({"content": None}, None),
        ({"type": "image"}, None),
        ({"type": "sticker"}, None),
        ({"type": "poll"}, "type"),
        ({"client_id": "x" * 65}, "client_id"),
        ({"client_id": 5}, "client_id"),
        ({"chat_id": "not-a-uuid"}, "chat_id"),
        ({"encrypted": "maybe"}, "encrypted"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_send_rejects_bad_payloads(room: Room, change: dict[str, Any], field: str | None):
    error = await room.alice.socket.error("message:send", {**text(room.chat_id), **change})
    assert error["code"] == "bad_request"
    if field:
        assert field in error["details"]["fields"]


@pytest.mark.parametrize("payload", ["text", ["list"], 42, None])
async def test_send_rejects_non_objects_and_keeps_socket(room: Room, payload: Any) -> None:
    ack = await room.alice.socket.sio.call("message:send", payload, timeout=5)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request"
    await room.alice.socket.ok("message:send", text(room.chat_id))


async def test_unknown_attachment_and_foreign_reply(room: Room) -> None:
    image = {**text(room.chat_id), "type": "image", "attachment_id": str(uuid.uuid4())}
    assert (await room.alice.socket.error("message:send", image))["code"] == "not_found"
    other = await room.alice.socket.ok(
        "chat:create", {"type": "group", "name": "Other", "member_ids": []}
    )
    elsewhere = await room.alice.socket.ok("message:send", text(other["chat"]["id"]))
    reply = text(room.chat_id, reply_to_id=elsewhere["message"]["id"])
    error = await room.alice.socket.error("message:send", reply)
    assert error["code"] == "bad_request" and "reply_to_id" in error["details"]["fields"]
    history = await room.alice.socket.ok("message:history", {"chat_id": room.chat_id})
    assert history["messages"] == []


async def test_reply_in_same_chat(room: Room) -> None:
    first = (await room.alice.socket.ok("message:send", text(room.chat_id)))["message"]
    reply = await room.bob.socket.ok("message:send", text(room.chat_id, reply_to_id=first["id"]))
    assert reply["message"]["reply_to_id"] == first["id"]


async def test_content_limit_and_encrypted_ciphertext(start_server, api, sockets) -> None:
    server = await start_server(max_message_chars=10)
    api = Api(api.http, str(server.make_url("")).rstrip("/"))
    room = await make_room(api, sockets, server)
    error = await room.alice.socket.error("message:send", text(room.chat_id, "x" * 11))
    assert error["code"] == "bad_request" and "content" in error["details"]["fields"]
    ciphertext = "A" * 60000
    sent = await room.alice.socket.ok(
        "message:send", text(room.chat_id, ciphertext, encrypted=True)
    )
    assert sent["message"]["content"] == ciphertext and sent["message"]["encrypted"] is True
    too_big = text(room.chat_id, "A" * 65537, encrypted=True)
    assert (await room.alice.socket.error("message:send", too_big))["code"] == "bad_request"


async def test_send_rate_limit_writes_nothing_and_spares_others(start_server, api, sockets):
    server = await start_server(message_rate_per_second=0.01, message_rate_burst=3)
    api = Api(api.http, str(server.make_url("")).rstrip("/"))
    room = await make_room(api, sockets, server)
    for _ in range(3):
        await room.alice.socket.ok("message:send", text(room.chat_id))
    error = await room.alice.socket.error("message:send", text(room.chat_id))
    assert error["code"] == "rate_limited" and error["details"]["retry_after"] >= 1
    await room.bob.socket.ok("message:send", text(room.chat_id))
    history = await room.bob.socket.ok("message:history", {"chat_id": room.chat_id})
    assert [m["seq"] for m in history["messages"]] == [1, 2, 3, 4]
