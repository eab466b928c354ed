"""What every use case receives: the shared services (`Ctx`) and who is acting (`Actor`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from handlers.notify import Notifier
from infra.settings import Settings
from infra.state import State
from infra.storage import Storage
from models import User


@dataclass
class Ctx:
    settings: Settings
    state: State
    notify: Notifier
    jwt_secret: str
    storage: Storage

    @property
    def bcrypt_rounds(self) -> int:
        return self.settings.bcrypt_rounds


@dataclass
class Actor:
    """An authenticated caller. Sockets keep theirs and update it on `auth:refresh`."""

    user: User
    session_id: uuid.UUID
    token_expires_at: datetime
    socket_id: str | None = None
    ip: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id


@dataclass(frozen=True)
class ClientInfo:
    """Where an unauthenticated HTTP request comes from (for rate limits and audit)."""

    ip: str | None
    user_agent: str | None
