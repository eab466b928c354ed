"""Two `python server.py` processes on one PostgreSQL and one Redis behave as one server."""

from __future__ import annotations

from tests.clients import Api
from tests.test_messages import text
from tests.waiting import eventually


async def test_two_nodes_behave_as_one(cluster, http, sockets) -> None:
    first, second = await cluster(2)
    api = Api(http, first.url)
    alice, bob, carol = [await api.register() for _ in range(3)]
    on_first = await sockets(first.url, alice.access_token)
    on_second = await sockets(second.url, bob.access_token)
    carol_second = await sockets(second.url, carol.access_token)

    created = await on_first.ok(
        "chat:create", {"type": "group", "name": "Nodes", "member_ids": [bob.id]}
    )
    chat_id = created["chat"]["id"]
    assert (await on_second.expect("chat:new"))["chat"]["id"] == chat_id

    sent = await on_first.ok("message:send", text(chat_id, "across"))
    assert (await on_second.expect("message:new")) == sent

    await on_second.ok("typing", {"chat_id": chat_id, "typing": True})
    assert (await on_first.expect("typing"))["user_id"] == bob.id

    await on_first.ok("chat:add_members", {"chat_id": chat_id, "user_ids": [carol.id]})
    after_add = await on_first.ok("message:send", text(chat_id, "welcome"))

    assert (await carol_second.expect("message:new")) == after_add
    await on_first.ok("chat:remove_member", {"chat_id": chat_id, "user_id": carol.id})
    await on_first.ok("message:send", text(chat_id, "not for carol"))
    dm = await on_first.ok("chat:create", {"type": "dm", "user_id": carol.id})
    await carol_second.expect_match("chat:new", lambda d: d["chat"]["id"] == dm["chat"]["id"])
    assert carol_second.pending("message:new") == []

    await on_second.close()
    offline = await on_first.expect_match("presence", lambda d: d["user_id"] == bob.id)
    assert offline["online"] is False and offline["last_seen_at"]


async def test_logout_on_one_node_disconnects_socket_on_other(cluster, http, sockets) -> None:
    first, second = await cluster(2)
    api_first = Api(http, first.url)
    alice = await api_first.register()
    client = await sockets(second.url, alice.access_token)
    status, _ = await api_first.post(
        "/api/auth/logout", {"refresh_token": alice.refresh_token}, token=alice.access_token
    )
    assert status == 204
    await client.wait_disconnected(timeout=1.0)


async def test_a_dead_nodes_users_go_offline(cluster, http, sockets) -> None:
    """A node killed outright runs no disconnect hooks: its presence entries expire instead."""
    first, second = await cluster(2, presence_ttl_seconds="1")
    api = Api(http, first.url)
    alice, bob = await api.register(), await api.register()
    on_first = await sockets(first.url, alice.access_token)
    await sockets(second.url, bob.access_token)
    await on_first.ok("chat:create", {"type": "dm", "user_id": bob.id})

    async def bob_online() -> bool:
        data = await on_first.ok("presence:get", {"user_ids": [bob.id]})
        return data["presence"][bob.id]["online"]

    assert await bob_online() is True
    second.process.kill()
    second.process.wait()
    await eventually(lambda: _negate(bob_online), timeout=5.0)


async def _negate(probe) -> bool:
    return not await probe()
