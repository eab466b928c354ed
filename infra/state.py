"""Shared ephemeral state: rate limits, presence, revocations, timers, node registry.

One interface, two implementations: `MemoryState` (one process) and `RedisState` (every node
sees the same state). `create_state(redis_url)` picks one. Entries that a dead node could leave
behind (presence, node heartbeats) expire unless refreshed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import LockError

LOCK_POLL_SECONDS = 0.005
"""How often a node's one waiter retries a Redis lock (redis-py polls; 0.1 s by default)."""
LOCK_LEASE_SECONDS = 60.0
"""A Redis lock whose holder died frees itself after this long."""


class LockTimeout(Exception):
    """A lock was not acquired in time."""


class KeyedLocks:
    """asyncio locks by name, created on first use and dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str, timeout_seconds: float) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            try:
                await asyncio.wait_for(lock.acquire(), timeout_seconds)
            except TimeoutError as exc:
                raise LockTimeout(key) from exc
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


@dataclass(frozen=True)
class DueTimer:
    key: str
    payload: dict[str, Any]


class State(ABC):
    """What the application needs of shared state; see the module docstring."""

    @abstractmethod
    async def take_token(self, key: str, rate: float, burst: int, cost: float = 1) -> float:
        """Token bucket: 0 if allowed (a token is spent), else seconds until one is free."""

    @abstractmethod
    async def count_hit(self, key: str, window_seconds: float) -> int:
        """Count an event in a fixed window starting at the first hit; return the count."""

    @abstractmethod
    async def hits(self, key: str) -> tuple[int, float]:
        """(count, seconds until the window ends) for a `count_hit` key."""

    @abstractmethod
    async def clear(self, key: str) -> None: ...

    @abstractmethod
    async def set_once(self, key: str, ttl_seconds: float) -> bool:
        """Set a flag unless it is set; True when this call set it (a throttle)."""

    @abstractmethod
    async def socket_up(self, user_id: str, socket_id: str, ttl_seconds: float) -> int:
        """Record a live socket of a user (or refresh it); return the user's live sockets."""

    @abstractmethod
    async def socket_down(self, user_id: str, socket_id: str) -> int:
        """Forget a socket; return how many live sockets the user still has."""

    @abstractmethod
    async def live_sockets(self, user_ids: list[str]) -> dict[str, int]:
        """Live socket counts (expired entries ignored) for each user."""

    @abstractmethod
    async def user_socket_ids(self, user_id: str) -> list[str]:
        """The user's live socket ids, on every node."""

    @abstractmethod
    async def revoke_session(self, session_id: str, ttl_seconds: float) -> None: ...

    @abstractmethod
    async def is_session_revoked(self, session_id: str) -> bool: ...

    @abstractmethod
    async def schedule(self, key: str, due_at: float, payload: dict[str, Any]) -> None:
        """Create or move a timer (epoch seconds). Any node may fire it."""

    @abstractmethod
    async def cancel(self, key: str) -> None: ...

    @abstractmethod
    async def claim_due(self, now: float, limit: int = 100) -> list[DueTimer]:
        """Atomically take timers that are due: each one is handed to exactly one caller."""

    @abstractmethod
    async def heartbeat_node(self, node_id: str, sockets: int, ttl_seconds: float) -> None: ...

    @abstractmethod
    async def remove_node(self, node_id: str) -> None: ...

    @abstractmethod
    async def nodes(self) -> dict[str, int]:
        """Live nodes and their socket counts."""

    @abstractmethod
    async def ping(self) -> None: ...

    @abstractmethod
    def lock(self, key: str, timeout_seconds: float) -> AbstractAsyncContextManager[None]:
        """A mutex every node respects; released after `timeout_seconds` if its holder died."""

    async def close(self) -> None:
        return None


class MemoryState(State):
    """State for a single process."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._windows: dict[str, tuple[int, float]] = {}
        self._flags: dict[str, float] = {}
        self._sockets: dict[str, dict[str, float]] = {}
        self._timers: dict[str, tuple[float, dict[str, Any]]] = {}
        self._nodes: dict[str, tuple[int, float]] = {}
        self._locks = KeyedLocks()

    async def take_token(self, key: str, rate: float, burst: int, cost: float = 1) -> float:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - stamp) * rate)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (cost - tokens) / rate if rate > 0 else math.inf

    async def count_hit(self, key: str, window_seconds: float) -> int:
        now = time.monotonic()
        count, ends = self._windows.get(key, (0, now + window_seconds))
        if ends <= now:
            count, ends = 0, now + window_seconds
        self._windows[key] = (count + 1, ends)
        return count + 1

    async def hits(self, key: str) -> tuple[int, float]:
        count, ends = self._windows.get(key, (0, 0.0))
        remaining = ends - time.monotonic()
        return (count, remaining) if remaining > 0 else (0, 0.0)

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)
        self._buckets.pop(key, None)
        self._flags.pop(key, None)

    async def set_once(self, key: str, ttl_seconds: float) -> bool:
        now = time.monotonic()
        if self._flags.get(key, 0) > now:
            return False
        self._flags[key] = now + ttl_seconds
        return True

    def _live(self, user_id: str) -> dict[str, float]:
        now = time.time()
        sockets = {s: exp for s, exp in self._sockets.get(user_id, {}).items() if exp > now}
        if sockets:
            self._sockets[user_id] = sockets
        else:
            self._sockets.pop(user_id, None)
        return sockets

    async def socket_up(self, user_id: str, socket_id: str, ttl_seconds: float) -> int:
        sockets = self._live(user_id)
        sockets[socket_id] = time.time() + ttl_seconds
        self._sockets[user_id] = sockets
        return len(sockets)

    async def socket_down(self, user_id: str, socket_id: str) -> int:
        self._sockets.get(user_id, {}).pop(socket_id, None)
        return len(self._live(user_id))

    async def live_sockets(self, user_ids: list[str]) -> dict[str, int]:
        return {user_id: len(self._live(user_id)) for user_id in user_ids}

    async def user_socket_ids(self, user_id: str) -> list[str]:
        return list(self._live(user_id))

    async def revoke_session(self, session_id: str, ttl_seconds: float) -> None:
        self._flags[f"revoked:{session_id}"] = time.monotonic() + ttl_seconds

    async def is_session_revoked(self, session_id: str) -> bool:
        return self._flags.get(f"revoked:{session_id}", 0) > time.monotonic()

    async def schedule(self, key: str, due_at: float, payload: dict[str, Any]) -> None:
        self._timers[key] = (due_at, payload)

    async def cancel(self, key: str) -> None:
        self._timers.pop(key, None)

    async def claim_due(self, now: float, limit: int = 100) -> list[DueTimer]:
        due = sorted((at, key) for key, (at, _) in self._timers.items() if at <= now)[:limit]
        return [DueTimer(key, self._timers.pop(key)[1]) for _, key in due]

    async def heartbeat_node(self, node_id: str, sockets: int, ttl_seconds: float) -> None:
        self._nodes[node_id] = (sockets, time.time() + ttl_seconds)

    async def remove_node(self, node_id: str) -> None:
        self._nodes.pop(node_id, None)

    async def nodes(self) -> dict[str, int]:
        now = time.time()
        return {node: count for node, (count, exp) in self._nodes.items() if exp > now}

    async def ping(self) -> None:
        return None

    def lock(self, key: str, timeout_seconds: float) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(key, timeout_seconds)


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

    async def user_socket_ids(self, user_id: str) -> list[str]:
        ids = await self.redis.zrangebyscore(
            self.p + "sockets:" + user_id, f"({time.time()}", "+inf"
        )
        return [_text(socket_id) for socket_id in ids]

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


def create_state(redis_url: str | None, prefix: str = "parley:") -> State:
    if not redis_url:
        return MemoryState()
    return RedisState(Redis.from_url(redis_url), prefix=prefix)
