"""Await a condition on real state instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_SECONDS = 0.01


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float = 3.0) -> T:
    """Call `probe` until it returns something truthy (returned), or fail after `timeout`."""
    async with asyncio.timeout(timeout):
        while True:
            value = await probe()
            if value:
                return value
            await asyncio.sleep(POLL_SECONDS)
