"""Call records: what a caller may see, how a call is shown, and how it ends.

Every state change locks the call row (SELECT ... FOR UPDATE) inside its transaction, so
accepts, rejects, hang-ups and timers racing on any node apply one after another. A call that
ends leaves a `call` system message in its chat (the record clients show in history).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from handlers import timers
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, NotFound
from handlers.message_view import present_message
from handlers.notify import chat_room, user_room
from handlers.ordering import append_message, chat_order_lock
from handlers.schemas.calls import CallEndedOut, CallOut, EndReason
from handlers.schemas.messages import MessageEnvelope
from infra import video
from models import (
    Call,
    CallParticipant,
    CallStatus,
    Membership,
    Message,
    MessageType,
    ParticipantState,
    Role,
    User,
)

LIVE = (CallStatus.RINGING, CallStatus.ACTIVE)
IN_CALL = (ParticipantState.INVITED, ParticipantState.JOINED)
RING_TIMER = "call_ring"
CALL_NOT_FOUND = "Call not found"
RECORD_VIEWER = User(role=Role.USER)
"""Call records are never hidden, so they read the same to every member."""


async def visible_call(call_id: uuid.UUID, user_id: uuid.UUID) -> Call:
    """A call of a chat the user belongs to, or `not_found` (exactly like an unknown id)."""
    call = await Call.get_or_none(id=call_id)
    if call is None or not await Membership.exists(chat_id=call.chat_id, user_id=user_id):
        raise NotFound(CALL_NOT_FOUND)
    return call


async def locked_call(call_id: uuid.UUID, conn: BaseDBAsyncClient) -> Call:
    return await Call.filter(id=call_id).select_for_update().using_db(conn).get()


async def participants_of(
    call_id: uuid.UUID, conn: BaseDBAsyncClient | None = None
) -> list[CallParticipant]:
    return await CallParticipant.filter(call_id=call_id).using_db(conn).order_by("user_id")


def participant(participants: list[CallParticipant], user_id: uuid.UUID) -> CallParticipant:
    """The user's place in the call; a chat member who was not invited is `forbidden`."""
    for candidate in participants:
        if candidate.user_id == user_id:
            return candidate
    raise Forbidden("You were not invited to this call")


def require_live(call: Call) -> None:
    if call.status not in LIVE:
        raise Conflict("The call has ended")


def present_call(call: Call, participants: list[CallParticipant]) -> CallOut:
    """The contract's `call`; the initiator comes first in `participant_ids`."""
    ids = [p.user_id for p in participants]
    ids.sort(key=lambda user_id: user_id != call.initiator_id)
    return CallOut(
        id=call.id,
        chat_id=call.chat_id,
        room_name=call.room_name,
        kind=call.kind.value,
        initiator_id=call.initiator_id,
        participant_ids=ids,
        status=call.status.value,
        started_at=call.started_at,
        ended_at=call.ended_at,
        duration_seconds=call.duration_seconds,
    )


def participant_rooms(participants: list[CallParticipant]) -> list[str]:
    return [user_room(p.user_id) for p in participants]


async def finish(call: Call, reason: EndReason, conn: BaseDBAsyncClient) -> Message:
    """Close a live, locked call in the caller's transaction and write its record message."""
    now = datetime.now(UTC)
    if call.started_at is not None:
        call.status = CallStatus.ENDED
        call.duration_seconds = int((now - call.started_at).total_seconds())
    else:
        call.status = CallStatus.REJECTED if reason == "rejected" else CallStatus.MISSED
    call.ended_at, call.end_reason, call.live_chat_key = now, reason, None
    await call.save(
        using_db=conn,
        update_fields=["status", "duration_seconds", "ended_at", "end_reason", "live_chat_key"],
    )
    await (
        CallParticipant.filter(call_id=call.id, state=ParticipantState.JOINED)
        .using_db(conn)
        .update(state=ParticipantState.LEFT, left_at=now)
    )
    meta = {
        "call_id": str(call.id),
        "kind": call.kind.value,
        "status": call.status.value,
        "duration_seconds": call.duration_seconds,
    }
    return await append_message(
        call.chat_id,
        conn,
        sender_id=call.initiator_id,
        type=MessageType.CALL,
        attachment=None,
        meta=meta,
    )


async def announce_end(
    ctx: Ctx, call: CallOut, reason: EndReason, record: Message, rooms: list[str]
) -> None:
    """After commit: `call:ended` to the participants' rooms, the record to the chat, the
    ring timer cancelled and the Twilio room completed."""
    await timers.cancel(ctx, RING_TIMER, str(call.id))
    await ctx.notify.emit("call:ended", CallEndedOut(call=call, reason=reason), rooms)
    message = await present_message(record, RECORD_VIEWER)
    await ctx.notify.emit("message:new", MessageEnvelope(message=message), chat_room(call.chat_id))
    video.complete_room_soon(ctx.settings, call.room_name)


@asynccontextmanager
async def record_order(ctx: Ctx, call_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold around a change that may end the call: its record message is a `message:new`,
    which must leave in seq order like any other (handlers/ordering.py)."""
    chat_ids = await Call.filter(id=call_id).values_list("chat_id", flat=True)
    if not chat_ids:
        yield
        return
    async with chat_order_lock(ctx, chat_ids[0]):
        yield


async def end_if(ctx: Ctx, call_id: uuid.UUID, reason: EndReason, *states: CallStatus) -> None:
    """End the call with `reason` if it is (still) in one of `states` (timers, recovery)."""
    async with record_order(ctx, call_id):
        await _end_if(ctx, call_id, reason, *states)


async def _end_if(ctx: Ctx, call_id: uuid.UUID, reason: EndReason, *states: CallStatus) -> None:
    async with in_transaction() as conn:
        call = await locked_call(call_id, conn)
        if call.status not in states:
            return
        record = await finish(call, reason, conn)
        participants = await participants_of(call.id, conn)
    out = present_call(call, participants)
    await announce_end(ctx, out, reason, record, participant_rooms(participants))


async def leave(ctx: Ctx, call_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """A joined participant leaves; the call ends when fewer than two remain joined.

    A ringing call has only its initiator joined: it ends when they leave.
    """
    async with record_order(ctx, call_id):
        await _leave(ctx, call_id, user_id)


async def _leave(ctx: Ctx, call_id: uuid.UUID, user_id: uuid.UUID) -> None:
    async with in_transaction() as conn:
        call = await locked_call(call_id, conn)
        if call.status not in LIVE:
            return
        left = await (
            CallParticipant.filter(call_id=call_id, user_id=user_id, state=ParticipantState.JOINED)
            .using_db(conn)
            .update(state=ParticipantState.LEFT, left_at=datetime.now(UTC))
        )
        if not left:
            return
        joined = (
            await CallParticipant.filter(call_id=call_id, state=ParticipantState.JOINED)
            .using_db(conn)
            .count()
        )
        if joined >= (2 if call.status == CallStatus.ACTIVE else 1):
            return
        record = await finish(call, "left", conn)
        participants = await participants_of(call.id, conn)
    out = present_call(call, participants)
    await announce_end(ctx, out, "left", record, participant_rooms(participants))
