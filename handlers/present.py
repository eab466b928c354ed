"""Model → outgoing schema conversions shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.schemas.users import StatusOut, UserFull, UserPublic
from models import User


def _status(user: User) -> StatusOut | None:
    """The user's status, or None once it has expired (even before the sweeper clears it)."""
    if not (user.status_text or user.status_emoji):
        return None
    if user.status_expires_at and user.status_expires_at <= datetime.now(UTC):
        return None
    return StatusOut(
        text=user.status_text, emoji=user.status_emoji, expires_at=user.status_expires_at
    )


def public_user(user: User, online: bool = False) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        bio=user.bio,
        status=_status(user),
        verified=user.verified,
        public_key=user.public_key,
        online=online,
        last_seen_at=user.last_seen_at,
    )


def full_user(user: User, online: bool = False) -> UserFull:
    return UserFull(
        **public_user(user, online).model_dump(),
        email=user.email,
        email_verified=user.email_verified,
        phone=user.phone,
        phone_verified=user.phone_verified,
        role=user.role.value,
        account_status=user.account_status.value,
        created_at=user.created_at,
    )
