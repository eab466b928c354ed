"""Calls over real sockets: ringing, accept, signal relay, end, reject, missed, dropped."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients import Api, SocketClient
from tests.test_messages import Member, Room, join, make_room, text

STUN = [{"urls": "stun:stun.l.google.com:19302"}]


@pytest.fixture
async def room(api, sockets, server) -> Room:
    return await make_room(api, sockets, server)


async def room_on(start_server, http, sockets, **settings: Any) -> Room:
    """A fresh server with these settings, and alice/bob/carol on it (see make_room)."""
    server = await start_server(**settings)
    return await make_room(Api(http, str(server.make_url("")).rstrip("/")), sockets, server)


async def start(member: Member, chat_id: str, kind: str = "video") -> dict[str, Any]:
    return await member.socket.ok("call:start", {"chat_id": chat_id, "kind": kind})


async def accept(member: Member, call_id: str) -> dict[str, Any]:
    return await member.socket.ok("call:accept", {"call_id": call_id})


async def active_call(room: Room) -> dict[str, Any]:
    """alice calls bob in the room and bob accepts; both have seen `call:accepted`."""
    call = (await start(room.alice, room.chat_id))["call"]
    await room.bob.socket.expect("call:incoming")
    await accept(room.bob, call["id"])
    await room.alice.socket.expect("call:accepted")
    await room.bob.socket.expect("call:accepted")
    return call


async def call_record(socket: SocketClient, call_id: str) -> dict[str, Any]:
    """The `call` system message a member receives when the call ends."""
    data = await socket.expect_match(
        "message:new", lambda d: (d["message"]["meta"] or {}).get("call_id") == call_id
    )
    return data["message"]


async def test_whole_call_ringing_accept_signal_end(room: Room, sockets, server) -> None:
    started = await start(room.alice, room.chat_id)
    call = started["call"]
    assert call["status"] == "ringing" and call["kind"] == "video"
    assert call["chat_id"] == room.chat_id and call["initiator_id"] == room.alice.id
    assert call["participant_ids"] == [room.alice.id, room.bob.id]
    assert call["room_name"] and call["started_at"] is None and call["duration_seconds"] is None
    assert started["ice_servers"] == STUN and "twilio" not in started
    assert await room.bob.socket.expect("call:incoming") == {"call": call}

    accepted = await accept(room.bob, call["id"])
    assert accepted["call"]["status"] == "active" and accepted["call"]["started_at"]
    assert accepted["ice_servers"] == STUN and "twilio" not in accepted
    broadcast = {"call": accepted["call"], "user_id": room.bob.id}
    assert await room.alice.socket.expect("call:accepted") == broadcast
    assert await room.bob.socket.expect("call:accepted") == broadcast

    bob_phone = await sockets(str(server.make_url("")), room.bob.account.access_token)
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
    signal = {"call_id": call["id"], "to_user_id": room.bob.id, "data": offer}
    assert await room.alice.socket.ok("call:signal", signal) == {}
    relayed = {"call_id": call["id"], "from_user_id": room.alice.id, "data": offer}
    assert await room.bob.socket.expect("call:signal") == relayed
    assert await bob_phone.expect("call:signal") == relayed
    candidate = {"candidate": "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host"}
    answer = {"call_id": call["id"], "to_user_id": room.alice.id, "data": candidate}
    await room.bob.socket.ok("call:signal", answer)
    first = await room.alice.socket.expect("call:signal")
    assert first == {"call_id": call["id"], "from_user_id": room.bob.id, "data": candidate}

    ended = (await room.alice.socket.ok("call:end", {"call_id": call["id"]}))["call"]
    assert ended["status"] == "ended" and ended["ended_at"]
    assert isinstance(ended["duration_seconds"], int) and ended["duration_seconds"] >= 0
    assert await room.bob.socket.expect("call:ended") == {"call": ended, "reason": "hangup"}
    record = await call_record(room.bob.socket, call["id"])
    assert record["type"] == "call" and record["sender_id"] == room.alice.id
    assert record["content"] is None and record["seq"] == 1
    assert record["meta"] == {
        "call_id": call["id"],
        "kind": "video",
        "status": "ended",
        "duration_seconds": ended["duration_seconds"],
    }
    history = await room.bob.socket.ok("message:history", {"chat_id": room.chat_id})
    assert history["messages"] == [record]

    again = await room.alice.socket.ok("call:end", {"call_id": call["id"]})
    assert again == {"call": ended}
    after = await room.alice.socket.ok("message:send", text(room.chat_id, "bye"))
    assert (await room.bob.socket.expect("message:new")) == after
    assert room.bob.socket.pending("call:ended") == []
    assert room.alice.socket.pending("call:incoming") == []
    assert room.carol.socket.pending("call:incoming") == []


async def test_starting_again_returns_the_live_call_or_conflict(room: Room) -> None:
    call = (await start(room.alice, room.chat_id, "audio"))["call"]
    again = await start(room.alice, room.chat_id, "video")
    assert again["call"] == call and call["kind"] == "audio"
    error = await room.bob.socket.error("call:start", {"chat_id": room.chat_id, "kind": "audio"})
    assert error["code"] == "conflict" and error["details"] == {"call_id": call["id"]}
    await accept(room.bob, call["id"])
    assert (await start(room.bob, room.chat_id))["call"]["id"] == call["id"]
    await room.bob.socket.ok("call:end", {"call_id": call["id"]})
    fresh = (await start(room.bob, room.chat_id))["call"]
    assert fresh["id"] != call["id"] and fresh["initiator_id"] == room.bob.id


async def test_rejected_dm_call_ends_as_rejected(room: Room) -> None:
    dm = await room.alice.socket.ok("chat:create", {"type": "dm", "user_id": room.bob.id})
    chat_id = dm["chat"]["id"]
    call = (await start(room.alice, chat_id, "audio"))["call"]
    await room.bob.socket.expect("call:incoming")
    rejected = (await room.bob.socket.ok("call:reject", {"call_id": call["id"]}))["call"]
    assert rejected["status"] == "rejected" and rejected["duration_seconds"] is None
    event = await room.alice.socket.expect("call:rejected")
    assert event == {"call": rejected, "user_id": room.bob.id}
    assert await room.alice.socket.expect("call:ended") == {"call": rejected, "reason": "rejected"}
    record = await call_record(room.alice.socket, call["id"])
    assert record["meta"]["status"] == "rejected" and record["meta"]["kind"] == "audio"
    assert record["meta"]["duration_seconds"] is None and record["chat_id"] == chat_id


async def test_group_call_rings_on_after_one_rejects(api, sockets, server, room: Room) -> None:
    dave = await join(api, sockets, str(server.make_url("")))
    await room.alice.socket.ok("chat:add_members", {"chat_id": room.chat_id, "user_ids": [dave.id]})
    call = (await start(room.alice, room.chat_id))["call"]
    assert set(call["participant_ids"]) == {room.alice.id, room.bob.id, dave.id}
    await dave.socket.expect("call:incoming")
    rejected = (await room.bob.socket.ok("call:reject", {"call_id": call["id"]}))["call"]
    assert rejected["status"] == "ringing"
    assert (await dave.socket.expect("call:rejected"))["user_id"] == room.bob.id
    assert (await accept(dave, call["id"]))["call"]["status"] == "active"
    assert (await room.alice.socket.expect("call:accepted"))["user_id"] == dave.id
    ended = (await dave.socket.ok("call:end", {"call_id": call["id"]}))["call"]
    assert (await room.bob.socket.expect("call:ended"))["call"] == ended


async def test_unanswered_call_is_missed(start_server, http, sockets) -> None:
    room = await room_on(start_server, http, sockets, call_ring_timeout_seconds=0.5)
    call = (await start(room.alice, room.chat_id))["call"]
    await room.bob.socket.expect("call:incoming")
    for member in (room.alice, room.bob):
        ended = await member.socket.expect("call:ended")
        assert ended["reason"] == "no_answer" and ended["call"]["id"] == call["id"]
        assert ended["call"]["status"] == "missed" and ended["call"]["started_at"] is None
        record = await call_record(member.socket, call["id"])
        assert record["meta"]["status"] == "missed" and record["meta"]["duration_seconds"] is None
    error = await room.bob.socket.error("call:accept", {"call_id": call["id"]})
    assert error["code"] == "conflict"


async def test_dropped_participant_leaves_after_grace(start_server, http, sockets) -> None:
    room = await room_on(start_server, http, sockets, call_rejoin_grace_seconds=0.3)
    call = await active_call(room)
    await room.bob.socket.close()
    ended = await room.alice.socket.expect("call:ended")
    assert ended["reason"] == "left" and ended["call"]["id"] == call["id"]
    assert ended["call"]["status"] == "ended" and ended["call"]["duration_seconds"] >= 0
    record = await call_record(room.alice.socket, call["id"])
    assert record["meta"]["status"] == "ended"


async def test_reconnecting_within_grace_keeps_the_call(start_server, http, sockets) -> None:
    """bob drops and comes back; carol drops later for good: only carol's call ends."""
    server = await start_server(call_rejoin_grace_seconds=0.3)
    room = await make_room(Api(http, str(server.make_url("")).rstrip("/")), sockets, server)
    dm = await room.alice.socket.ok("chat:create", {"type": "dm", "user_id": room.carol.id})
    group_call = await active_call(room)
    dm_call = (await start(room.alice, dm["chat"]["id"]))["call"]
    await accept(room.carol, dm_call["id"])

    await room.bob.socket.close()
    await room.alice.socket.expect_match(
        "presence", lambda d: d["user_id"] == room.bob.id and not d["online"]
    )
    bob_again = await sockets(str(server.make_url("")), room.bob.account.access_token)
    await room.carol.socket.close()

    first_end = await room.alice.socket.expect("call:ended")
    assert first_end["call"]["id"] == dm_call["id"] and first_end["reason"] == "left"
    signal = {"call_id": group_call["id"], "to_user_id": room.bob.id, "data": "still here"}
    await room.alice.socket.ok("call:signal", signal)
    assert (await bob_again.expect("call:signal"))["data"] == "still here"
