"""Auth payloads. Passwords: 10-128 characters, no composition rules (OWASP ASVS V2.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, StringConstraints

from handlers.schemas.common import In, Out
from handlers.schemas.users import UserFull

Password = Annotated[str, StringConstraints(min_length=10, max_length=128)]
Username = Annotated[
    str,
    StringConstraints(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_.]+$"),
]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class RegisterIn(In):
    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    username: Username
    password: Password
    display_name: DisplayName | None = None


class LoginIn(In):
    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class RefreshIn(In):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None


class LogoutIn(RefreshIn):
    pass


class AuthOut(Out):
    user: UserFull
    access_token: str
    refresh_token: str
    expires_in: int


class SocketRefreshIn(In):
    access_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class SocketRefreshOut(Out):
    expires_at: datetime


class AdminIn(In):
    """`python server.py create-admin`."""

    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    password: Password
    username: Username | None = None
