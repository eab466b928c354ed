"""Auth test helpers: forged access tokens, refused handshakes, direct account changes."""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

import jwt
import pytest
import socketio
from aiohttp.test_utils import TestServer
from jwt.warnings import InsecureKeyLengthWarning

from models import AccountStatus, User
from tests.clients import EVENT_TIMEOUT
from tests.conftest import JWT_SECRET

AUTH_KEYS = {"user", "access_token", "refresh_token", "expires_in"}
REGISTER, LOGIN = "/api/auth/register", "/api/auth/login"
REFRESH, LOGOUT = "/api/auth/refresh", "/api/auth/logout"
WRONG = "a wrong password"


def base_url(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def resign(token: str, key: str = JWT_SECRET, algorithm: str = "HS256", **changes: Any) -> str:
    """The token's claims with `changes` (None drops a claim), signed again."""
    claims = {**claims_of(token), **changes}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(token: str) -> str:
    """The same claims under `alg: none` with an empty signature."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims_of(token))}."


def tampered(token: str) -> str:
    """Another subject with the original signature."""
    header, _, signature = token.split(".")
    claims = {**claims_of(token), "sub": str(uuid.uuid4())}
    return f"{header}.{_b64(claims)}.{signature}"


def expired(token: str) -> str:
    now = int(time.time())
    return resign(token, iat=now - 120, exp=now - 60)


FORGERIES: dict[str, Callable[[str], str]] = {
    "signed_with_another_key": lambda t: resign(t, key="another-secret-that-is-long-enough-too!!"),
    "alg_none": unsigned,
    "alg_hs512": lambda t: resign(t, algorithm="HS512"),
    "alg_hs384": lambda t: resign(t, algorithm="HS384"),
    "expired": expired,
    "tampered_claims": tampered,
    "not_a_jwt": lambda t: "not-a-jwt",
    "refresh_type": lambda t: resign(t, typ="refresh"),
    "no_session_claim": lambda t: resign(t, sid=None),
    "no_expiry": lambda t: resign(t, exp=None),
    "unknown_session": lambda t: resign(t, sid=str(uuid.uuid4())),
    "malformed_subject": lambda t: resign(t, sub="not-a-uuid"),
}


async def refused(base_url: str, token: str | None = None, **kwargs: Any) -> Any:
    """Try a handshake that must be refused; return the connect_error data."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", lambda data=None: errors.append(data))
    auth = {"token": token} if token is not None else None
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            base_url, auth=auth, transports=["websocket"], wait_timeout=EVENT_TIMEOUT, **kwargs
        )
    assert not client.connected
    assert len(errors) == 1, errors
    return errors[0]


def refusal_is(data: Any, code: str) -> bool:
    return (
        isinstance(data, dict)
        and set(data) == {"code", "message"}
        and data["code"] == code
        and isinstance(data["message"], str)
        and data["message"] != ""
    )


async def set_account_status(
    user_id: str, status: str, suspended_until: datetime | None = None
) -> None:
    """Direct DB change, bypassing the admin API (which also revokes every session): the only
    way to reach the checks on a suspended account's still-valid tokens. The server shares
    this process's database."""
    await User.filter(id=user_id).update(
        account_status=AccountStatus(status), suspended_until=suspended_until
    )


async def delete_user(user_id: str) -> None:
    """Direct DB change: no account deletion route exists."""
    assert await User.exists(id=user_id)
    await User.filter(id=user_id).delete()
    assert not await User.exists(id=user_id)
