"""Calls: start, accept, reject, end, signal relay and Twilio tokens (API.md §4 "Calls").

Media flows peer to peer over WebRTC (this server relays the signalling) or through Twilio
Video when it is configured. One call can be live (ringing or active) per chat: starting
another returns the live one to a caller who already joined it, and `conflict` (with the live
call's id in `details`) to anyone else.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from handlers import call_state, timers
from handlers.access import require_active, require_member
from handlers.call_state import participant, participant_rooms, present_call, require_live
from handlers.context import Actor, Ctx
from handlers.errors import BadRequest, Conflict, NotFound, TooLarge, Unavailable
from handlers.notify import user_room
from handlers.schemas.calls import (
    SIGNAL_MAX_BYTES,
    CallEnvelope,
    CallIdIn,
    CallJoinOut,
    CallOut,
    CallUserEventOut,
    IceServerOut,
    SignalIn,
    SignalOut,
    StartCallIn,
    TokenOut,
    TwilioOut,
)
from handlers.schemas.common import EmptyOut
from infra import video
from models import Call, CallKind, CallParticipant, CallStatus, Membership, ParticipantState, User


def join_answer(ctx: Ctx, user_id: uuid.UUID, call: CallOut) -> CallJoinOut:
    """The call, a Twilio token for its room (when configured) and the ICE servers."""
    token = video.access_token(ctx.settings, str(user_id), call.room_name)
    return CallJoinOut(
        call=call,
        twilio=TwilioOut(token=token, room=call.room_name) if token else None,
        ice_servers=[IceServerOut(urls=url) for url in ctx.settings.ice_servers],
    )


async def start_call(ctx: Ctx, actor: Actor, cmd: StartCallIn) -> CallJoinOut:
    """Ring every other member of the chat; `call:incoming` goes to them."""
    require_active(await User.get(id=actor.user_id))
    await require_member(cmd.chat_id, actor.user_id)
    live = await Call.get_or_none(live_chat_key=str(cmd.chat_id))
    if live is not None:
        return await _live_call_for(ctx, actor, live)
    member_ids = await Membership.filter(chat_id=cmd.chat_id).values_list("user_id", flat=True)
    others = [user_id for user_id in member_ids if user_id != actor.user_id]
    if not others:
        raise BadRequest("Nobody else is in this chat to call")
    try:
        call, participants = await _create_call(actor.user_id, cmd, others)
    except IntegrityError:
        live = await Call.get_or_none(live_chat_key=str(cmd.chat_id))
        if live is None:
            raise Conflict("Another call was starting in this chat; try again") from None
        return await _live_call_for(ctx, actor, live)
    delay = ctx.settings.call_ring_timeout_seconds
    await timers.schedule(ctx, call_state.RING_TIMER, str(call.id), delay, call_id=str(call.id))
    out = present_call(call, participants)
    await ctx.notify.emit("call:incoming", CallEnvelope(call=out), [user_room(u) for u in others])
    return join_answer(ctx, actor.user_id, out)


async def _create_call(
    initiator_id: uuid.UUID, cmd: StartCallIn, others: list[uuid.UUID]
) -> tuple[Call, list[CallParticipant]]:
    call_id = uuid.uuid4()
    async with in_transaction() as conn:
        call = await Call.create(
            id=call_id,
            chat_id=cmd.chat_id,
            room_name=f"call-{call_id.hex}",
            kind=CallKind(cmd.kind),
            initiator_id=initiator_id,
            live_chat_key=str(cmd.chat_id),
            using_db=conn,
        )
        rows = [CallParticipant(call_id=call.id, user_id=user_id) for user_id in others]
        rows.append(
            CallParticipant(
                call_id=call.id,
                user_id=initiator_id,
                state=ParticipantState.JOINED,
                joined_at=call.created_at,
            )
        )
        await CallParticipant.bulk_create(rows, using_db=conn)
        participants = await call_state.participants_of(call.id, conn)
    return call, participants


async def _live_call_for(ctx: Ctx, actor: Actor, live: Call) -> CallJoinOut:
    participants = await call_state.participants_of(live.id)
    joined = [p for p in participants if p.state == ParticipantState.JOINED]
    if not any(p.user_id == actor.user_id for p in joined):
        raise Conflict("A call is already live in this chat", {"call_id": str(live.id)})
    return join_answer(ctx, actor.user_id, present_call(live, participants))


async def accept_call(ctx: Ctx, actor: Actor, cmd: CallIdIn) -> CallJoinOut:
    """Join a live call one was invited to (or left); the first accept makes it active."""
    await call_state.visible_call(cmd.call_id, actor.user_id)
    async with in_transaction() as conn:
        call = await call_state.locked_call(cmd.call_id, conn)
        me = participant(await call_state.participants_of(call.id, conn), actor.user_id)
        require_live(call)
        if me.state == ParticipantState.JOINED:
            raise Conflict("You have already joined this call")
        now = datetime.now(UTC)
        me.state, me.joined_at, me.left_at = ParticipantState.JOINED, now, None
        await me.save(using_db=conn, update_fields=["state", "joined_at", "left_at"])
        if call.status == CallStatus.RINGING:
            call.status, call.started_at = CallStatus.ACTIVE, now
            await call.save(using_db=conn, update_fields=["status", "started_at"])
        participants = await call_state.participants_of(call.id, conn)
    await timers.cancel(ctx, call_state.RING_TIMER, str(call.id))
    out = present_call(call, participants)
    event = CallUserEventOut(call=out, user_id=actor.user_id)
    await ctx.notify.emit("call:accepted", event, participant_rooms(participants))
    return join_answer(ctx, actor.user_id, out)


async def reject_call(ctx: Ctx, actor: Actor, cmd: CallIdIn) -> CallEnvelope:
    """Decline an invitation; a ringing call ends as `rejected` once every invitee declined."""
    await call_state.visible_call(cmd.call_id, actor.user_id)
    async with call_state.record_order(ctx, cmd.call_id):
        return await _reject(ctx, actor, cmd)


async def _reject(ctx: Ctx, actor: Actor, cmd: CallIdIn) -> CallEnvelope:
    record = None
    async with in_transaction() as conn:
        call = await call_state.locked_call(cmd.call_id, conn)
        participants = await call_state.participants_of(call.id, conn)
        me = participant(participants, actor.user_id)
        require_live(call)
        if me.state != ParticipantState.INVITED:
            raise Conflict("Only a pending invitation can be rejected; use call:end to hang up")
        me.state, me.left_at = ParticipantState.REJECTED, datetime.now(UTC)
        await me.save(using_db=conn, update_fields=["state", "left_at"])
        waiting = [p for p in participants if p.state == ParticipantState.INVITED]
        if call.status == CallStatus.RINGING and not waiting:
            record = await call_state.finish(call, "rejected", conn)
        participants = await call_state.participants_of(call.id, conn)
    out, rooms = present_call(call, participants), participant_rooms(participants)
    await ctx.notify.emit("call:rejected", CallUserEventOut(call=out, user_id=actor.user_id), rooms)
    if record is not None:
        await call_state.announce_end(ctx, out, "rejected", record, rooms)
    return CallEnvelope(call=out)


async def end_call(ctx: Ctx, actor: Actor, cmd: CallIdIn) -> CallEnvelope:
    """Hang up: a joined participant ends the call for everyone. Ending it again is a no-op."""
    await call_state.visible_call(cmd.call_id, actor.user_id)
    async with call_state.record_order(ctx, cmd.call_id):
        return await _hang_up(ctx, actor, cmd)


async def _hang_up(ctx: Ctx, actor: Actor, cmd: CallIdIn) -> CallEnvelope:
    record = None
    async with in_transaction() as conn:
        call = await call_state.locked_call(cmd.call_id, conn)
        me = participant(await call_state.participants_of(call.id, conn), actor.user_id)
        if call.status in call_state.LIVE:
            if me.state != ParticipantState.JOINED:
                raise Conflict("You have not joined this call; reject it instead")
            record = await call_state.finish(call, "hangup", conn)
        participants = await call_state.participants_of(call.id, conn)
    out = present_call(call, participants)
    if record is not None:
        await call_state.announce_end(ctx, out, "hangup", record, participant_rooms(participants))
    return CallEnvelope(call=out)


async def relay_signal(ctx: Ctx, actor: Actor, cmd: SignalIn) -> EmptyOut:
    """Pass SDP or an ICE candidate to one other participant of a live call (all their sockets)."""
    if len(orjson.dumps(cmd.data)) > SIGNAL_MAX_BYTES:
        raise TooLarge(f"data is larger than {SIGNAL_MAX_BYTES} bytes (JSON-encoded)")
    if cmd.to_user_id == actor.user_id:
        raise BadRequest("You cannot signal yourself", {"fields": {"to_user_id": "is you"}})
    call = await call_state.visible_call(cmd.call_id, actor.user_id)
    participants = await call_state.participants_of(call.id)
    me = participant(participants, actor.user_id)
    require_live(call)
    if me.state not in call_state.IN_CALL:
        raise Conflict("You are no longer in this call")
    target = next((p for p in participants if p.user_id == cmd.to_user_id), None)
    if target is None or target.state not in call_state.IN_CALL:
        raise NotFound("No such participant in this call")
    signal = SignalOut(call_id=call.id, from_user_id=actor.user_id, data=cmd.data)
    await ctx.notify.emit("call:signal", signal, user_room(cmd.to_user_id))
    return EmptyOut()


async def call_token(ctx: Ctx, actor: Actor, cmd: CallIdIn) -> TokenOut:
    """A fresh Twilio Video token for a live call one has joined."""
    if not ctx.settings.twilio_video_configured:
        raise Unavailable("Twilio Video is not configured")
    call = await call_state.visible_call(cmd.call_id, actor.user_id)
    me = participant(await call_state.participants_of(call.id), actor.user_id)
    require_live(call)
    if me.state != ParticipantState.JOINED:
        raise Conflict("Accept the call before asking for a token")
    token = video.access_token(ctx.settings, str(actor.user_id), call.room_name)
    return TokenOut(twilio=TwilioOut(token=str(token), room=call.room_name))
