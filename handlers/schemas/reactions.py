"""Reaction payloads, and the one-emoji type shared with profile statuses."""

from __future__ import annotations

from typing import Annotated

import emoji
from pydantic import AfterValidator, StringConstraints

from handlers.schemas.common import Id, In, Out
from handlers.schemas.messages import ReactionSummary

EMOJI_MAX_CHARS = 32
"""Room to spare: the longest single emoji (a ZWJ kiss with skin tones) is 10 code points."""


def _one_emoji(value: str) -> str:
    """Exactly one emoji: skin-tone modifiers, keycaps, flags and ZWJ sequences included."""
    if not emoji.is_emoji(value):
        raise ValueError("must be exactly one emoji")
    return value


SingleEmoji = Annotated[
    str, StringConstraints(min_length=1, max_length=EMOJI_MAX_CHARS), AfterValidator(_one_emoji)
]


class ReactionIn(In):
    message_id: Id
    emoji: SingleEmoji


class ReactionsOut(Out):
    message_id: Id
    reactions: dict[str, ReactionSummary]


class ReactionUpdatedOut(ReactionsOut):
    chat_id: Id
