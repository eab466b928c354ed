"""Polls as a viewer sees them, in a fixed number of queries however many polls.

Counts and `total_voters` for everyone, `my_votes` for the viewer (none for a room broadcast),
`voter_ids` only when the poll is not anonymous.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

from handlers.schemas.polls import PollOptionOut, PollOut
from models import Poll, PollOption, PollVote


def is_closed(poll: Poll) -> bool:
    """Closed by a person or the timer, or past `closes_at` even if the timer is late."""
    if poll.closed_at is not None:
        return True
    return poll.closes_at is not None and poll.closes_at <= datetime.now(UTC)


async def present_polls(polls: list[Poll], viewer_id: uuid.UUID | None) -> dict[uuid.UUID, PollOut]:
    """Each poll by id: two queries (options, ballots) for the whole list."""
    if not polls:
        return {}
    poll_ids = [poll.id for poll in polls]
    options = await PollOption.filter(poll_id__in=poll_ids).order_by("position")
    ballots = (
        await PollVote.filter(poll_id__in=poll_ids)
        .order_by("created_at", "id")
        .values_list("poll_id", "option_id", "user_id")
    )
    voters: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    voters_by_poll: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for poll_id, option_id, user_id in ballots:
        voters[option_id].append(user_id)
        voters_by_poll[poll_id].add(user_id)
    options_by_poll: dict[uuid.UUID, list[PollOption]] = defaultdict(list)
    for option in options:
        options_by_poll[option.poll_id].append(option)
    return {
        poll.id: PollOut(
            id=poll.id,
            question=poll.question,
            options=[
                PollOptionOut(
                    id=option.id,
                    text=option.text,
                    votes=len(voters[option.id]),
                    voter_ids=None if poll.anonymous else voters[option.id],
                )
                for option in options_by_poll[poll.id]
            ],
            multiple_choice=poll.multiple_choice,
            anonymous=poll.anonymous,
            total_voters=len(voters_by_poll[poll.id]),
            my_votes=[o.id for o in options_by_poll[poll.id] if viewer_id in voters[o.id]],
            closes_at=poll.closes_at,
            closed=is_closed(poll),
        )
        for poll in polls
    }


async def polls_of_messages(
    message_ids: list[uuid.UUID], viewer_id: uuid.UUID | None
) -> dict[uuid.UUID, PollOut]:
    """The polls attached to these messages, by message id (three queries)."""
    polls = await Poll.filter(message_id__in=message_ids)
    presented = await present_polls(polls, viewer_id)
    return {poll.message_id: presented[poll.id] for poll in polls}


async def present_poll(poll: Poll, viewer_id: uuid.UUID | None) -> PollOut:
    return (await present_polls([poll], viewer_id))[poll.id]
