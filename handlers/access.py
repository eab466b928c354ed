"""Membership and role checks, shared by every feature.

A chat the caller does not belong to answers `not_found`, exactly like an unknown id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from handlers.errors import Forbidden, NotFound
from models import AccountStatus, MemberRole, Membership, Role, User

CHAT_NOT_FOUND = "Chat not found"


async def require_member(chat_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    """The caller's membership (with its chat loaded), or `not_found`."""
    membership = await Membership.get_or_none(chat_id=chat_id, user_id=user_id).select_related(
        "chat"
    )
    if membership is None:
        raise NotFound(CHAT_NOT_FOUND)
    return membership


def require_role(membership: Membership, *roles: MemberRole) -> None:
    if membership.role not in roles:
        raise Forbidden("Your role in this chat does not allow that")


def is_chat_admin(membership: Membership) -> bool:
    return membership.role in (MemberRole.OWNER, MemberRole.ADMIN)


def status_in_force(user: User) -> AccountStatus:
    """The account status that applies now: a suspension whose `until` has passed does not."""
    if user.account_status == AccountStatus.SUSPENDED and (
        user.suspended_until is not None and user.suspended_until <= datetime.now(UTC)
    ):
        return AccountStatus.ACTIVE
    return user.account_status


def require_active(user: User) -> None:
    """Suspended (until a time not yet passed) and banned users may not act."""
    status = status_in_force(user)
    if status == AccountStatus.BANNED:
        raise Forbidden("This account is banned")
    if status == AccountStatus.SUSPENDED:
        raise Forbidden("This account is suspended")


def require_admin(user: User) -> None:
    """Site administrators only (`role` admin); anyone else gets `forbidden`."""
    if user.role != Role.ADMIN:
        raise Forbidden("Administrators only")
