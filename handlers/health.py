"""Readiness: can this node reach what it needs?"""

from __future__ import annotations

import asyncio
import logging

from handlers.context import Ctx
from infra import db

log = logging.getLogger(__name__)
CHECK_TIMEOUT_SECONDS = 2.0


async def readiness(ctx: Ctx) -> dict[str, str]:
    checks = {"database": await _check(db.ping())}
    if ctx.settings.redis_url:
        checks["redis"] = await _check(ctx.state.ping())
    return checks


async def _check(probe: object) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
        return "ok"
    except Exception as exc:
        log.warning("readiness check failed: %s", exc)
        return "unavailable"
