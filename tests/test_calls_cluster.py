"""Calls across two `python server.py` processes sharing PostgreSQL and Redis."""

from __future__ import annotations

from tests.clients import Api
from tests.conftest import JWT_SECRET, TEST_DATABASE_URL
from tests.nodes import start_nodes


async def test_caller_and_callee_on_different_nodes(cluster, http, sockets) -> None:
    first, second = await cluster(2)
    api = Api(http, first.url)
    alice, bob = await api.register(), await api.register()
    caller = await sockets(first.url, alice.access_token)
    callee = await sockets(second.url, bob.access_token)
    dm = await caller.ok("chat:create", {"type": "dm", "user_id": bob.id})
    chat_id = dm["chat"]["id"]

    call = (await caller.ok("call:start", {"chat_id": chat_id, "kind": "video"}))["call"]
    assert await callee.expect("call:incoming") == {"call": call}
    accepted = await callee.ok("call:accept", {"call_id": call["id"]})
    event = await caller.expect("call:accepted")
    assert event == {"call": accepted["call"], "user_id": bob.id}

    offer = {"type": "offer", "sdp": "v=0\r\n"}
    await caller.ok("call:signal", {"call_id": call["id"], "to_user_id": bob.id, "data": offer})
    relayed = await callee.expect("call:signal")
    assert relayed == {"call_id": call["id"], "from_user_id": alice.id, "data": offer}
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    await callee.ok("call:signal", {"call_id": call["id"], "to_user_id": alice.id, "data": answer})
    assert (await caller.expect("call:signal"))["data"] == answer

    ended = (await caller.ok("call:end", {"call_id": call["id"]}))["call"]
    assert await callee.expect("call:ended") == {"call": ended, "reason": "hangup"}
    record = (await callee.expect("message:new"))["message"]
    assert record["type"] == "call" and record["meta"]["status"] == "ended"


async def test_node_started_later_rearms_ring_timeout(
    cluster, http, sockets, redis_url, tmp_path
) -> None:
    """A new node's start-up recovery re-arms a ringing call's timer with its own settings."""
    [first] = await cluster(1)
    api = Api(http, first.url)
    alice, bob = await api.register(), await api.register()
    caller = await sockets(first.url, alice.access_token)
    dm = await caller.ok("chat:create", {"type": "dm", "user_id": bob.id})
    call = (await caller.ok("call:start", {"chat_id": dm["chat"]["id"], "kind": "audio"}))["call"]

    env = {
        "DATABASE_URL": str(TEST_DATABASE_URL),
        "REDIS_URL": redis_url,
        "JWT_SECRET": JWT_SECRET,
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "WARNING",
        "CALL_RING_TIMEOUT_SECONDS": "0.2",
    }
    (tmp_path / "later").mkdir()
    [later] = await start_nodes(1, env, tmp_path / "later")
    try:
        ended = await caller.expect("call:ended")
    finally:
        later.stop()
    assert ended["reason"] == "no_answer" and ended["call"]["id"] == call["id"]
    assert ended["call"]["status"] == "missed"
