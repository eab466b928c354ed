"""Presence payloads."""

from __future__ import annotations

from datetime import datetime

from handlers.schemas.common import Id, Out


class PresenceOut(Out):
    user_id: Id
    online: bool
    last_seen_at: datetime | None
