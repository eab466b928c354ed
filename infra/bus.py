"""Control messages between nodes (room moves, disconnects), separate from broadcasts.

`MemoryBus` for one process; `RedisBus` publishes on a Redis channel every node listens to.
The publishing node handles its own message at once, before publishing, so a caller that
awaits `publish` knows its own node is already done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

RESUBSCRIBE_SECONDS = (0.1, 5.0)
"""First and longest pause between attempts to subscribe again after losing Redis."""
Handler = Callable[[dict[str, Any]], Awaitable[None]]
log = logging.getLogger(__name__)


class MemoryBus:
    def __init__(self) -> None:
        self.node_id = uuid.uuid4().hex
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def publish(self, message: dict[str, Any]) -> None:
        if self._handler is not None:
            await self._handler(message)

    async def stop(self) -> None:
        self._handler = None


class RedisBus(MemoryBus):
    def __init__(self, redis_url: str, channel: str) -> None:
        super().__init__()
        self._redis = Redis.from_url(redis_url)
        self._channel = channel
        self._task: asyncio.Task[None] | None = None

    async def start(self, handler: Handler) -> None:
        """Subscribe before returning (a node that cannot reach Redis fails to start)."""
        await super().start(handler)
        pubsub = await self._subscribe()
        self._task = asyncio.create_task(self._listen(pubsub), name="control-bus")

    async def _subscribe(self) -> PubSub:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
        except BaseException:
            await pubsub.aclose()
            raise
        return pubsub

    async def _listen(self, pubsub: PubSub | None) -> None:
        """Deliver messages for good: after a Redis outage, subscribe again."""
        delay = RESUBSCRIBE_SECONDS[0]
        while True:
            try:
                pubsub = pubsub or await self._subscribe()
                delay = RESUBSCRIBE_SECONDS[0]
                async with pubsub:
                    async for raw in pubsub.listen():
                        await self._deliver(raw)
            except RedisError as exc:
                log.warning("control bus lost Redis (%s); subscribing again", exc)
            pubsub = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESUBSCRIBE_SECONDS[1])

    async def _deliver(self, raw: dict[str, Any]) -> None:
        try:
            message = json.loads(raw["data"])
            if message.pop("_node", None) != self.node_id and self._handler:
                await self._handler(message)
        except Exception:
            log.exception("control message failed")

    async def publish(self, message: dict[str, Any]) -> None:
        await super().publish(message)
        await self._redis.publish(self._channel, json.dumps({**message, "_node": self.node_id}))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await super().stop()
        await self._redis.aclose()


def channel(redis_url: str, name: str) -> str:
    """A pub/sub channel name for this Redis database: channels are server-wide, databases
    are not, so deployments (or test workers) on one Redis server must not share names."""
    database = Redis.from_url(redis_url).connection_pool.connection_kwargs.get("db", 0)
    return f"parley:{database}:{name}"


def create_bus(redis_url: str | None) -> MemoryBus:
    return RedisBus(redis_url, channel(redis_url, "control")) if redis_url else MemoryBus()
