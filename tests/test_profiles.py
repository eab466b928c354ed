"""profile:get / profile:update, expiring statuses, user:search and presence:get."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import User
from tests.clients import Api
from tests.test_admin import act, make_admin
from tests.test_messages import Room, make_room

PUBLIC_FIELDS = {
    "id",
    "username",
    "display_name",
    "avatar_url",
    "bio",
    "status",
    "verified",
    "public_key",
    "online",
    "last_seen_at",
}
PRIVATE_FIELDS = {"email", "email_verified", "phone", "phone_verified", "role", "account_status"}
PHONE = "+14155552671"


@pytest.fixture
async def room(api, sockets, server) -> Room:
    return await make_room(api, sockets, server)


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def test_own_profile_is_full_and_others_are_public(room: Room) -> None:
    own = (await room.alice.socket.ok("profile:get", {}))["user"]
    assert set(own) >= PUBLIC_FIELDS | PRIVATE_FIELDS
    assert own["id"] == room.alice.id and own["email"] == room.alice.account.user["email"]
    assert own["online"] is True and own["verified"] is False
    same = (await room.alice.socket.ok("profile:get", {"user_id": room.alice.id}))["user"]
    assert same == own
    for other in (room.bob, room.carol):
        user = (await room.alice.socket.ok("profile:get", {"user_id": other.id}))["user"]
        assert set(user) == PUBLIC_FIELDS and user["id"] == other.id and user["online"] is True


async def test_unknown_and_banned_users_are_not_found(api, room: Room) -> None:
    admin = await make_admin(api)
    assert (await act(api, admin, room.carol.id, "ban"))[0] == 200
    banned = await room.alice.socket.error("profile:get", {"user_id": room.carol.id})
    unknown = await room.alice.socket.error("profile:get", {"user_id": str(uuid.uuid4())})
    assert banned == unknown and banned["code"] == "not_found"
    bad = await room.alice.socket.error("profile:get", {"user_id": "me"})
    assert bad["code"] == "bad_request"


async def test_verified_badge_is_public(api, room: Room) -> None:
    admin = await make_admin(api)
    assert (await act(api, admin, room.bob.id, "verify-badge"))[0] == 200
    bob = (await room.alice.socket.ok("profile:get", {"user_id": room.bob.id}))["user"]
    assert bob["verified"] is True
    found = await room.alice.socket.ok("user:search", {"q": room.bob.account.user["username"]})
    assert [u["verified"] for u in found["users"]] == [True]


async def test_update_reaches_chats_and_own_sockets_only(api, sockets, server, room: Room):
    second = await sockets(str(server.make_url("")), room.alice.account.access_token)
    changes = {
        "display_name": "  Alice Liddell ",
        "avatar_url": "https://cdn.example.com/a.png",
        "bio": "Curiouser and curiouser",
        "public_key": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----",
    }
    user = (await room.alice.socket.ok("profile:update", changes))["user"]
    assert user["display_name"] == "Alice Liddell" and user["email"]
    assert {key: user[key] for key in ("avatar_url", "bio", "public_key")} == {
        key: changes[key] for key in ("avatar_url", "bio", "public_key")
    }
    public = {key: user[key] for key in PUBLIC_FIELDS}
    assert await room.bob.socket.expect("user:updated") == {"user": public}
    assert await second.expect("user:updated") == {"user": public}
    dm = await room.alice.socket.ok("chat:create", {"type": "dm", "user_id": room.carol.id})
    assert (await room.carol.socket.expect("chat:new"))["chat"]["id"] == dm["chat"]["id"]
    assert room.carol.socket.pending("user:updated") == [], "carol shared no chat then"
    seen = (await room.bob.socket.ok("profile:get", {"user_id": room.alice.id}))["user"]
    assert seen == public
    found = await room.bob.socket.ok("user:search", {"q": "alice lid"})
    assert [u["id"] for u in found["users"]] == [room.alice.id]


async def test_null_clears_and_absent_keeps(room: Room) -> None:
    filled = {"avatar_url": "http://x.example/a.png", "bio": "b", "public_key": "k"}
    await room.alice.socket.ok("profile:update", filled)
    user = (await room.alice.socket.ok("profile:update", {"bio": None}))["user"]
    assert user["bio"] is None and user["avatar_url"] == filled["avatar_url"]
    cleared = {"avatar_url": None, "public_key": None}
    user = (await room.alice.socket.ok("profile:update", cleared))["user"]
    assert user["avatar_url"] is None and user["public_key"] is None
    assert user["display_name"] == room.alice.account.user["display_name"]


async def test_an_update_that_changes_nothing_broadcasts_nothing(room: Room) -> None:
    await room.alice.socket.ok("profile:update", {"bio": "same"})
    assert (await room.bob.socket.expect("user:updated"))["user"]["bio"] == "same"
    again = await room.alice.socket.ok("profile:update", {"bio": "same", "status": None})
    assert again == await room.alice.socket.ok("profile:update", {})
    await room.alice.socket.ok("profile:update", {"bio": "new"})
    assert (await room.bob.socket.expect("user:updated"))["user"]["bio"] == "new"


async def test_phone_is_stored_as_e164_and_a_new_one_needs_verifying(api, room, caplog):
    caplog.set_level(logging.INFO, logger="infra")
    alice = room.alice.socket
    user = (await alice.ok("profile:update", {"phone": "+1 (415) 555-2671"}))["user"]
    assert user["phone"] == PHONE and user["phone_verified"] is False
    token = room.alice.account.access_token
    assert (await api.post("/api/users/verify", {"channel": "phone"}, token=token))[0] == 202
    [sms] = [r.getMessage() for r in caplog.records if r.name == "infra.sms"]
    code = re.search(r"\b(\d{6})\b", sms).group(1)
    status, body = await api.post(
        "/api/users/verify", {"channel": "phone", "code": code}, token=token
    )
    assert status == 200 and body["user"]["phone_verified"] is True
    same = (await alice.ok("profile:update", {"phone": "+1 415-555-2671"}))["user"]
    assert same["phone"] == PHONE and same["phone_verified"] is True
    other = (await alice.ok("profile:update", {"phone": "+44 20 7946 0958"}))["user"]
    assert other["phone"] == "+442079460958" and other["phone_verified"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"display_name": "d" * 65}, "display_name"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": None}, "display_name"),
        ({"bio": "b" * 501}, "bio"),
        ({"avatar_url": "ftp://example.com/a.png"}, "avatar_url"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"avatar_url": "not a url"}, "avatar_url"),
        ({"avatar_url": "https://example.com/" + "a" * 2040}, "avatar_url"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "not a phone"}, "phone"),
        ({"phone": "+1 000 000 0000"}, "phone"),
        ({"phone": "+1 415 555 2671 ext. 7"}, "phone"),
        ({"public_key": "é" * 4097}, "public_key"),
        ({"status": {"text": "away", "expires_at": "2000-01-01T00:00:00Z"}}, "status.expires_at"),
        ({"status": {"text": "away", "expires_at": "2099-01-01T00:00:00"}}, "status.expires_at"),
        ({"status": {"emoji": "ab"}}, "status.emoji"),
        ({"status": {"emoji": "👍👍"}}, "status.emoji"),
        ({"status": {"text": "t" * 141}}, "status.text"),
        ({"status": "busy"}, "status"),
        ({"email": "new@example.com"}, "email"),
    ],
)
async def test_bad_profile_updates_change_nothing(room, payload: dict[str, Any], field: str):
    before = (await room.alice.socket.ok("profile:get", {}))["user"]
    error = await room.alice.socket.error("profile:update", {"bio": "kept?", **payload})
    assert error["code"] == "bad_request" and field in error["details"]["fields"], error
    assert (await room.alice.socket.ok("profile:get", {}))["user"] == before


async def test_status_shows_then_expires_while_online(room: Room) -> None:
    status = {"text": "In a meeting", "emoji": "📅", "expires_at": in_seconds(1)}
    user = (await room.alice.socket.ok("profile:update", {"status": status}))["user"]
    assert user["status"]["text"] == "In a meeting" and user["status"]["emoji"] == "📅"
    assert (await room.bob.socket.expect("user:updated"))["user"]["status"] == user["status"]
    assert (await room.alice.socket.expect("user:updated"))["user"]["status"] == user["status"]
    expired = await room.alice.socket.expect("user:updated")
    assert expired["user"]["id"] == room.alice.id and expired["user"]["status"] is None
    assert (await room.bob.socket.expect("user:updated"))["user"]["status"] is None
    assert (await room.bob.socket.ok("profile:get", {"user_id": room.alice.id}))["user"][
        "status"
    ] is None


async def test_replacing_or_clearing_a_status_moves_its_timer(room: Room) -> None:
    soon = {"text": "brb", "expires_at": in_seconds(1)}
    await room.alice.socket.ok("profile:update", {"status": soon})
    lasting = {"emoji": "🏖️"}
    user = (await room.alice.socket.ok("profile:update", {"status": lasting}))["user"]
    assert user["status"] == {"text": None, "emoji": "🏖️", "expires_at": None}
    later = {"text": "lunch", "expires_at": in_seconds(1.5)}
    await room.alice.socket.ok("profile:update", {"status": later})
    cleared = (await room.alice.socket.ok("profile:update", {"status": {"text": "  "}}))["user"]
    assert cleared["status"] is None
    updates = [(await room.bob.socket.expect("user:updated"))["user"]["status"] for _ in range(4)]
    assert [s and (s["text"], s["emoji"]) for s in updates] == [
        ("brb", None),
        (None, "🏖️"),
        ("lunch", None),
        None,
    ]
    await room.alice.socket.ok(
        "profile:update", {"status": {"text": "back", "expires_at": in_seconds(0.5)}}
    )
    assert (await room.bob.socket.expect("user:updated"))["user"]["status"]["text"] == "back"
    assert (await room.bob.socket.expect("user:updated"))["user"]["status"] is None
    assert room.bob.socket.pending("user:updated") == [], "no stale timer may fire"


async def test_status_expiry_survives_a_restart(start_server, api, sockets, state_url) -> None:
    """In memory the new process must re-create the timers from the database; in Redis they
    outlive the process and the re-created ones replace them."""
    first = await start_server(redis_url=state_url)
    api = Api(api.http, str(first.make_url("")).rstrip("/"))
    room = await make_room(api, sockets, first)
    late = {"text": "gone soon", "expires_at": in_seconds(1)}
    await room.alice.socket.ok("profile:update", {"status": late})
    pending = {"text": "gone later", "expires_at": in_seconds(4)}
    await room.bob.socket.ok("profile:update", {"status": pending})
    for member in (room.alice, room.bob, room.carol):
        await member.socket.close()
    await first.close()
    passed_at = datetime.fromisoformat(late["expires_at"]).timestamp()
    await asyncio.sleep(max(0.0, passed_at - time.time()))
    second = await start_server(redis_url=state_url)
    bob = await sockets(str(second.make_url("")), room.bob.account.access_token)
    update = await bob.expect("user:updated", timeout=10)
    assert update["user"]["id"] == room.bob.id and update["user"]["status"] is None
    alice = await User.get(id=room.alice.id)
    assert alice.status_text is None and alice.status_expires_at is None, "cleared on start-up"


def ids_of(found: dict[str, Any]) -> set[str]:
    return {user["id"] for user in found["users"]}


async def test_search_by_prefix_case_insensitively(api, room: Room) -> None:
    tag = f"zq{uuid.uuid4().hex[:6]}"
    anna = await api.register(f"{tag}_anna", display_name="Anna Karenina")
    bert = await api.register(f"{tag}bert", display_name=f"{tag.upper()} Bert")
    carl = await api.register(f"carl{tag}", display_name=f"{tag} Carl")
    search = room.alice.socket
    found = await search.ok("user:search", {"q": f"  {tag.upper()} "})
    assert ids_of(found) == {anna.id, bert.id, carl.id}
    assert all(set(u) == PUBLIC_FIELDS for u in found["users"])
    assert all(u["online"] is False for u in found["users"])
    by_display_name = await search.ok("user:search", {"q": f"{tag} b"})
    assert [u["id"] for u in by_display_name["users"]] == [bert.id]
    wildcard = await search.ok("user:search", {"q": f"{tag}_"})
    assert [u["id"] for u in wildcard["users"]] == [anna.id], "_ is not a wildcard"
    assert (await search.ok("user:search", {"q": "%"}))["users"] == []
    assert (await search.ok("user:search", {"q": f"nna{tag}"}))["users"] == []
    limited = await search.ok("user:search", {"q": tag, "limit": 2})
    assert len(limited["users"]) == 2 and ids_of(limited) < ids_of(found)
    admin = await make_admin(api)
    assert (await act(api, admin, bert.id, "ban"))[0] == 200
    after_ban = await search.ok("user:search", {"q": tag})
    assert ids_of(after_ban) == {anna.id, carl.id}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 10_240}, "q"),
        ({"q": "x" * 65}, "q"),
        ({"q": 5}, "q"),
        ({}, "q"),
        ({"q": "a", "limit": 0}, "limit"),
        ({"q": "a", "limit": 51}, "limit"),
        ({"q": "a", "extra": 1}, "extra"),
    ],
)
async def test_bad_searches(room: Room, payload: dict[str, Any], field: str) -> None:
    error = await room.alice.socket.error("user:search", payload)
    assert error["code"] == "bad_request" and field in error["details"]["fields"]


async def test_presence_of_many_users(api, room: Room) -> None:
    await room.bob.socket.close()
    offline = await room.alice.socket.expect("presence")
    assert offline["user_id"] == room.bob.id and offline["online"] is False
    admin = await make_admin(api)
    banned = await api.register()
    assert (await act(api, admin, banned.id, "ban"))[0] == 200
    unknown = str(uuid.uuid4())
    ids = [room.alice.id, room.bob.id, room.carol.id, room.bob.id, unknown, banned.id]
    data = await room.alice.socket.ok("presence:get", {"user_ids": ids})
    assert data["presence"] == {
        room.alice.id: {"online": True, "last_seen_at": None},
        room.bob.id: {"online": False, "last_seen_at": offline["last_seen_at"]},
        room.carol.id: {"online": True, "last_seen_at": None},
    }
    assert (await room.alice.socket.ok("presence:get", {"user_ids": []})) == {"presence": {}}
    many = [str(uuid.uuid4()) for _ in range(200)]
    assert (await room.alice.socket.ok("presence:get", {"user_ids": many})) == {"presence": {}}


@pytest.mark.parametrize(
    "payload",
    [
        {"user_ids": [str(uuid.uuid4()) for _ in range(201)]},
        {"user_ids": ["not-a-uuid"]},
        {"user_ids": "everyone"},
        {},
    ],
)
async def test_bad_presence_lookups(room: Room, payload: dict[str, Any]) -> None:
    error = await room.alice.socket.error("presence:get", payload)
    assert error["code"] == "bad_request"
    assert all(field.startswith("user_ids") for field in error["details"]["fields"])
