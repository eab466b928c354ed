"""Shared state in Redis: every node sees the same state."""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import LockError

from infra.state.base import (
    LOCK_LEASE_SECONDS,
    LOCK_POLL_SECONDS,
    DueTimer,
    KeyedLocks,
    LockTimeout,
    State,
)

_TAKE_TOKEN = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, now = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= cost then tokens = tokens - cost
elseif rate > 0 then wait = (cost - tokens) / rate
else wait = -1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
local ttl = 60
if rate > 0 then ttl = math.ceil(burst / rate) + 1 end
redis.call('EXPIRE', KEYS[1], ttl)
return tostring(wait)
"""

_COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""

_SOCKET_UP = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])
"""

_SOCKET_DOWN = """
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""

_CLAIM_DUE = """
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for _, key in ipairs(keys) do
  if redis.call('ZREM', KEYS[1], key) == 1 then
    table.insert(out, key)
    table.insert(out, redis.call('HGET', KEYS[2], key) or '{}')
    redis.call('HDEL', KEYS[2], key)
  end
end
return out
"""


class RedisState(State):
    """State shared by every node through one Redis."""

    def __init__(self, redis: Redis, prefix: str = "parley:") -> None:
        self.redis = redis
        self.p = prefix
        self._take_token = redis.register_script(_TAKE_TOKEN)
        self._count_hit = redis.register_script(_COUNT_HIT)
        self._socket_up = redis.register_script(_SOCKET_UP)
        self._socket_down = redis.register_script(_SOCKET_DOWN)
        self._claim_due = redis.register_script(_CLAIM_DUE)
        self._local = KeyedLocks()

    async def take_token(self, key: str, rate: float, burst: int, cost: float = 1) -> float:
        wait = float(
            await self._take_token(
                keys=[self.p + "bucket:" + key], args=[rate, burst, cost, time.time()]
            )
        )
        return math.inf if wait < 0 else wait

    async def count_hit(self, key: str, window_seconds: float) -> int:
        ms = max(1, int(window_seconds * 1000))
        return int(await self._count_hit(keys=[self.p + "hits:" + key], args=[ms]))

    async def hits(self, key: str) -> tuple[int, float]:
        async with self.redis.pipeline(transaction=False) as pipe:
            count, ttl = (
                await pipe.get(self.p + "hits:" + key).pttl(self.p + "hits:" + key).execute()
            )
        if count is None or ttl is None or ttl < 0:
            return 0, 0.0
        return int(count), max(ttl, 1) / 1000  # PTTL 0: under a millisecond left, still counting

    async def clear(self, key: str) -> None:
        await self.redis.delete(
            self.p + "hits:" + key, self.p + "bucket:" + key, self.p + "flag:" + key
        )

    async def set_once(self, key: str, ttl_seconds: float) -> bool:
        ms = max(1, int(ttl_seconds * 1000))
        return bool(await self.redis.set(self.p + "flag:" + key, 1, px=ms, nx=True))

    async def socket_up(self, user_id: str, socket_id: str, ttl_seconds: float) -> int:
        now = time.time()
        args = [now, now + ttl_seconds, socket_id, math.ceil(ttl_seconds) + 1]
        return int(await self._socket_up(keys=[self.p + "sockets:" + user_id], args=args))

    async def socket_down(self, user_id: str, socket_id: str) -> int:
        args = [time.time(), socket_id]
        return int(await self._socket_down(keys=[self.p + "sockets:" + user_id], args=args))

    async def live_sockets(self, user_ids: list[str]) -> dict[str, int]:
        if not user_ids:
            return {}
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zcount(self.p + "sockets:" + user_id, f"({now}", "+inf")
            counts = await pipe.execute()
        return {user_id: int(count) for user_id, count in zip(user_ids, counts, strict=True)}

    async def user_socket_ids(self, user_ids: list[str]) -> list[str]:
        if not user_ids:
            return []
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zrangebyscore(self.p + "sockets:" + user_id, f"({now}", "+inf")
            per_user = await pipe.execute()
        return [_text(socket_id) for ids in per_user for socket_id in ids]

    async def revoke_session(self, session_id: str, ttl_seconds: float) -> None:
        ms = max(1, int(ttl_seconds * 1000))
        await self.redis.set(self.p + "revoked:" + session_id, 1, px=ms)

    async def is_session_revoked(self, session_id: str) -> bool:
        return bool(await self.redis.exists(self.p + "revoked:" + session_id))

    async def schedule(self, key: str, due_at: float, payload: dict[str, Any]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.p + "timer-payloads", key, json.dumps(payload))
            pipe.zadd(self.p + "timers", {key: due_at})
            await pipe.execute()

    async def cancel(self, key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.p + "timers", key)
            pipe.hdel(self.p + "timer-payloads", key)
            await pipe.execute()

    async def claim_due(self, now: float, limit: int = 100) -> list[DueTimer]:
        flat = await self._claim_due(
            keys=[self.p + "timers", self.p + "timer-payloads"], args=[now, limit]
        )
        pairs = zip(flat[::2], flat[1::2], strict=True)
        return [DueTimer(_text(key), json.loads(_text(payload))) for key, payload in pairs]

    async def heartbeat_node(self, node_id: str, sockets: int, ttl_seconds: float) -> None:
        now = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self.p + "nodes", {node_id: now + ttl_seconds})
            pipe.hset(self.p + "node-sockets", node_id, sockets)
            await pipe.execute()

    async def remove_node(self, node_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.p + "nodes", node_id)
            pipe.hdel(self.p + "node-sockets", node_id)
            await pipe.execute()

    async def nodes(self) -> dict[str, int]:
        live = await self.redis.zrangebyscore(self.p + "nodes", f"({time.time()}", "+inf")
        if not live:
            return {}
        counts = await self.redis.hmget(self.p + "node-sockets", live)
        return {_text(node): int(count or 0) for node, count in zip(live, counts, strict=True)}

    async def ping(self) -> None:
        await self.redis.ping()

    @asynccontextmanager
    async def lock(self, key: str, timeout_seconds: float) -> AsyncIterator[None]:
        """This node's waiters queue on a local lock; only its holder competes in Redis.

        The Redis lock expires only if its holder's node dies: LOCK_LEASE_SECONDS is far
        above any write's duration, and a live holder always releases it.
        """
        deadline = time.monotonic() + timeout_seconds
        async with self._local.hold(key, timeout_seconds):
            lock = self.redis.lock(
                self.p + "lock:" + key,
                timeout=max(LOCK_LEASE_SECONDS, timeout_seconds),
                blocking_timeout=max(0.001, deadline - time.monotonic()),
                sleep=LOCK_POLL_SECONDS,
            )
            if not await lock.acquire():
                raise LockTimeout(key)
            try:
                yield
            finally:
                with contextlib.suppress(LockError):
                    await lock.release()

    async def close(self) -> None:
        await self.redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
