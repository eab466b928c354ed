"""Per-connection event budgets: a rate (token bucket), events in flight, and a flood cut-off.

python-socketio starts a task for every incoming event with no limit of its own, so each
connection gets an allowance on the node that holds it (a connection lives on one node, so
this state is local). An event over budget is answered `rate_limited` without running; a
connection refused more than `EVENTS_FLOOD_LIMIT` times within a `FLOOD_WINDOW_SECONDS` window
(opened by its first refusal) is disconnected through `on_flood`. See docs/security.md.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from handlers.errors import RateLimited
from infra.settings import Settings

FLOOD_WINDOW_SECONDS = 10.0


@dataclass
class TokenBucket:
    rate: float
    burst: int
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """0 when a token was spent, else the seconds until one is free."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Allowance:
    """One connection's budget."""

    bucket: TokenBucket | None
    in_flight: int = 0
    refusals: int = 0
    window_ends: float = 0.0


class EventBudgets:
    """The allowances of this node's connections, keyed by Socket.IO sid."""

    def __init__(self, settings: Settings, on_flood: Callable[[str], Awaitable[None]]) -> None:
        self.rate = settings.events_per_second
        self.burst = settings.events_burst
        self.max_in_flight = settings.max_events_in_flight
        self.flood_limit = settings.events_flood_limit
        self.on_flood = on_flood
        self._allowances: dict[str, Allowance] = {}

    def open(self, sid: str) -> None:
        now = time.monotonic()
        limited = self.rate > 0 and self.burst > 0
        bucket = TokenBucket(self.rate, self.burst, float(self.burst), now) if limited else None
        self._allowances[sid] = Allowance(bucket)

    def close(self, sid: str) -> None:
        self._allowances.pop(sid, None)

    @asynccontextmanager
    async def spend(self, sid: str) -> AsyncIterator[None]:
        """Run one event within the connection's budget, or raise `RateLimited`.

        A connection without an allowance (not connected) is not limited here; the
        dispatcher refuses it anyway.
        """
        allowance = self._allowances.get(sid)
        if allowance is None:
            yield
            return
        wait = self._wait(allowance)
        if wait > 0:
            await self._refused(sid, allowance)
            raise RateLimited(wait, "Too many events on this connection; slow down")
        allowance.in_flight += 1
        try:
            yield
        finally:
            allowance.in_flight -= 1

    def _wait(self, allowance: Allowance) -> float:
        if self.max_in_flight and allowance.in_flight >= self.max_in_flight:
            return 1.0
        if allowance.bucket is None:
            return 0.0
        return allowance.bucket.take(time.monotonic())

    async def _refused(self, sid: str, allowance: Allowance) -> None:
        now = time.monotonic()
        if now >= allowance.window_ends:
            allowance.refusals, allowance.window_ends = 0, now + FLOOD_WINDOW_SECONDS
        allowance.refusals += 1
        if allowance.refusals > self.flood_limit:
            self.close(sid)
            await self.on_flood(sid)
