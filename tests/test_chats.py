"""chat:create / chat:get / chat:update / chat:archive / chat:hide over real sockets."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.clients import Account, Api, SocketClient, make_dm, make_group

CHAT_KEYS = {
    "id",
    "type",
    "name",
    "avatar_url",
    "created_by",
    "created_at",
    "last_seq",
    "last_change",
    "last_activity_at",
}


@dataclass
class Person:
    account: Account
    socket: SocketClient

    @property
    def id(self) -> str:
        return self.account.id


async def person(api: Api, sockets: Any, server: TestServer) -> Person:
    account = await api.register()
    return Person(account, await sockets(str(server.make_url("")), account.access_token))


@pytest.fixture
async def people(api: Api, sockets: Any, server: TestServer) -> list[Person]:
    return [await person(api, sockets, server) for _ in range(3)]


def member_roles(chat: dict[str, Any]) -> dict[str, str]:
    return {m["user"]["id"]: m["role"] for m in chat["members"]}


async def test_group_create_announces_to_every_member(people: list[Person]) -> None:
    alice, bob, carol = people
    chat = await make_group(
        alice.socket, bob.account, bob.id, alice.account, name="  Team  ", avatar_url="a.png"
    )
    assert chat.keys() >= CHAT_KEYS
    assert chat["type"] == "group" and chat["name"] == "Team" and chat["avatar_url"] == "a.png"
    assert chat["created_by"] == alice.id and chat["created_at"].endswith("Z")
    assert chat["last_seq"] == 0 and chat["last_change"] == 0
    assert member_roles(chat) == {alice.id: "owner", bob.id: "member"}
    assert chat["role"] == "owner" and chat["archived"] is False and chat["hidden"] is False
    first = chat["members"][0]
    assert first["user"]["username"] == alice.account.user["username"]
    assert first["user"]["online"] is True and first["joined_at"].endswith("Z")
    assert "email" not in first["user"]

    announced = (await bob.socket.expect("chat:new"))["chat"]
    assert announced == (await alice.socket.expect("chat:new"))["chat"]
    assert {k: v for k, v in chat.items() if k not in ("role", "archived", "hidden")} == announced
    assert "role" not in announced
    dm = await make_dm(carol.socket, alice.account)
    assert (await carol.socket.expect("chat:new"))["chat"]["id"] == dm["id"]  # not the group's


async def test_new_members_get_the_chat_room_at_once(people: list[Person]) -> None:
    alice, bob, carol = people
    chat = await make_group(alice.socket, bob.account)
    await bob.socket.expect("chat:new")
    await alice.socket.ok("chat:update", {"chat_id": chat["id"], "name": "Renamed"})
    updated = (await bob.socket.expect("chat:updated"))["chat"]
    assert updated["name"] == "Renamed" and updated["id"] == chat["id"]
    assert carol.socket.pending("chat:updated") == []


async def test_dm_is_created_once_and_returned_after(people: list[Person]) -> None:
    alice, bob, _ = people
    dm = await make_dm(alice.socket, bob.account)
    assert dm["type"] == "dm" and dm["name"] is None
    assert member_roles(dm) == {alice.id: "member", bob.id: "member"}
    assert (await bob.socket.expect("chat:new"))["chat"]["id"] == dm["id"]
    assert (await make_dm(bob.socket, alice.account))["id"] == dm["id"]
    assert (await make_dm(alice.socket, bob.account))["id"] == dm["id"]
    listed = await alice.socket.ok("chat:list", {})
    assert [c["id"] for c in listed["chats"]] == [dm["id"]]
    assert bob.socket.pending("chat:new") == []


async def test_concurrent_dm_creation_makes_one_chat(
    api: Api, sockets: Any, server: TestServer
) -> None:
    alice, bob = await person(api, sockets, server), await person(api, sockets, server)
    extra = await sockets(str(server.make_url("")), bob.account.access_token)
    calls = [
        client.ok("chat:create", {"type": "dm", "user_id": other.id})
        for client, other in [
            (alice.socket, bob),
            (bob.socket, alice),
            (extra, alice),
            (alice.socket, bob),
            (bob.socket, alice),
            (extra, alice),
        ]
    ]
    results = await asyncio.gather(*calls)
    assert len({r["chat"]["id"] for r in results}) == 1
    for result in results:
        assert len(result["chat"]["members"]) == 2
    listed = await bob.socket.ok("chat:list", {})
    assert len(listed["chats"]) == 1


async def test_get_returns_members_and_own_fields(people: list[Person]) -> None:
    alice, bob, _ = people
    chat = await make_group(alice.socket, bob.account)
    got = (await bob.socket.ok("chat:get", {"chat_id": chat["id"]}))["chat"]
    assert got["role"] == "member" and member_roles(got) == member_roles(chat)
    assert {k: got[k] for k in CHAT_KEYS} == {k: chat[k] for k in CHAT_KEYS}


async def test_outsider_and_unknown_id_get_the_same_not_found(people: list[Person]) -> None:
    alice, bob, carol = people
    chat = await make_group(alice.socket, bob.account)
    unknown = str(uuid.uuid4())
    for event, extra in [
        ("chat:get", {}),
        ("chat:update", {"name": "x"}),
        ("chat:add_members", {"user_ids": [carol.id]}),
        ("chat:remove_member", {"user_id": bob.id}),
        ("chat:leave", {}),
        ("chat:set_role", {"user_id": bob.id, "role": "admin"}),
        ("chat:archive", {"archived": True}),
        ("chat:hide", {"hidden": True}),
    ]:
        outsider = await carol.socket.error(event, {"chat_id": chat["id"], **extra})
        missing = await carol.socket.error(event, {"chat_id": unknown, **extra})
        assert outsider == missing == {"code": "not_found", "message": "Chat not found"}, event


async def test_update_renames_and_clears_avatar(people: list[Person]) -> None:
    alice, bob, _ = people
    chat = await make_group(alice.socket, bob.account, avatar_url="https://x/a.png")
    updated = await alice.socket.ok("chat:update", {"chat_id": chat["id"], "name": " New "})
    assert updated["chat"]["name"] == "New" and updated["chat"]["avatar_url"] == "https://x/a.png"
    assert updated["chat"]["role"] == "owner"
    told = (await bob.socket.expect("chat:updated"))["chat"]
    assert told["name"] == "New" and "role" not in told and len(told["members"]) == 2
    cleared = await alice.socket.ok("chat:update", {"chat_id": chat["id"], "avatar_url": None})
    assert cleared["chat"]["avatar_url"] is None and cleared["chat"]["name"] == "New"
    got = await bob.socket.ok("chat:get", {"chat_id": chat["id"]})
    assert got["chat"]["avatar_url"] is None and got["chat"]["name"] == "New"


async def test_archive_and_hide_reach_only_the_callers_other_sockets(
    people: list[Person], sockets: Any, server: TestServer
) -> None:
    alice, bob, _ = people
    second = await sockets(str(server.make_url("")), alice.account.access_token)
    chat = await make_group(alice.socket, bob.account)
    archived = await alice.socket.ok("chat:archive", {"chat_id": chat["id"], "archived": True})
    assert archived["chat"]["archived"] is True and archived["chat"]["hidden"] is False
    told = (await second.expect("chat:updated"))["chat"]
    assert told["id"] == chat["id"] and told["archived"] is True
    hidden = await alice.socket.ok("chat:hide", {"chat_id": chat["id"], "hidden": True})
    assert hidden["chat"]["archived"] is True and hidden["chat"]["hidden"] is True
    assert (await second.expect("chat:updated"))["chat"]["hidden"] is True
    got = await second.ok("chat:get", {"chat_id": chat["id"]})
    assert got["chat"]["archived"] is True and got["chat"]["hidden"] is True
    bobs = await bob.socket.ok("chat:get", {"chat_id": chat["id"]})
    assert bobs["chat"]["archived"] is False and bobs["chat"]["hidden"] is False

    dm = await make_dm(second, bob.account)
    assert (await alice.socket.expect_match("chat:new", lambda d: d["chat"]["type"] == "dm"))[
        "chat"
    ]["id"] == dm["id"]
    assert (await bob.socket.expect_match("chat:new", lambda d: d["chat"]["type"] == "dm"))["chat"][
        "id"
    ] == dm["id"]
    assert alice.socket.pending("chat:updated") == []
    assert bob.socket.pending("chat:updated") == []


async def test_dm_with_oneself_or_nobody(people: list[Person]) -> None:
    alice, _, _ = people
    itself = await alice.socket.error("chat:create", {"type": "dm", "user_id": alice.id})
    assert itself["code"] == "bad_request" and "user_id" in itself["details"]["fields"]
    nobody = await alice.socket.error("chat:create", {"type": "dm", "user_id": str(uuid.uuid4())})
    assert nobody == {"code": "not_found", "message": "User not found"}
    assert (await alice.socket.ok("chat:list", {}))["chats"] == []


async def test_group_with_unknown_members_writes_nothing(people: list[Person]) -> None:
    alice, bob, _ = people
    ghost = str(uuid.uuid4())
    error = await alice.socket.error(
        "chat:create", {"type": "group", "name": "G", "member_ids": [bob.id, ghost]}
    )
    assert error["code"] == "not_found" and error["details"] == {"user_ids": [ghost]}
    chat = await make_group(alice.socket, bob.account)
    added = await alice.socket.error(
        "chat:add_members", {"chat_id": chat["id"], "user_ids": [ghost]}
    )
    assert added["code"] == "not_found" and added["details"] == {"user_ids": [ghost]}
    assert len((await alice.socket.ok("chat:list", {}))["chats"]) == 1
    assert len((await alice.socket.ok("chat:get", {"chat_id": chat["id"]}))["chat"]["members"]) == 2


CHAT_EVENTS = [
    "chat:create",
    "chat:list",
    "chat:get",
    "chat:update",
    "chat:add_members",
    "chat:remove_member",
    "chat:leave",
    "chat:set_role",
    "chat:archive",
    "chat:hide",
]


async def test_non_object_payloads_are_refused(people: list[Person]) -> None:
    alice = people[0]
    for event in CHAT_EVENTS:
        for payload in (None, "chat", 7, [1, 2], True):
            error = await alice.socket.error(event, payload)
            assert error["code"] == "bad_request", (event, payload)
    assert alice.socket.sio.connected


def bad_payloads(chat_id: str, user_id: str) -> list[tuple[str, dict[str, Any], str]]:
    """(event, payload, the field `details.fields` must name)."""
    long_name = "x" * 101
    return [
        ("chat:create", {}, "payload"),
        ("chat:create", {"type": "channel"}, "payload"),
        ("chat:create", {"type": "dm"}, "dm.user_id"),
        ("chat:create", {"type": "dm", "user_id": "not-a-uuid"}, "dm.user_id"),
        ("chat:create", {"type": "dm", "user_id": user_id, "name": "x"}, "dm.name"),
        ("chat:create", {"type": "group", "member_ids": []}, "group.name"),
        ("chat:create", {"type": "group", "name": "   ", "member_ids": []}, "group.name"),
        ("chat:create", {"type": "group", "name": long_name, "member_ids": []}, "group.name"),
        ("chat:create", {"type": "group", "name": 5, "member_ids": []}, "group.name"),
        ("chat:create", {"type": "group", "name": "G"}, "group.member_ids"),
        ("chat:create", {"type": "group", "name": "G", "member_ids": user_id}, "group.member_ids"),
        ("chat:create", {"type": "group", "name": "G", "member_ids": [1]}, "group.member_ids.0"),
        ("chat:list", {"include_archived": "yes"}, "include_archived"),
        ("chat:list", {"include_hidden": 1}, "include_hidden"),
        ("chat:list", {"page": 2}, "page"),
        ("chat:get", {}, "chat_id"),
        ("chat:get", {"chat_id": 42}, "chat_id"),
        ("chat:update", {"chat_id": chat_id}, "payload"),
        ("chat:update", {"chat_id": chat_id, "name": None}, "payload"),
        ("chat:update", {"chat_id": chat_id, "name": long_name}, "name"),
        ("chat:update", {"chat_id": chat_id, "avatar_url": 3}, "avatar_url"),
        ("chat:add_members", {"chat_id": chat_id, "user_ids": []}, "user_ids"),
        ("chat:add_members", {"chat_id": chat_id, "user_ids": user_id}, "user_ids"),
        ("chat:add_members", {"chat_id": chat_id}, "user_ids"),
        ("chat:remove_member", {"chat_id": chat_id}, "user_id"),
        ("chat:remove_member", {"chat_id": chat_id, "user_id": [user_id]}, "user_id"),
        ("chat:leave", {"chat_id": None}, "chat_id"),
        ("chat:set_role", {"chat_id": chat_id, "user_id": user_id}, "role"),
        ("chat:set_role", {"chat_id": chat_id, "user_id": user_id, "role": "owner"}, "role"),
        ("chat:archive", {"chat_id": chat_id}, "archived"),
        ("chat:archive", {"chat_id": chat_id, "archived": "true"}, "archived"),
        ("chat:hide", {"chat_id": chat_id, "hidden": 0}, "hidden"),
    ]


async def test_missing_and_wrong_typed_fields_are_named(people: list[Person]) -> None:
    alice, bob, _ = people
    chat = await make_group(alice.socket, bob.account, name="Before")
    for event, payload, field in bad_payloads(chat["id"], bob.id):
        error = await alice.socket.error(event, payload)
        assert error["code"] == "bad_request", (event, payload)
        assert field in error["details"]["fields"], (event, payload, error)
    got = (await alice.socket.ok("chat:get", {"chat_id": chat["id"]}))["chat"]
    assert got["name"] == "Before" and got["archived"] is False
    assert member_roles(got) == {alice.id: "owner", bob.id: "member"}
    assert len((await alice.socket.ok("chat:list", {}))["chats"]) == 1
