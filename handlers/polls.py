"""Polls: a `poll` message, ballots replaced atomically, closing by hand or at `closes_at`.

Every vote and close bumps the chat's `change` (under its row lock, which also serialises
concurrent ballots) and stamps it on the poll's message, so `sync` carries it. `poll:updated`
goes to the chat room with `my_votes: []`: one room emit cannot be personal, so each client
keeps its own ballot from its ack, history or sync. Writes and their broadcasts hold the
chat-order lock, so broadcasts leave in change order and the last one is the latest state.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from handlers import timers
from handlers.access import is_chat_admin, require_active, require_member
from handlers.context import Actor, Ctx
from handlers.errors import BadRequest, Conflict, Forbidden, NotFound
from handlers.message_lock import change_open_message
from handlers.message_view import present_message
from handlers.messages import post_message, posted_before, take_send_token, visible_message
from handlers.notify import chat_room
from handlers.ordering import append_message, chat_order_lock
from handlers.poll_view import is_closed, present_poll
from handlers.schemas.messages import MessageEnvelope
from handlers.schemas.polls import CreatePollIn, PollEnvelope, PollIdIn, PollUpdatedOut, VoteIn
from models import Membership, Message, MessageType, Poll, PollOption, PollVote

POLL_NOT_FOUND = "Poll not found"
CLOSE_TIMER = "poll_close"


class _Unchanged(Exception):
    """Raised inside the transaction so a repeated close rolls back its change number."""


async def create_poll(ctx: Ctx, actor: Actor, cmd: CreatePollIn) -> MessageEnvelope:
    """A poll message with the chat's next seq; re-sending a client_id returns the original."""
    require_active(actor.user)
    await require_member(cmd.chat_id, actor.user_id)
    message = await posted_before(actor, cmd.chat_id, cmd.client_id, MessageType.POLL)
    if message is not None:
        return MessageEnvelope(message=await present_message(message, actor.user))
    await take_send_token(ctx, actor)
    insert = partial(_insert_poll, actor, cmd)
    out = await post_message(ctx, actor, cmd.chat_id, cmd.client_id, MessageType.POLL, insert)
    poll = out.message.poll
    if poll is not None and poll.closes_at is not None and not poll.closed:
        await _schedule_close(ctx, poll.id, poll.closes_at)
    return out


async def _insert_poll(actor: Actor, cmd: CreatePollIn) -> Message:
    async with in_transaction() as conn:
        message = await append_message(
            cmd.chat_id,
            conn,
            client_id=cmd.client_id,
            sender_id=actor.user_id,
            type=MessageType.POLL,
            attachment=None,
        )
        poll = await Poll.create(
            message=message,
            chat_id=cmd.chat_id,
            creator_id=actor.user_id,
            question=cmd.question,
            multiple_choice=cmd.multiple_choice,
            anonymous=cmd.anonymous,
            closes_at=cmd.closes_at,
            using_db=conn,
        )
        await PollOption.bulk_create(
            [PollOption(poll=poll, position=i, text=text) for i, text in enumerate(cmd.options)],
            using_db=conn,
        )
    return message


async def vote(ctx: Ctx, actor: Actor, cmd: VoteIn) -> PollEnvelope:
    """Replace the caller's ballot (`[]` retracts) in one transaction."""
    require_active(actor.user)
    poll, _ = await _visible_poll(actor, cmd.poll_id)
    await _check_ballot(poll, cmd.option_ids)
    async with chat_order_lock(ctx, poll.chat_id):
        async with in_transaction() as conn:
            change, poll = await _locked_poll(poll, conn)
            if is_closed(poll):
                raise Conflict("The poll is closed")
            ballot = PollVote.filter(poll_id=poll.id, user_id=actor.user_id)
            await ballot.using_db(conn).delete()
            await PollVote.bulk_create(
                [PollVote(poll=poll, option_id=o, user_id=actor.user_id) for o in cmd.option_ids],
                using_db=conn,
            )
            await Message.filter(id=poll.message_id).using_db(conn).update(change=change)
        return await _publish(ctx, poll, actor.user_id)


async def _check_ballot(poll: Poll, option_ids: list[uuid.UUID]) -> None:
    if not poll.multiple_choice and len(option_ids) > 1:
        raise BadRequest(
            "This poll takes one option (or [] to retract)",
            {"fields": {"option_ids": "single choice: at most one option"}},
        )
    known = await PollOption.filter(poll_id=poll.id, id__in=option_ids).count() if option_ids else 0
    if known != len(option_ids):
        raise BadRequest(
            "Every option must belong to this poll",
            {"fields": {"option_ids": "not options of this poll"}},
        )


async def close_poll(ctx: Ctx, actor: Actor, cmd: PollIdIn) -> PollEnvelope:
    """The creator or a group admin closes the poll; closing a closed poll changes nothing."""
    require_active(actor.user)
    poll, membership = await _visible_poll(actor, cmd.poll_id)
    if poll.creator_id != actor.user_id and not is_chat_admin(membership):
        raise Forbidden("Only the poll's creator or a group admin can close it")
    closed = await _close(ctx, poll, actor.user_id)
    if closed is None:
        return PollEnvelope(poll=await present_poll(await Poll.get(id=poll.id), actor.user_id))
    await timers.cancel(ctx, CLOSE_TIMER, str(poll.id))
    return closed


async def _visible_poll(actor: Actor, poll_id: uuid.UUID) -> tuple[Poll, Membership]:
    """A poll whose message the caller may see; anything else is `not_found`."""
    poll = await Poll.get_or_none(id=poll_id)
    if poll is None:
        raise NotFound(POLL_NOT_FOUND)
    try:
        _, membership = await visible_message(poll.message_id, actor)
    except NotFound:
        raise NotFound(POLL_NOT_FOUND) from None
    return poll, membership


async def _locked_poll(poll: Poll, conn: BaseDBAsyncClient) -> tuple[int, Poll]:
    """The chat's next change (taking its lock) and the poll re-read under that lock.

    A poll whose message was deleted or hidden takes no more votes or closes: `conflict`.
    """
    change = await change_open_message(poll.message_id, poll.chat_id, conn)
    return change, await Poll.filter(id=poll.id).using_db(conn).get()


async def _close(ctx: Ctx, poll: Poll, viewer_id: uuid.UUID | None) -> PollEnvelope | None:
    """Close the poll and broadcast it; None when it was closed already (nothing written)."""
    async with chat_order_lock(ctx, poll.chat_id):
        try:
            async with in_transaction() as conn:
                change, poll = await _locked_poll(poll, conn)
                if poll.closed_at is not None:
                    raise _Unchanged
                poll.closed_at = datetime.now(UTC)
                await poll.save(using_db=conn, update_fields=["closed_at"])
                await Message.filter(id=poll.message_id).using_db(conn).update(change=change)
        except _Unchanged:
            return None
        return await _publish(ctx, poll, viewer_id)


async def _publish(ctx: Ctx, poll: Poll, viewer_id: uuid.UUID | None) -> PollEnvelope:
    out = await present_poll(poll, viewer_id)
    shared = out.model_copy(update={"my_votes": []})
    await ctx.notify.emit(
        "poll:updated",
        PollUpdatedOut(poll_id=poll.id, chat_id=poll.chat_id, poll=shared),
        chat_room(poll.chat_id),
    )
    return PollEnvelope(poll=out)


async def _schedule_close(ctx: Ctx, poll_id: uuid.UUID, closes_at: datetime) -> None:
    delay = (closes_at - datetime.now(UTC)).total_seconds()
    await timers.schedule(ctx, CLOSE_TIMER, str(poll_id), delay, poll_id=str(poll_id))


async def _close_on_time(ctx: Ctx, poll: Poll) -> None:
    """The timer's close; a deleted or hidden poll just stays as it is."""
    with contextlib.suppress(Conflict):
        await _close(ctx, poll, None)


@timers.timer_handler(CLOSE_TIMER)
async def close_when_due(ctx: Ctx, payload: dict[str, Any]) -> None:
    poll = await Poll.get_or_none(id=uuid.UUID(payload["poll_id"]))
    if poll is not None:
        await _close_on_time(ctx, poll)


@timers.recoverer
async def recover_poll_timers(ctx: Ctx) -> None:
    """After a restart: close polls whose time passed, re-schedule the others."""
    open_polls = Poll.filter(closed_at=None, closes_at__not_isnull=True, message__deleted_at=None)
    for poll in await open_polls:
        if poll.closes_at is not None and not is_closed(poll):
            await _schedule_close(ctx, poll.id, poll.closes_at)
        else:
            await _close_on_time(ctx, poll)
