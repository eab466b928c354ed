"""Shared ephemeral state: rate limits, presence, revocations, timers, node registry.

One interface, two implementations: `MemoryState` (one process) and `RedisState` (every node
sees the same state). `create_state(redis_url)` picks one. Entries that a dead node could leave
behind (presence, node heartbeats) expire unless refreshed.
"""

from __future__ import annotations

from redis.asyncio import Redis

from infra.state.base import DueTimer, LockTimeout, State
from infra.state.memory import MemoryState
from infra.state.redis import RedisState

__all__ = ["DueTimer", "LockTimeout", "MemoryState", "RedisState", "State", "create_state"]


def create_state(redis_url: str | None, prefix: str = "parley:") -> State:
    if not redis_url:
        return MemoryState()
    return RedisState(Redis.from_url(redis_url), prefix=prefix)
