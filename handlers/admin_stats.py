"""`GET /api/admin/stats` (API.md §5): aggregate queries, a fixed number whatever the data size.

Definitions:
- `active_24h`: users who in the last 24 h sent a message, logged in or refreshed a token
  (every login and refresh issues a refresh token), or whose last socket closed
  (`last_seen_at`). A socket open for over 24 h without any refresh is not counted.
- `online_now` / `realtime.sockets`: users with a live socket and those sockets, from the
  presence entries in shared state (every node writes them on connect and disconnect), looked up
  for the users holding an unrevoked, unexpired session. `realtime.nodes`: nodes whose heartbeat
  is fresh.
- `users.suspended` counts suspensions still in force; `calls.active` counts calls ringing or in
  progress; `avg_duration_seconds` is over calls that have a duration (null when none);
  `per_day` is by UTC date, oldest first, today last.
"""

from __future__ import annotations

import importlib.metadata
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Avg, Count
from tortoise.queryset import QuerySet

from handlers.access import require_admin
from handlers.admin import status_filter
from handlers.context import Actor, Ctx
from handlers.schemas import admin as schemas
from handlers.schemas.common import Empty
from models import (
    Call,
    CallStatus,
    Chat,
    ChatType,
    Message,
    MessageType,
    RefreshToken,
    Report,
    ReportStatus,
    Session,
    User,
)

STARTED = time.monotonic()
DAYS = 14


def _version() -> str:
    try:
        return importlib.metadata.version("parley")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


async def stats(ctx: Ctx, actor: Actor, cmd: Empty) -> schemas.StatsOut:
    require_admin(actor.user)
    now = datetime.now(UTC)
    online_now, sockets = await _online(ctx, now)
    return schemas.StatsOut(
        users=await _users(now, online_now),
        chats=await _chats(),
        messages=await _messages(now),
        calls=await _calls(),
        reports=await _reports(),
        realtime=schemas.RealtimeStats(sockets=sockets, nodes=len(await ctx.state.nodes())),
        server=schemas.ServerStats(
            version=_version(), uptime_seconds=int(time.monotonic() - STARTED)
        ),
    )


async def _online(ctx: Ctx, now: datetime) -> tuple[int, int]:
    """(users with a live socket, live sockets), counted across every node."""
    holders = (
        await Session.filter(revoked_at__isnull=True, expires_at__gt=now)
        .distinct()
        .values_list("user_id", flat=True)
    )
    counts = await ctx.state.live_sockets([str(user_id) for user_id in holders])
    return sum(1 for count in counts.values() if count), sum(counts.values())


async def _count_where(query: QuerySet[Any], **conditions: Q | None) -> dict[str, int]:
    """How many of `query`'s rows match each condition (None: all of them), in one query."""
    counts = {f"n_{name}": Count("id", _filter=condition) for name, condition in conditions.items()}
    [row] = await query.annotate(**counts).values(*counts)
    return {name: row[f"n_{name}"] for name in conditions}


async def _users(now: datetime, online_now: int) -> schemas.UserStats:
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    counts = await _count_where(
        User.all(),
        total=None,
        new_24h=Q(created_at__gte=day),
        new_7d=Q(created_at__gte=week),
        verified=Q(verified=True),
        suspended=status_filter("suspended", now),
        banned=status_filter("banned", now),
    )
    senders = Message.filter(created_at__gte=day).values("sender_id")
    refreshed = RefreshToken.filter(created_at__gte=day).values("session__user_id")
    active = await User.filter(
        Q(last_seen_at__gte=day) | Q(id__in=Subquery(senders)) | Q(id__in=Subquery(refreshed))
    ).count()
    return schemas.UserStats(**counts, active_24h=active, online_now=online_now)


async def _chats() -> schemas.ChatStats:
    counts = await _count_where(
        Chat.all(), total=None, dm=Q(type=ChatType.DM), group=Q(type=ChatType.GROUP)
    )
    return schemas.ChatStats(**counts)


async def _messages(now: datetime) -> schemas.MessageStats:
    by_type = {kind.value: 0 for kind in MessageType}
    rows = await Message.annotate(count=Count("id")).group_by("type").values("type", "count")
    for row in rows:
        by_type[str(row["type"])] = row["count"]
    first_day = now.date() - timedelta(days=DAYS - 1)
    days = [first_day + timedelta(days=offset) for offset in range(DAYS)]
    counts = await _count_where(
        Message.filter(created_at__gte=_midnight(first_day)),
        last_24h=Q(created_at__gte=now - timedelta(days=1)),
        **{f"day{i}": _day(day) for i, day in enumerate(days)},
    )
    return schemas.MessageStats(
        total=sum(by_type.values()),
        last_24h=counts["last_24h"],
        per_day=[schemas.DayCount(date=day, count=counts[f"day{i}"]) for i, day in enumerate(days)],
        by_type=by_type,
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _day(day: date) -> Q:
    start = _midnight(day)
    return Q(created_at__gte=start) & Q(created_at__lt=start + timedelta(days=1))


async def _calls() -> schemas.CallStats:
    counts = await _count_where(
        Call.all(),
        total=None,
        active=Q(status__in=[CallStatus.RINGING, CallStatus.ACTIVE]),
        missed=Q(status=CallStatus.MISSED),
    )
    [row] = await Call.annotate(average=Avg("duration_seconds")).values("average")
    average = row["average"]
    return schemas.CallStats(
        **counts, avg_duration_seconds=None if average is None else round(float(average), 1)
    )


async def _reports() -> schemas.ReportStats:
    counts = await _count_where(
        Report.all(),
        open=Q(status=ReportStatus.OPEN),
        resolved=Q(status=ReportStatus.RESOLVED),
    )
    return schemas.ReportStats(**counts)
