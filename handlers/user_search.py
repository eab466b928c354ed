"""Finding users: prefix search by username or display name, and presence look-ups.

Banned users are left out of both, as `profile:get` answers `not_found` for them.
"""

from __future__ import annotations

import sys
import uuid

from tortoise.expressions import Q

from handlers.context import Actor, Ctx
from handlers.present import public_user
from handlers.profiles import online_among
from handlers.schemas.profiles import (
    PresenceGetIn,
    PresenceMapOut,
    PresenceStateOut,
    UserSearchIn,
    UsersOut,
)
from models import AccountStatus, User


def _starts_with(column: str, prefix: str) -> Q:
    """`column` starts with `prefix`, as a range a b-tree index can answer.

    PostgreSQL does not use an index for LIKE outside the C locale, so the range narrows
    through the index and LIKE keeps the match exact. Under code-point ordering (SQLite,
    PostgreSQL's C/C.UTF-8) the range holds every match.
    """
    bounds = {f"{column}__gte": prefix, f"{column}__startswith": prefix}
    if ord(prefix[-1]) < sys.maxunicode:
        bounds[f"{column}__lt"] = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**bounds)


async def search_users(ctx: Ctx, actor: Actor, cmd: UserSearchIn) -> UsersOut:
    """Case-insensitive prefix match on the lower-cased, indexed username and display name."""
    prefix = cmd.q.lower()
    users = (
        await User.filter(
            _starts_with("username_key", prefix) | _starts_with("display_name_key", prefix)
        )
        .exclude(account_status=AccountStatus.BANNED)
        .order_by("username_key")
        .limit(cmd.limit)
    )
    online = await online_among(ctx, [user.id for user in users])
    return UsersOut(users=[public_user(user, user.id in online) for user in users])


async def get_presence(ctx: Ctx, actor: Actor, cmd: PresenceGetIn) -> PresenceMapOut:
    """Presence of the listed users that exist; unknown (and banned) ids are left out."""
    rows = (
        await User.filter(id__in=list(set(cmd.user_ids)))
        .exclude(account_status=AccountStatus.BANNED)
        .values_list("id", "last_seen_at")
    )
    last_seen = {uuid.UUID(str(user_id)): seen for user_id, seen in rows}
    online = await online_among(ctx, list(last_seen))
    return PresenceMapOut(
        presence={
            user_id: PresenceStateOut(online=user_id in online, last_seen_at=seen)
            for user_id, seen in last_seen.items()
        }
    )
