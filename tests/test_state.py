"""infra/state/: the same cases against MemoryState and RedisState (real Redis).

Expiry cases use TTLs of a fraction of a second and wait for the state to change.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from infra.state import MemoryState, RedisState, State, create_state
from tests.conftest import TEST_REDIS_URL, require_service
from tests.waiting import eventually

SHORT = 0.15


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[State]:
    if request.param == "memory":
        instance: State = MemoryState()
    else:
        url = require_service(TEST_REDIS_URL, "TEST_REDIS_URL")
        async with aioredis.Redis.from_url(url) as client:
            await client.flushdb()
        instance = create_state(url)
    yield instance
    await instance.close()


async def test_create_state_picks_the_implementation(redis_url: str) -> None:
    assert isinstance(create_state(None), MemoryState)
    redis_state = create_state(redis_url)
    assert isinstance(redis_state, RedisState)
    await redis_state.ping()
    await redis_state.close()


async def test_token_bucket_allows_a_burst_then_refuses_until_refilled(state: State) -> None:
    rate, burst = 20.0, 3
    assert [await state.take_token("b", rate, burst) for _ in range(burst)] == [0.0] * burst
    wait = await state.take_token("b", rate, burst)
    assert 0 < wait <= 1 / rate + 0.01
    assert await state.take_token("other", rate, burst) == 0.0
    await asyncio.sleep(wait + 0.01)
    assert await state.take_token("b", rate, burst) == 0.0
    assert await state.take_token("b", rate, burst) > 0


async def test_token_bucket_cost_and_zero_rate(state: State) -> None:
    assert await state.take_token("c", 1.0, 5, cost=5) == 0.0
    assert await state.take_token("c", 1.0, 5, cost=2) == pytest.approx(2.0, abs=0.1)
    assert await state.take_token("z", 0.0, 1) == 0.0
    assert await state.take_token("z", 0.0, 1) == float("inf")


async def test_count_hit_counts_within_a_window_that_then_ends(state: State) -> None:
    assert await state.hits("h") == (0, 0.0)
    assert [await state.count_hit("h", SHORT) for _ in range(3)] == [1, 2, 3]
    count, remaining = await state.hits("h")
    assert count == 3 and 0 < remaining <= SHORT
    await eventually(lambda: _window_over(state, "h"))
    assert await state.count_hit("h", 60) == 1
    count, remaining = await state.hits("h")
    assert count == 1 and 59 < remaining <= 60


async def _window_over(state: State, key: str) -> bool:
    return await state.hits(key) == (0, 0.0)


async def test_clear_forgets_hits(state: State) -> None:
    await state.count_hit("k", 60)
    await state.count_hit("other", 60)
    await state.clear("k")
    assert await state.hits("k") == (0, 0.0)
    assert (await state.hits("other"))[0] == 1


async def test_set_once_is_set_by_one_caller_until_it_expires(state: State) -> None:
    assert await state.set_once("f", SHORT) is True
    assert await state.set_once("f", SHORT) is False
    assert await state.set_once("g", SHORT) is True
    assert await eventually(lambda: state.set_once("f", 60)) is True
    assert await state.set_once("f", 60) is False


async def test_sockets_are_counted_per_user(state: State) -> None:
    assert await state.socket_up("u1", "s1", 60) == 1
    assert await state.socket_up("u1", "s2", 60) == 2
    assert await state.socket_up("u1", "s1", 60) == 2
    assert await state.socket_up("u2", "s3", 60) == 1
    assert await state.live_sockets(["u1", "u2", "nobody"]) == {"u1": 2, "u2": 1, "nobody": 0}
    assert await state.live_sockets([]) == {}
    assert await state.socket_down("u1", "s1") == 1
    assert await state.socket_down("u1", "s1") == 1
    assert await state.socket_down("u1", "s2") == 0
    assert await state.live_sockets(["u1", "u2"]) == {"u1": 0, "u2": 1}


async def test_socket_ids_of_many_users_in_one_call(state: State) -> None:
    await state.socket_up("u1", "s1", 60)
    await state.socket_up("u1", "s2", 60)
    await state.socket_up("u2", "s3", 60)
    await state.socket_up("u3", "s4", SHORT)
    assert sorted(await state.user_socket_ids(["u1", "u2", "nobody"])) == ["s1", "s2", "s3"]
    assert await state.user_socket_ids([]) == []
    await eventually(lambda: _ids_are(state, ["u3"], []))


async def test_socket_entries_expire_unless_refreshed(state: State) -> None:
    await state.socket_up("u", "short", SHORT)
    await state.socket_up("u", "long", 60)
    await state.socket_up("v", "gone", SHORT)
    assert await state.live_sockets(["u", "v"]) == {"u": 2, "v": 1}
    await eventually(lambda: _counts_are(state, {"u": 1, "v": 0}))
    assert await state.socket_up("v", "gone", 60) == 1
    assert await state.socket_down("u", "long") == 0


async def _ids_are(state: State, user_ids: list[str], expected: list[str]) -> bool:
    return sorted(await state.user_socket_ids(user_ids)) == expected


async def _counts_are(state: State, expected: dict[str, int]) -> bool:
    return await state.live_sockets(list(expected)) == expected


async def test_revoked_sessions_are_remembered_for_their_ttl(state: State) -> None:
    assert await state.is_session_revoked("s") is False
    await state.revoke_session("s", SHORT)
    await state.revoke_session("forever", 60)
    assert await state.is_session_revoked("s") is True
    await eventually(lambda: _not_revoked(state, "s"))
    assert await state.is_session_revoked("forever") is True


async def _not_revoked(state: State, session_id: str) -> bool:
    return not await state.is_session_revoked(session_id)


async def test_timers_fire_when_due_earliest_first(state: State) -> None:
    now = time.time()
    await state.schedule("late", now - 1, {"n": 2})
    await state.schedule("early", now - 2, {"n": 1, "nested": {"a": [1]}})
    await state.schedule("future", now + 60, {"n": 3})
    first = await state.claim_due(now, limit=1)
    assert [(t.key, t.payload) for t in first] == [("early", {"n": 1, "nested": {"a": [1]}})]
    assert [t.key for t in await state.claim_due(now)] == ["late"]
    assert await state.claim_due(now) == []
    assert [t.key for t in await state.claim_due(now + 61)] == ["future"]


async def test_schedule_moves_and_cancel_removes_a_timer(state: State) -> None:
    now = time.time()
    await state.schedule("t", now + 60, {"v": 1})
    await state.schedule("t", now - 1, {"v": 2})
    await state.schedule("gone", now - 1, {})
    await state.cancel("gone")
    await state.cancel("never-scheduled")
    due = await state.claim_due(now)
    assert [(t.key, t.payload) for t in due] == [("t", {"v": 2})]


async def test_each_due_timer_is_claimed_exactly_once(state: State) -> None:
    now = time.time()
    keys = {f"timer-{i}" for i in range(60)}
    for key in keys:
        await state.schedule(key, now - 1, {"key": key})
    claimers = [state, *_more_claimers(state, 3)]

    async def claim_all(claimer: State) -> list[str]:
        taken: list[str] = []
        while batch := await claimer.claim_due(now, limit=4):
            taken += [timer.key for timer in batch]
            await asyncio.sleep(0)
        return taken

    results = await asyncio.gather(*(claim_all(c) for c in claimers for _ in range(2)))
    claimed = [key for result in results for key in result]
    assert sorted(claimed) == sorted(keys)
    assert sum(1 for result in results if result) > 1
    for extra in claimers[1:]:
        await extra.close()


def _more_claimers(state: State, count: int) -> list[State]:
    """Other nodes: separate Redis clients on the same keys (memory: the one object)."""
    if isinstance(state, MemoryState):
        return []
    return [create_state(TEST_REDIS_URL) for _ in range(count)]


async def test_node_heartbeats_expire_and_nodes_leave(state: State) -> None:
    node = uuid.uuid4().hex
    await state.heartbeat_node(node, 3, 60)
    await state.heartbeat_node("dying", 5, SHORT)
    assert await state.nodes() == {node: 3, "dying": 5}
    await state.heartbeat_node(node, 4, 60)
    await eventually(lambda: _nodes_are(state, {node: 4}))
    await state.remove_node(node)
    assert await state.nodes() == {}


async def _nodes_are(state: State, expected: dict[str, int]) -> bool:
    return await state.nodes() == expected
