"""`POST /api/users/verify`: ask for a one-time code, or confirm one."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from handlers.schemas.common import In, Out
from handlers.schemas.profiles import Phone
from handlers.schemas.users import UserFull

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class VerifyIn(In):
    """Without `code`: send a code (to `phone`, or the profile's phone). With it: confirm."""

    channel: Literal["email", "phone"]
    phone: Phone | None = None
    code: Code | None = None

    @model_validator(mode="after")
    def _one_step(self) -> VerifyIn:
        if self.phone is not None and self.channel != "phone":
            raise ValueError("phone only goes with channel phone")
        if self.phone is not None and self.code is not None:
            raise ValueError("send phone to get a code, then code alone to confirm it")
        return self


class CodeSentOut(Out):
    """202: a code is on its way."""

    channel: Literal["email", "phone"]
    sent_to: str
    expires_in: int
    resend_after: int


class VerifiedOut(Out):
    """200: the code matched."""

    user: UserFull
