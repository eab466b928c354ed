"""poll:create / poll:vote / poll:close over real sockets: counts, privacy, timers, sync."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.clients import Api, SocketClient
from tests.test_admin import make_admin
from tests.test_admin_reports import resolve
from tests.test_messages import Member, Room, join, make_room


@pytest.fixture
async def room(api, sockets, server) -> Room:
    return await make_room(api, sockets, server)


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def new_poll(chat_id: str, *options: str, **extra: Any) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "client_id": uuid.uuid4().hex,
        "question": "Lunch?",
        "options": list(options or ("Pizza", "Sushi", "Salad")),
        **extra,
    }


async def create(member: Member, chat_id: str, *options: str, **extra: Any) -> dict[str, Any]:
    return (await member.socket.ok("poll:create", new_poll(chat_id, *options, **extra)))["message"]


def option_ids(message: dict[str, Any]) -> list[str]:
    return [option["id"] for option in message["poll"]["options"]]


def counts(poll: dict[str, Any]) -> list[int]:
    return [option["votes"] for option in poll["options"]]


async def vote(member: Member, message: dict[str, Any], *indexes: int) -> dict[str, Any]:
    ids = option_ids(message)
    payload = {"poll_id": message["poll"]["id"], "option_ids": [ids[i] for i in indexes]}
    return (await member.socket.ok("poll:vote", payload))["poll"]


async def current_poll(member: Member, chat_id: str) -> dict[str, Any]:
    history = await member.socket.ok("message:history", {"chat_id": chat_id})
    return next(m for m in history["messages"] if m["type"] == "poll")["poll"]


async def test_create_posts_a_poll_message(room: Room) -> None:
    message = await create(room.alice, room.chat_id, closes_at=in_seconds(3600))
    assert message["type"] == "poll" and message["seq"] == 1 and message["content"] is None
    poll = message["poll"]
    assert poll["question"] == "Lunch?" and poll["closed"] is False
    assert [o["text"] for o in poll["options"]] == ["Pizza", "Sushi", "Salad"]
    assert all(o["votes"] == 0 and o["voter_ids"] == [] for o in poll["options"])
    assert poll["total_voters"] == 0 and poll["my_votes"] == []
    assert poll["multiple_choice"] is False and poll["anonymous"] is False
    assert poll["closes_at"].endswith("Z")
    assert (await room.bob.socket.expect("message:new")) == {"message": message}


async def test_create_is_idempotent_by_client_id(room: Room) -> None:
    payload = new_poll(room.chat_id)
    first = await room.alice.socket.ok("poll:create", payload)
    again = await room.alice.socket.ok("poll:create", payload)
    assert again == first
    await create(room.alice, room.chat_id, "A", "B")
    received = [await room.bob.socket.expect("message:new") for _ in range(2)]
    assert [m["message"]["seq"] for m in received] == [1, 2]
    text = {"chat_id": room.chat_id, "client_id": "t1", "type": "text", "content": "hi"}
    await room.alice.socket.ok("message:send", text)
    reused = {**new_poll(room.chat_id), "client_id": "t1"}
    assert (await room.alice.socket.error("poll:create", reused))["code"] == "conflict"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"options": ["Only one"]}, "options"),
        ({"options": [f"o{i}" for i in range(11)]}, "options"),
        ({"options": ["Yes", "No", "yes "]}, "options"),
        ({"options": ["Yes", "   "]}, "options.1"),
        ({"options": ["Yes", "x" * 101]}, "options.1"),
        ({"options": "Yes,No"}, "options"),
        ({"question": ""}, "question"),
        ({"question": "q" * 301}, "question"),
        ({"closes_at": "2000-01-01T00:00:00Z"}, "closes_at"),
        ({"closes_at": "2099-01-01T00:00:00"}, "closes_at"),
        ({"closes_at": "tomorrow"}, "closes_at"),
        ({"multiple_choice": "sometimes"}, "multiple_choice"),
        ({"client_id": "x" * 65}, "client_id"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_bad_polls_are_refused(room: Room, change: dict[str, Any], field: str) -> None:
    error = await room.alice.socket.error("poll:create", {**new_poll(room.chat_id), **change})
    assert error["code"] == "bad_request" and field in error["details"]["fields"], error
    history = await room.alice.socket.ok("message:history", {"chat_id": room.chat_id})
    assert history["messages"] == []


async def test_outsider_cannot_create_or_see(room: Room) -> None:
    on_real = await room.carol.socket.error("poll:create", new_poll(room.chat_id))
    on_unknown = await room.carol.socket.error("poll:create", new_poll(str(uuid.uuid4())))
    assert on_real == on_unknown and on_real["code"] == "not_found"
    message = await create(room.alice, room.chat_id)
    unknown = str(uuid.uuid4())
    for event, real, fake in [
        ("poll:vote", {"poll_id": message["poll"]["id"], "option_ids": []}, unknown),
        ("poll:close", {"poll_id": message["poll"]["id"]}, unknown),
    ]:
        fake_payload = {**real, "poll_id": fake}
        on_real = await room.carol.socket.error(event, real)
        assert on_real == await room.carol.socket.error(event, fake_payload)
        assert on_real["code"] == "not_found"


async def test_single_choice_vote_replace_and_retract(room: Room) -> None:
    message = await create(room.alice, room.chat_id)
    await room.bob.socket.expect("message:new")
    ids = option_ids(message)
    mine = await vote(room.bob, message, 0)
    assert counts(mine) == [1, 0, 0] and mine["my_votes"] == [ids[0]]
    assert mine["options"][0]["voter_ids"] == [room.bob.id] and mine["total_voters"] == 1
    shared = await room.alice.socket.expect("poll:updated")
    assert shared == {
        "poll_id": message["poll"]["id"],
        "chat_id": room.chat_id,
        "poll": {**mine, "my_votes": []},
    }
    moved = await vote(room.bob, message, 2)
    assert counts(moved) == [0, 0, 1] and moved["my_votes"] == [ids[2]]
    retracted = await vote(room.bob, message)
    assert counts(retracted) == [0, 0, 0] and retracted["total_voters"] == 0
    assert retracted["my_votes"] == []
    payload = {"poll_id": message["poll"]["id"], "option_ids": ids[:2]}
    error = await room.bob.socket.error("poll:vote", payload)
    assert error["code"] == "bad_request" and "option_ids" in error["details"]["fields"]
    assert counts(await current_poll(room.alice, room.chat_id)) == [0, 0, 0]


async def test_multiple_choice_counts_voters_once(room: Room) -> None:
    message = await create(room.alice, room.chat_id, multiple_choice=True)
    await vote(room.alice, message, 0, 1)
    both = await vote(room.bob, message, 1, 2)
    assert counts(both) == [1, 2, 1] and both["total_voters"] == 2
    assert both["options"][1]["voter_ids"] == [room.alice.id, room.bob.id]
    seen_by_alice = await current_poll(room.alice, room.chat_id)
    assert seen_by_alice["my_votes"] == option_ids(message)[:2]
    assert {**seen_by_alice, "my_votes": both["my_votes"]} == both


@pytest.mark.parametrize(
    "option_ids",
    [["not-a-uuid"], "all", [str(uuid.uuid4())] * 2, [str(uuid.uuid4()) for _ in range(11)]],
)
async def test_malformed_ballots(room: Room, option_ids: Any) -> None:
    message = await create(room.alice, room.chat_id, multiple_choice=True)
    payload = {"poll_id": message["poll"]["id"], "option_ids": option_ids}
    error = await room.bob.socket.error("poll:vote", payload)
    assert error["code"] == "bad_request"
    assert all(field.startswith("option_ids") for field in error["details"]["fields"])


async def test_options_of_another_poll_are_refused(room: Room) -> None:
    first = await create(room.alice, room.chat_id, multiple_choice=True)
    second = await create(room.alice, room.chat_id, multiple_choice=True)
    for ballot in ([option_ids(second)[0]], [option_ids(first)[0], option_ids(second)[1]]):
        payload = {"poll_id": first["poll"]["id"], "option_ids": ballot}
        error = await room.bob.socket.error("poll:vote", payload)
        assert error["code"] == "bad_request" and "option_ids" in error["details"]["fields"]
    assert counts(await current_poll(room.bob, room.chat_id)) == [0, 0, 0]


async def test_close_by_creator_or_admin_then_votes_conflict(room: Room) -> None:
    by_bob = await create(room.bob, room.chat_id)
    by_alice = await create(room.alice, room.chat_id)
    voted = await vote(room.bob, by_alice, 1)
    assert (await room.bob.socket.expect("poll:updated"))["poll"] == {**voted, "my_votes": []}
    denied = await room.bob.socket.error("poll:close", {"poll_id": by_alice["poll"]["id"]})
    assert denied["code"] == "forbidden"
    closed = (await room.alice.socket.ok("poll:close", {"poll_id": by_alice["poll"]["id"]}))["poll"]
    assert closed["closed"] is True and counts(closed) == [0, 1, 0]
    update = await room.bob.socket.expect("poll:updated")
    assert update["poll"] == {**closed, "my_votes": []}
    again = await room.alice.socket.ok("poll:close", {"poll_id": by_alice["poll"]["id"]})
    assert again["poll"] == closed
    error = await room.bob.socket.error(
        "poll:vote", {"poll_id": by_alice["poll"]["id"], "option_ids": [option_ids(by_alice)[0]]}
    )
    assert error["code"] == "conflict"
    assert (
        await room.bob.socket.error(
            "poll:vote", {"poll_id": by_alice["poll"]["id"], "option_ids": []}
        )
    )["code"] == "conflict"
    by_admin = await room.alice.socket.ok("poll:close", {"poll_id": by_bob["poll"]["id"]})
    assert by_admin["poll"]["closed"] is True
    assert counts(await current_poll(room.alice, room.chat_id)) == [0, 0, 0]


async def test_deleted_poll_takes_no_votes(room: Room) -> None:
    message = await create(room.alice, room.chat_id)
    await vote(room.bob, message, 0)
    await room.alice.socket.ok("message:delete", {"message_id": message["id"], "scope": "everyone"})
    payload = {"poll_id": message["poll"]["id"], "option_ids": [option_ids(message)[1]]}
    assert (await room.bob.socket.error("poll:vote", payload))["code"] == "conflict"
    history = await room.bob.socket.ok("message:history", {"chat_id": room.chat_id})
    assert history["messages"][0]["deleted_at"] and history["messages"][0]["poll"] is None


async def test_hidden_poll_takes_no_votes_and_admins_see_no_voters(api, room: Room) -> None:
    await room.alice.socket.ok(
        "chat:add_members", {"chat_id": room.chat_id, "user_ids": [room.carol.id]}
    )
    message = await create(room.alice, room.chat_id, anonymous=True)
    await vote(room.carol, message, 1)
    report = await room.bob.socket.ok(
        "message:report", {"message_id": message["id"], "reason": "spam"}
    )
    admin = await make_admin(api)
    status, body = await resolve(api, admin, report["report_id"], action="hide_message")
    assert status == 200 and counts(body["report"]["message"]["poll"]) == [0, 1, 0]
    assert_no_voter(body, [room.carol.id])
    payload = {"poll_id": message["poll"]["id"], "option_ids": [option_ids(message)[0]]}
    assert (await room.bob.socket.error("poll:vote", payload))["code"] == "conflict"
    closing = await room.alice.socket.error("poll:close", {"poll_id": message["poll"]["id"]})
    assert closing["code"] == "conflict"
    history = await room.bob.socket.ok("message:history", {"chat_id": room.chat_id})
    assert history["messages"][0]["visibility"] == "hidden"
    assert history["messages"][0]["poll"] is None


async def test_poll_closes_by_itself_at_closes_at(room: Room) -> None:
    message = await create(room.alice, room.chat_id, closes_at=in_seconds(1))
    await vote(room.bob, message, 0)
    await room.alice.socket.expect("poll:updated")
    closed = await room.alice.socket.expect("poll:updated")
    assert closed["poll"]["closed"] is True and counts(closed["poll"]) == [1, 0, 0]
    payload = {"poll_id": message["poll"]["id"], "option_ids": [option_ids(message)[1]]}
    assert (await room.bob.socket.error("poll:vote", payload))["code"] == "conflict"


async def test_closing_survives_a_restart(start_server, api, sockets, state_url) -> None:
    """In memory the new process must re-create the timers from the database; in Redis they
    outlive the process and the re-created ones replace them."""
    first = await start_server(redis_url=state_url)
    api = Api(api.http, str(first.make_url("")).rstrip("/"))
    room = await make_room(api, sockets, first)
    late = await create(room.alice, room.chat_id, closes_at=in_seconds(1))
    pending = await create(room.alice, room.chat_id, closes_at=in_seconds(4))
    for member in (room.alice, room.bob, room.carol):
        await member.socket.close()
    await first.close()
    await asyncio.sleep(
        max(0.0, datetime.fromisoformat(late["poll"]["closes_at"]).timestamp() - time.time())
    )
    second = await start_server(redis_url=state_url)
    alice = await sockets(str(second.make_url("")), room.alice.account.access_token)
    update = await alice.expect("poll:updated", timeout=10)
    assert update["poll_id"] == pending["poll"]["id"] and update["poll"]["closed"] is True
    data = await alice.ok("sync", {"chats": {room.chat_id: pending["change"]}})
    synced = {m["id"]: m for m in data["chats"][room.chat_id]["messages"]}
    assert set(synced) == {late["id"], pending["id"]}, "both closes must be written"
    assert all(m["poll"]["closed"] for m in synced.values())


async def crowd(api: Api, sockets: Any, server: Any, size: int) -> tuple[str, list[Member]]:
    base_url = str(server.make_url(""))
    members = await asyncio.gather(*(join(api, sockets, base_url) for _ in range(size)))
    owner, others = members[0], members[1:]
    data = await owner.socket.ok(
        "chat:create", {"type": "group", "name": "Crowd", "member_ids": [m.id for m in others]}
    )
    return data["chat"]["id"], list(members)


async def test_thirty_concurrent_voters_give_exact_counts(
    start_server, api, sockets, state_url
) -> None:
    server = await start_server(redis_url=state_url)
    api = Api(api.http, str(server.make_url("")).rstrip("/"))
    chat_id, voters = await crowd(api, sockets, server, 30)
    message = await create(voters[0], chat_id, "A", "B", "C", multiple_choice=True)
    ballots = [(i % 3,) if i % 2 else (i % 3, (i + 1) % 3) for i in range(30)]
    await asyncio.gather(*(vote(v, message, *b) for v, b in zip(voters, ballots, strict=True)))
    expected = [sum(option in b for b in ballots) for option in range(3)]
    poll = await current_poll(voters[0], chat_id)
    assert counts(poll) == expected and poll["total_voters"] == 30
    replaced = [((i + 1) % 3,) for i in range(30)]
    retracting = set(range(0, 30, 5))
    await asyncio.gather(
        *(vote(v, message, *(() if i in retracting else replaced[i])) for i, v in enumerate(voters))
    )
    final = await current_poll(voters[1], chat_id)
    expected = [
        sum(1 for i, b in enumerate(replaced) if i not in retracting and b == (o,))
        for o in range(3)
    ]
    assert counts(final) == expected and final["total_voters"] == 30 - len(retracting)
    for option, count in zip(final["options"], expected, strict=True):
        assert len(option["voter_ids"]) == count


async def test_one_voters_concurrent_ballots_never_merge(room: Room) -> None:
    single = await create(room.alice, room.chat_id, "A", "B", "C")
    multiple = await create(room.alice, room.chat_id, "A", "B", "C", multiple_choice=True)
    ballots = [(i % 3,) for i in range(12)] + [(0, 1), (1, 2), ()]
    await asyncio.gather(
        *(vote(room.bob, single, i % 3) for i in range(12)),
        *(vote(room.bob, multiple, *ballot) for ballot in ballots),
    )
    history = await room.bob.socket.ok("message:history", {"chat_id": room.chat_id})
    polls = {m["id"]: m["poll"] for m in history["messages"]}
    assert sum(counts(polls[single["id"]])) == 1 and polls[single["id"]]["total_voters"] == 1
    final = polls[multiple["id"]]
    chosen = tuple(i for i, option in enumerate(final["options"]) if option["votes"])
    assert chosen in ballots and final["my_votes"] == [option_ids(multiple)[i] for i in chosen]


def assert_no_voter(payload: Any, voter_ids: list[str]) -> None:
    text = json.dumps(payload)
    assert "voter_ids" not in text
    for voter_id in voter_ids:
        assert voter_id not in text


async def test_anonymous_poll_never_reveals_voters(api, sockets, server) -> None:
    room = await make_room(api, sockets, server)
    await room.alice.socket.ok(
        "chat:add_members", {"chat_id": room.chat_id, "user_ids": [room.carol.id]}
    )
    message = await create(room.alice, room.chat_id, anonymous=True, multiple_choice=True)
    voters = [room.bob.id, room.carol.id]
    assert_no_voter(message, voters)
    acks = [await vote(room.bob, message, 0, 1), await vote(room.carol, message, 1)]
    assert counts(acks[1]) == [1, 2, 0] and acks[1]["total_voters"] == 2
    assert acks[0]["my_votes"] == option_ids(message)[:2]
    closed = await room.alice.socket.ok("poll:close", {"poll_id": message["poll"]["id"]})
    broadcasts = [await room.alice.socket.expect("poll:updated") for _ in range(3)]
    broadcasts += [await room.bob.socket.expect("poll:updated") for _ in range(3)]
    last_change = message["change"] - 1
    seen = [acks, closed, broadcasts]
    for member in (room.alice, room.bob, room.carol):
        seen.append(await member.socket.ok("message:history", {"chat_id": room.chat_id}))
        seen.append(await member.socket.ok("sync", {"chats": {room.chat_id: last_change}}))
    assert_no_voter(seen, voters)
    assert counts(broadcasts[-1]["poll"]) == [1, 2, 0]


async def test_reconnecting_client_catches_up_votes_through_sync(api, sockets, server) -> None:
    room = await make_room(api, sockets, server)
    message = await create(room.alice, room.chat_id)
    await vote(room.bob, message, 2)
    await room.bob.socket.close()
    await vote(room.alice, message, 0)
    await room.alice.socket.ok("poll:close", {"poll_id": message["poll"]["id"]})
    bob: SocketClient = await sockets(str(server.make_url("")), room.bob.account.access_token)
    data = await bob.ok("sync", {"chats": {room.chat_id: message["change"] + 1}})
    [synced] = data["chats"][room.chat_id]["messages"]
    poll = synced["poll"]
    assert counts(poll) == [1, 0, 1] and poll["closed"] is True
    assert poll["my_votes"] == [option_ids(message)[2]]
    assert synced["change"] == data["chats"][room.chat_id]["last_change"] == message["change"] + 3
