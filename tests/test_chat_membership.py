"""chat:add_members / remove_member / leave / set_role: rules, broadcasts and room moves."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.clients import Api, make_dm, make_group
from tests.test_chat_list import say
from tests.test_chats import Person, member_roles, person


@pytest.fixture
async def people(api: Api, sockets: Any, server: TestServer) -> list[Person]:
    """alice, bob, carol, dave: fresh users, each with one socket."""
    return [await person(api, sockets, server) for _ in range(4)]


def is_chat(chat_id: str) -> Any:
    return lambda data: data["chat"]["id"] == chat_id


async def test_added_member_gets_the_chat_events_at_once(people: list[Person]) -> None:
    alice, bob, carol, _ = people
    chat = await make_group(alice.socket, bob.account)
    added = await alice.socket.ok(
        "chat:add_members", {"chat_id": chat["id"], "user_ids": [carol.id]}
    )
    assert member_roles(added["chat"]) == {alice.id: "owner", bob.id: "member", carol.id: "member"}
    told = (await carol.socket.expect("chat:updated"))["chat"]
    assert told["id"] == chat["id"] and carol.id in member_roles(told)
    assert carol.id in member_roles(
        (await bob.socket.expect_match("chat:updated", is_chat(chat["id"])))["chat"]
    )

    message = await say(bob.socket, chat["id"], "welcome")
    assert (await carol.socket.expect("message:new"))["message"] == message
    again = await alice.socket.ok(
        "chat:add_members", {"chat_id": chat["id"], "user_ids": [carol.id, carol.id]}
    )
    assert len(again["chat"]["members"]) == 3


async def test_removed_member_stops_receiving_at_once(people: list[Person]) -> None:
    alice, bob, carol, _ = people
    chat = await make_group(alice.socket, bob.account, carol.account)
    await carol.socket.expect("chat:new")
    removed = await alice.socket.ok(
        "chat:remove_member", {"chat_id": chat["id"], "user_id": carol.id}
    )
    assert carol.id not in member_roles(removed["chat"])
    told = (await carol.socket.expect("chat:updated"))["chat"]
    assert told["id"] == chat["id"] and carol.id not in member_roles(told)

    await alice.socket.ok("chat:update", {"chat_id": chat["id"], "name": "Without carol"})
    await say(alice.socket, chat["id"], "not for carol")
    assert (await bob.socket.expect_match("chat:updated", is_chat(chat["id"])))["chat"]["name"]
    dm = await make_dm(alice.socket, carol.account)
    assert (await carol.socket.expect("chat:new"))["chat"]["id"] == dm["id"]
    assert carol.socket.pending("chat:updated") == []
    assert carol.socket.pending("message:new") == []
    assert (await carol.socket.error("chat:get", {"chat_id": chat["id"]}))["code"] == "not_found"


async def test_who_may_remove_whom(people: list[Person]) -> None:
    alice, bob, carol, dave = people
    chat = await make_group(alice.socket, bob.account, carol.account, dave.account)
    chat_id = chat["id"]
    await alice.socket.ok("chat:set_role", {"chat_id": chat_id, "user_id": bob.id, "role": "admin"})
    await alice.socket.ok(
        "chat:set_role", {"chat_id": chat_id, "user_id": carol.id, "role": "admin"}
    )

    def remove(user_id: str) -> dict[str, str]:
        return {"chat_id": chat_id, "user_id": user_id}

    assert (await dave.socket.error("chat:remove_member", remove(bob.id)))["code"] == "forbidden"
    assert (await bob.socket.error("chat:remove_member", remove(alice.id)))["code"] == "forbidden"
    assert (await bob.socket.error("chat:remove_member", remove(carol.id)))["code"] == "forbidden"
    assert (await bob.socket.error("chat:remove_member", remove(bob.id)))["code"] == "bad_request"
    await bob.socket.ok("chat:remove_member", remove(dave.id))
    assert (await bob.socket.error("chat:remove_member", remove(dave.id))) == {
        "code": "not_found",
        "message": "Member not found",
    }
    final = await alice.socket.ok("chat:remove_member", remove(carol.id))
    assert member_roles(final["chat"]) == {alice.id: "owner", bob.id: "admin"}


async def test_roles_are_set_by_the_owner_only(people: list[Person]) -> None:
    alice, bob, carol, _ = people
    chat = await make_group(alice.socket, bob.account, carol.account)
    chat_id = chat["id"]

    def role(user_id: str, value: str) -> dict[str, str]:
        return {"chat_id": chat_id, "user_id": user_id, "role": value}

    promoted = await alice.socket.ok("chat:set_role", role(bob.id, "admin"))
    assert member_roles(promoted["chat"])[bob.id] == "admin"
    told = await carol.socket.expect_match("chat:updated", is_chat(chat_id))
    assert member_roles(told["chat"])[bob.id] == "admin"
    assert (await bob.socket.error("chat:set_role", role(carol.id, "admin")))["code"] == "forbidden"
    assert (await carol.socket.error("chat:set_role", role(carol.id, "admin")))[
        "code"
    ] == "forbidden"
    owner_change = await alice.socket.error("chat:set_role", role(alice.id, "member"))
    assert owner_change["code"] == "bad_request"
    assert (await alice.socket.error("chat:set_role", role(bob.id, "owner")))[
        "code"
    ] == "bad_request"
    dave_id = people[3].id
    assert (await alice.socket.error("chat:set_role", role(dave_id, "admin")))[
        "code"
    ] == "not_found"
    demoted = await alice.socket.ok("chat:set_role", role(bob.id, "member"))
    assert member_roles(demoted["chat"])[bob.id] == "member"


async def test_admins_may_update_and_add_plain_members_may_not(people: list[Person]) -> None:
    alice, bob, carol, dave = people
    chat = await make_group(alice.socket, bob.account, carol.account)
    chat_id = chat["id"]
    add = {"chat_id": chat_id, "user_ids": [dave.id]}
    rename = {"chat_id": chat_id, "name": "By bob"}
    assert (await bob.socket.error("chat:add_members", add))["code"] == "forbidden"
    assert (await bob.socket.error("chat:update", rename))["code"] == "forbidden"
    await alice.socket.ok("chat:set_role", {"chat_id": chat_id, "user_id": bob.id, "role": "admin"})
    assert (await bob.socket.ok("chat:update", rename))["chat"]["name"] == "By bob"
    assert dave.id in member_roles((await bob.socket.ok("chat:add_members", add))["chat"])


async def test_owner_leaving_hands_over_to_longest_standing_admin(people: list[Person]) -> None:
    alice, bob, carol, dave = people
    chat = await make_group(alice.socket, bob.account, carol.account, dave.account)
    chat_id = chat["id"]
    for user in (dave, carol):
        await alice.socket.ok(
            "chat:set_role", {"chat_id": chat_id, "user_id": user.id, "role": "admin"}
        )
    left = await alice.socket.ok("chat:leave", {"chat_id": chat_id})
    assert member_roles(left["chat"]) == {bob.id: "member", carol.id: "owner", dave.id: "admin"}
    assert "role" not in left["chat"]
    told = await bob.socket.expect_match(
        "chat:updated", lambda d: alice.id not in member_roles(d["chat"])
    )
    assert member_roles(told["chat"])[carol.id] == "owner"
    assert (await alice.socket.error("chat:get", {"chat_id": chat_id}))["code"] == "not_found"
    assert (await alice.socket.expect_match("chat:updated", is_chat(chat_id)))["chat"][
        "id"
    ] == chat_id

    await carol.socket.ok(
        "chat:set_role", {"chat_id": chat_id, "user_id": dave.id, "role": "member"}
    )
    left = await carol.socket.ok("chat:leave", {"chat_id": chat_id})
    assert member_roles(left["chat"]) == {bob.id: "owner", dave.id: "member"}
    await bob.socket.ok("chat:leave", {"chat_id": chat_id})
    left = await dave.socket.ok("chat:leave", {"chat_id": chat_id})
    assert left["chat"]["members"] == [] and left["chat"]["id"] == chat_id


async def test_leaver_stops_receiving(people: list[Person]) -> None:
    alice, bob, _, _ = people
    chat = await make_group(alice.socket, bob.account)
    await bob.socket.expect("chat:new")
    await bob.socket.ok("chat:leave", {"chat_id": chat["id"]})
    await say(alice.socket, chat["id"], "after bob left")
    await alice.socket.ok("chat:update", {"chat_id": chat["id"], "name": "Alone"})
    dm = await make_dm(alice.socket, bob.account)
    assert (await bob.socket.expect("chat:new"))["chat"]["id"] == dm["id"]
    assert bob.socket.pending("message:new") == []
    assert [d["chat"]["name"] for d in bob.socket.pending("chat:updated")] == ["Group"]


async def test_dms_have_no_members_to_manage(people: list[Person]) -> None:
    alice, bob, carol, _ = people
    dm = (await make_dm(alice.socket, bob.account))["id"]
    for event, payload in [
        ("chat:add_members", {"chat_id": dm, "user_ids": [carol.id]}),
        ("chat:remove_member", {"chat_id": dm, "user_id": bob.id}),
        ("chat:set_role", {"chat_id": dm, "user_id": bob.id, "role": "admin"}),
        ("chat:update", {"chat_id": dm, "name": "Renamed"}),
        ("chat:leave", {"chat_id": dm}),
    ]:
        assert (await alice.socket.error(event, payload))["code"] == "bad_request", event
    assert len((await alice.socket.ok("chat:get", {"chat_id": dm}))["chat"]["members"]) == 2


async def test_group_size_limit(start_server: Any, http: Any, sockets: Any) -> None:
    """(start_server comes first so its server closes after the sockets do.)"""
    server = await start_server(group_max_members=3)
    api = Api(http, str(server.make_url("")).rstrip("/"))
    owner, *others = [await person(api, sockets, server) for _ in range(4)]
    too_many = await owner.socket.error(
        "chat:create",
        {"type": "group", "name": "Big", "member_ids": [o.id for o in others]},
    )
    assert too_many["code"] == "bad_request" and "member_ids" in too_many["details"]["fields"]
    assert (await owner.socket.ok("chat:list", {}))["chats"] == []
    chat = await make_group(owner.socket, others[0].account, others[1].account)
    over = await owner.socket.error(
        "chat:add_members", {"chat_id": chat["id"], "user_ids": [others[2].id]}
    )
    assert over["code"] == "bad_request" and "user_ids" in over["details"]["fields"]
    got = await owner.socket.ok("chat:get", {"chat_id": chat["id"]})
    assert len(got["chat"]["members"]) == 3
    await owner.socket.ok("chat:remove_member", {"chat_id": chat["id"], "user_id": others[0].id})
    await owner.socket.ok("chat:add_members", {"chat_id": chat["id"], "user_ids": [others[2].id]})


async def test_member_added_on_one_node_hears_the_chat_on_another(cluster, http, sockets) -> None:
    first, second = await cluster(2)
    api = Api(http, first.url)
    alice, bob, carol = [await api.register() for _ in range(3)]
    alice_first = await sockets(first.url, alice.access_token)
    bob_first = await sockets(first.url, bob.access_token)
    carol_second = await sockets(second.url, carol.access_token)
    chat = await make_group(alice_first, bob)

    await alice_first.ok("chat:add_members", {"chat_id": chat["id"], "user_ids": [carol.id]})
    message = await say(bob_first, chat["id"], "across nodes")
    assert (await carol_second.expect("message:new"))["message"] == message
    await alice_first.ok("chat:update", {"chat_id": chat["id"], "name": "Renamed"})
    renamed = await carol_second.expect_match(
        "chat:updated", lambda d: d["chat"]["name"] == "Renamed"
    )
    assert renamed["chat"]["id"] == chat["id"]

    await alice_first.ok("chat:remove_member", {"chat_id": chat["id"], "user_id": carol.id})
    await say(bob_first, chat["id"], "not for carol")
    dm = await make_dm(alice_first, carol)
    await carol_second.expect_match("chat:new", is_chat(dm["id"]))
    assert carol_second.pending("message:new") == []
