"""Poll payloads in and out.

An anonymous poll's options carry no `voter_ids` key at all (not an empty list).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
)

from handlers.schemas.common import ClientId, Id, In, Out

MIN_OPTIONS, MAX_OPTIONS = 2, 10
OPTION_MAX_CHARS = 100
QUESTION_MAX_CHARS = 300


def _in_future(value: datetime) -> datetime:
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value.astimezone(UTC)


FutureTime = Annotated[AwareDatetime, AfterValidator(_in_future)]
"""A time with its zone (the contract's `Z`) that has not passed yet."""

OptionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=OPTION_MAX_CHARS)
]


class CreatePollIn(In):
    chat_id: Id
    client_id: ClientId
    question: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=QUESTION_MAX_CHARS)
    ]
    options: Annotated[list[OptionText], Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)]
    multiple_choice: bool = False
    anonymous: bool = False
    closes_at: FutureTime | None = None

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[str]) -> list[str]:
        if len({option.casefold() for option in options}) != len(options):
            raise ValueError("options must be distinct")
        return options


class VoteIn(In):
    poll_id: Id
    option_ids: Annotated[list[Id], Field(max_length=MAX_OPTIONS)]

    @field_validator("option_ids")
    @classmethod
    def _distinct(cls, option_ids: list[Id]) -> list[Id]:
        if len(set(option_ids)) != len(option_ids):
            raise ValueError("option_ids must be distinct")
        return option_ids


class PollIdIn(In):
    poll_id: Id


class PollOptionOut(Out):
    id: Id
    text: str
    votes: int
    voter_ids: list[Id] | None = None

    @model_serializer(mode="wrap")
    def _omit_hidden_voters(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if self.voter_ids is None:
            data.pop("voter_ids", None)
        return data


class PollOut(Out):
    id: Id
    question: str
    options: list[PollOptionOut]
    multiple_choice: bool
    anonymous: bool
    total_voters: int
    my_votes: list[Id]
    closes_at: datetime | None = None
    closed: bool


class PollEnvelope(Out):
    poll: PollOut


class PollUpdatedOut(Out):
    poll_id: Id
    chat_id: Id
    poll: PollOut
