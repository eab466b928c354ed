"""Every bad call input answers the contract's error and changes nothing."""

from __future__ import annotations

import uuid

import orjson
import pytest

from models import AccountStatus, User
from tests.test_calls import accept, active_call, start
from tests.test_messages import Room, make_room

SIGNAL_MAX_BYTES = 65536


@pytest.fixture
async def room(api, sockets, server) -> Room:
    return await make_room(api, sockets, server)


async def test_starting_in_a_chat_one_is_not_in_is_not_found(room: Room) -> None:
    outsider = await room.carol.socket.error(
        "call:start", {"chat_id": room.chat_id, "kind": "video"}
    )
    unknown = await room.carol.socket.error(
        "call:start", {"chat_id": str(uuid.uuid4()), "kind": "video"}
    )
    assert outsider == unknown and outsider["code"] == "not_found"
    assert room.bob.socket.pending("call:incoming") == []


async def test_suspended_user_cannot_start(room: Room) -> None:
    await User.filter(id=room.alice.id).update(account_status=AccountStatus.SUSPENDED)
    error = await room.alice.socket.error("call:start", {"chat_id": room.chat_id, "kind": "audio"})
    assert error["code"] == "forbidden"
    await User.filter(id=room.alice.id).update(account_status=AccountStatus.ACTIVE)
    call = (await start(room.alice, room.chat_id))["call"]
    assert (await room.bob.socket.expect("call:incoming"))["call"]["id"] == call["id"]


async def test_malformed_payloads_are_bad_requests(room: Room) -> None:
    bad = [
        ("call:start", {"chat_id": room.chat_id, "kind": "hologram"}),
        ("call:start", {"chat_id": "not-a-uuid", "kind": "video"}),
        ("call:accept", {}),
        ("call:end", {"call_id": str(uuid.uuid4()), "extra": 1}),
        ("call:signal", {"call_id": str(uuid.uuid4()), "to_user_id": room.bob.id}),
        ("call:signal", {"call_id": str(uuid.uuid4()), "to_user_id": room.bob.id, "data": 5}),
    ]
    for event, payload in bad:
        error = await room.alice.socket.error(event, payload)
        assert error["code"] == "bad_request" and error["details"]["fields"], (event, error)


async def test_accepting_a_call_one_was_not_invited_to(room: Room) -> None:
    call = (await start(room.alice, room.chat_id))["call"]
    outsider = await room.carol.socket.error("call:accept", {"call_id": call["id"]})
    unknown = await room.carol.socket.error("call:accept", {"call_id": str(uuid.uuid4())})
    assert outsider == unknown and outsider["code"] == "not_found"

    await room.alice.socket.ok(
        "chat:add_members", {"chat_id": room.chat_id, "user_ids": [room.carol.id]}
    )
    late = await room.carol.socket.error("call:accept", {"call_id": call["id"]})
    assert late["code"] == "forbidden"
    assert room.alice.socket.pending("call:accepted") == []


async def test_accepting_twice_is_a_conflict(room: Room) -> None:
    call = (await start(room.alice, room.chat_id))["call"]
    own = await room.alice.socket.error("call:accept", {"call_id": call["id"]})
    assert own["code"] == "conflict"
    await accept(room.bob, call["id"])
    again = await room.bob.socket.error("call:accept", {"call_id": call["id"]})
    assert again["code"] == "conflict"
    await room.alice.socket.expect("call:accepted")
    await room.alice.socket.ok("call:end", {"call_id": call["id"]})
    await room.alice.socket.expect("call:ended")
    assert room.alice.socket.pending("call:accepted") == []


async def test_reject_and_end_need_the_right_state(room: Room) -> None:
    call = (await start(room.alice, room.chat_id))["call"]
    caller = await room.alice.socket.error("call:reject", {"call_id": call["id"]})
    invitee = await room.bob.socket.error("call:end", {"call_id": call["id"]})
    assert caller["code"] == invitee["code"] == "conflict"
    await room.bob.socket.ok("call:reject", {"call_id": call["id"]})
    twice = await room.bob.socket.error("call:reject", {"call_id": call["id"]})
    assert twice["code"] == "conflict"


async def test_ending_someone_elses_ended_call(room: Room) -> None:
    call = await active_call(room)
    ended = await room.bob.socket.ok("call:end", {"call_id": call["id"]})
    outsider = await room.carol.socket.error("call:end", {"call_id": call["id"]})
    unknown = await room.carol.socket.error("call:end", {"call_id": str(uuid.uuid4())})
    assert outsider == unknown and outsider["code"] == "not_found"

    await room.alice.socket.ok(
        "chat:add_members", {"chat_id": room.chat_id, "user_ids": [room.carol.id]}
    )
    member = await room.carol.socket.error("call:end", {"call_id": call["id"]})
    assert member["code"] == "forbidden"
    assert await room.alice.socket.ok("call:end", {"call_id": call["id"]}) == ended


async def test_signalling_to_a_user_outside_the_call(room: Room) -> None:
    call = await active_call(room)
    for target in (room.carol.id, str(uuid.uuid4())):
        payload = {"call_id": call["id"], "to_user_id": target, "data": {"type": "offer"}}
        error = await room.alice.socket.error("call:signal", payload)
        assert error["code"] == "not_found"
    to_self = {"call_id": call["id"], "to_user_id": room.alice.id, "data": "x"}
    assert (await room.alice.socket.error("call:signal", to_self))["code"] == "bad_request"
    from_outside = {"call_id": call["id"], "to_user_id": room.bob.id, "data": "x"}
    assert (await room.carol.socket.error("call:signal", from_outside))["code"] == "not_found"
    await room.alice.socket.ok("call:end", {"call_id": call["id"]})
    await room.bob.socket.expect("call:ended")
    assert room.carol.socket.pending("call:signal") == []
    assert room.bob.socket.pending("call:signal") == []


async def test_signalling_after_the_call_ended(room: Room) -> None:
    call = await active_call(room)
    await room.alice.socket.ok("call:end", {"call_id": call["id"]})
    payload = {"call_id": call["id"], "to_user_id": room.bob.id, "data": {"type": "offer"}}
    error = await room.alice.socket.error("call:signal", payload)
    assert error["code"] == "conflict"


async def test_oversized_sdp_is_too_large(room: Room) -> None:
    call = await active_call(room)
    envelope = len(orjson.dumps({"type": "offer", "sdp": ""}))
    fits = {"type": "offer", "sdp": "x" * (SIGNAL_MAX_BYTES - envelope)}
    assert len(orjson.dumps(fits)) == SIGNAL_MAX_BYTES
    payload = {"call_id": call["id"], "to_user_id": room.bob.id, "data": fits}
    await room.alice.socket.ok("call:signal", payload)
    assert (await room.bob.socket.expect("call:signal"))["data"] == fits

    too_big = {"type": "offer", "sdp": fits["sdp"] + "x"}
    payload["data"] = too_big
    error = await room.alice.socket.error("call:signal", payload)
    assert error["code"] == "too_large"
    quoted = {"type": "offer", "sdp": '"' * (SIGNAL_MAX_BYTES // 2)}
    payload["data"] = quoted
    assert (await room.alice.socket.error("call:signal", payload))["code"] == "too_large"


async def test_token_without_twilio_is_unavailable(room: Room) -> None:
    call = await active_call(room)
    error = await room.alice.socket.error("call:token", {"call_id": call["id"]})
    assert error["code"] == "unavailable"
