"""Durable timers: any node fires a due timer exactly once (typing ends, calls time out, ...).

Features register a handler per timer kind; `schedule` stores the timer in shared state, so
it still fires if the node that set it is gone or restarted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from handlers.context import Ctx

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25

TimerHandler = Callable[[Ctx, dict[str, Any]], Awaitable[None]]
Recoverer = Callable[[Ctx], Awaitable[None]]
HANDLERS: dict[str, TimerHandler] = {}
RECOVERERS: list[Recoverer] = []


def timer_handler(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    def register(func: TimerHandler) -> TimerHandler:
        HANDLERS[kind] = func
        return func

    return register


def recoverer(func: Recoverer) -> Recoverer:
    """Register a start-up step that re-creates a feature's timers from the database.

    In-memory state is lost on restart; each feature re-schedules (or fires at once) what its
    rows say is still pending, so polls still close and calls still end.
    """
    RECOVERERS.append(func)
    return func


async def recover_all(ctx: Ctx) -> None:
    for recover in RECOVERERS:
        try:
            await recover(ctx)
        except Exception:
            log.exception("timer recovery %s failed", getattr(recover, "__name__", recover))


async def schedule(ctx: Ctx, kind: str, key: str, delay_seconds: float, **payload: Any) -> None:
    await ctx.state.schedule(
        f"{kind}:{key}", time.time() + delay_seconds, {"kind": kind, **payload}
    )


async def cancel(ctx: Ctx, kind: str, key: str) -> None:
    await ctx.state.cancel(f"{kind}:{key}")


async def fire_due(ctx: Ctx) -> int:
    """Run every due timer once; return how many ran."""
    due = await ctx.state.claim_due(time.time())
    for timer in due:
        handler = HANDLERS.get(str(timer.payload.get("kind")))
        if handler is None:
            log.warning("no handler for timer %s", timer.key)
            continue
        try:
            await handler(ctx, timer.payload)
        except Exception:
            log.exception("timer %s failed", timer.key)
    return len(due)


async def run_timers(ctx: Ctx) -> None:
    while True:
        try:
            await fire_due(ctx)
        except Exception:
            log.exception("timer loop failed; retrying")
        await asyncio.sleep(POLL_SECONDS)
