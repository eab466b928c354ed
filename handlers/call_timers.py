"""Call timers: ring timeout, the rejoin grace period, and recovery after a restart.

Timers live in shared state (handlers/timers.py), so any node fires them. The transport calls
`user_disconnected` / `user_connected` around every socket; a joined participant whose sockets
are all gone for CALL_REJOIN_GRACE_SECONDS leaves the call.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from handlers import call_state, timers
from handlers.call_state import LIVE, RING_TIMER
from handlers.context import Ctx
from models import Call, CallParticipant, CallStatus, ParticipantState

LEAVE_TIMER = "call_leave"


def _leave_key(call_id: uuid.UUID | str, user_id: uuid.UUID | str) -> str:
    return f"{call_id}:{user_id}"


async def _joined_live_calls(user_id: uuid.UUID) -> list[uuid.UUID]:
    return await CallParticipant.filter(
        user_id=user_id, state=ParticipantState.JOINED, call__status__in=LIVE
    ).values_list("call_id", flat=True)


async def _is_connected(ctx: Ctx, user_id: str) -> bool:
    return (await ctx.state.live_sockets([user_id])).get(user_id, 0) > 0


async def _start_grace(ctx: Ctx, call_id: uuid.UUID | str, user_id: uuid.UUID | str) -> None:
    await timers.schedule(
        ctx,
        LEAVE_TIMER,
        _leave_key(call_id, user_id),
        ctx.settings.call_rejoin_grace_seconds,
        call_id=str(call_id),
        user_id=str(user_id),
    )


async def user_disconnected(ctx: Ctx, user_id: uuid.UUID) -> None:
    """A socket closed: if it was the user's last anywhere, start their grace period."""
    if await _is_connected(ctx, str(user_id)):
        return
    for call_id in await _joined_live_calls(user_id):
        await _start_grace(ctx, call_id, user_id)


async def user_connected(ctx: Ctx, user_id: uuid.UUID) -> None:
    """A socket opened: the user is back in time for every call they joined."""
    for call_id in await _joined_live_calls(user_id):
        await timers.cancel(ctx, LEAVE_TIMER, _leave_key(call_id, user_id))


@timers.timer_handler(RING_TIMER)
async def ring_timed_out(ctx: Ctx, payload: dict[str, Any]) -> None:
    """Nobody accepted in time: the call ends as `missed`."""
    call_id = uuid.UUID(payload["call_id"])
    await call_state.end_if(ctx, call_id, "no_answer", CallStatus.RINGING)


@timers.timer_handler(LEAVE_TIMER)
async def grace_expired(ctx: Ctx, payload: dict[str, Any]) -> None:
    """Still no socket after the grace period: the participant leaves the call."""
    if await _is_connected(ctx, payload["user_id"]):
        return
    await call_state.leave(ctx, uuid.UUID(payload["call_id"]), uuid.UUID(payload["user_id"]))


@timers.recoverer
async def recover_calls(ctx: Ctx) -> None:
    """After a restart: end live calls nobody is connected to; re-arm the others' timers."""
    calls = await Call.filter(status__in=LIVE)
    joined = await CallParticipant.filter(
        call_id__in=[call.id for call in calls], state=ParticipantState.JOINED
    ).values_list("call_id", "user_id")
    connected = await ctx.state.live_sockets(sorted({str(user_id) for _, user_id in joined}))
    for call in calls:
        members = [str(user_id) for call_id, user_id in joined if call_id == call.id]
        offline = [user_id for user_id in members if not connected.get(user_id)]
        if len(offline) == len(members):
            await call_state.end_if(ctx, call.id, "server_restart", *LIVE)
            continue
        if call.status == CallStatus.RINGING:
            due = call.created_at.timestamp() + ctx.settings.call_ring_timeout_seconds
            delay = max(0.0, due - time.time())
            await timers.schedule(ctx, RING_TIMER, str(call.id), delay, call_id=str(call.id))
        for user_id in offline:
            await _start_grace(ctx, call.id, user_id)
