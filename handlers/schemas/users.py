"""User payloads: the public view, the owner's full view."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from handlers.schemas.common import Id, Out


class StatusOut(BaseModel):
    text: str | None = None
    emoji: str | None = None
    expires_at: datetime | None = None


class UserPublic(Out):
    id: Id
    username: str
    display_name: str
    avatar_url: str | None
    bio: str | None
    status: StatusOut | None
    verified: bool
    public_key: str | None
    online: bool = False
    last_seen_at: datetime | None


class UserFull(UserPublic):
    email: str
    email_verified: bool
    phone: str | None
    phone_verified: bool
    role: str
    account_status: str
    created_at: datetime
