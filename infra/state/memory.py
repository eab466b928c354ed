"""Shared state for a single process."""

from __future__ import annotations

import math
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

from infra.state.base import DueTimer, KeyedLocks, State


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

    async def user_socket_ids(self, user_ids: list[str]) -> list[str]:
        return [socket_id for user_id in user_ids for socket_id in self._live(user_id)]

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
