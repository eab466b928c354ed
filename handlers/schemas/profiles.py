"""Profile, user search and presence payloads.

In `profile:update` an absent field is left as it is; `null` clears it (display_name cannot be
cleared). A status with neither text nor emoji, or `status: null`, clears the status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, Field, HttpUrl, StringConstraints, TypeAdapter, field_validator

from handlers.schemas.auth import DisplayName
from handlers.schemas.common import Id, In, Out
from handlers.schemas.polls import FutureTime
from handlers.schemas.reactions import SingleEmoji
from handlers.schemas.users import UserFull, UserPublic

PUBLIC_KEY_MAX_BYTES = 8 * 1024
SEARCH_MAX_CHARS = 64
SEARCH_MAX_LIMIT = 50
PRESENCE_MAX_USERS = 200

_HTTP_URL = TypeAdapter(HttpUrl)


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host; stored as the client wrote it."""
    _HTTP_URL.validate_python(value)
    return value


def _e164(value: str) -> str:
    """A real phone number in international form (`+` and country code), as E.164."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            "must be a phone number in international format, e.g. +14155552671"
        ) from None
    if not phonenumbers.is_valid_number(number) or number.extension:
        raise ValueError("is not a valid phone number (E.164 has no extension)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _key_size(value: str) -> str:
    if len(value.encode()) > PUBLIC_KEY_MAX_BYTES:
        raise ValueError(f"must be at most {PUBLIC_KEY_MAX_BYTES} bytes")
    return value


AvatarUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2048), AfterValidator(_http_url)
]
Bio = Annotated[str, StringConstraints(max_length=500)]
Phone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_e164)]
PublicKey = Annotated[
    str, StringConstraints(min_length=1, max_length=PUBLIC_KEY_MAX_BYTES), AfterValidator(_key_size)
]


class StatusIn(In):
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=140)] | None = None
    emoji: SingleEmoji | None = None
    expires_at: FutureTime | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.emoji)


class ProfileGetIn(In):
    user_id: Id | None = None


class ProfileUpdateIn(In):
    display_name: DisplayName | None = None
    avatar_url: AvatarUrl | None = None
    bio: Bio | None = None
    phone: Phone | None = None
    public_key: PublicKey | None = None
    status: StatusIn | None = None

    @field_validator("display_name")
    @classmethod
    def _display_name_kept(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("display_name cannot be cleared")
        return value


class UserEnvelope(Out):
    user: UserFull | UserPublic


class UserUpdatedOut(Out):
    user: UserPublic


class UserSearchIn(In):
    q: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SEARCH_MAX_CHARS)
    ]
    limit: Annotated[int, Field(ge=1, le=SEARCH_MAX_LIMIT)] = 20


class UsersOut(Out):
    users: list[UserPublic]


class PresenceGetIn(In):
    user_ids: Annotated[list[Id], Field(max_length=PRESENCE_MAX_USERS)]


class PresenceStateOut(Out):
    online: bool
    last_seen_at: datetime | None


class PresenceMapOut(Out):
    presence: dict[Id, PresenceStateOut]
