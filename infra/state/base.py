"""The shared-state interface, and the pieces both implementations use."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

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
    async def user_socket_ids(self, user_ids: list[str]) -> list[str]:
        """The users' live socket ids, on every node (one round trip)."""

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
