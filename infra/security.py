"""Password hashing (bcrypt), access tokens (JWT) and opaque refresh tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt

JWT_ALGORITHM = "HS256"
_PREHASH_KEY = b"parley-password-v1"


def _prehash(password: str) -> bytes:
    """HMAC-SHA256 the password first, so bcrypt sees 44 bytes however long it was.

    bcrypt only reads 72 bytes; pre-hashing means nothing is silently ignored.
    """
    digest = hmac.new(_PREHASH_KEY, password.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest)


async def hash_password(password: str, rounds: int) -> str:
    """bcrypt, run in a worker thread so the event loop keeps serving."""
    salt = bcrypt.gensalt(rounds)
    hashed = await asyncio.to_thread(bcrypt.hashpw, _prehash(password), salt)
    return hashed.decode()


async def verify_password(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(bcrypt.checkpw, _prehash(password), password_hash.encode())


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


class TokenError(Exception):
    """The token is malformed, forged, expired or not an access token."""


def issue_access_token(
    secret: str, user_id: uuid.UUID, session_id: uuid.UUID, ttl_seconds: int
) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires_at = now + timedelta(seconds=ttl_seconds)
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM), expires_at


def decode_access_token(secret: str, token: str) -> AccessClaims:
    """Verify signature (HS256 only, never `none`) and expiry."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub", "sid", "typ"]},
        )
        if payload["typ"] != "access":
            raise TokenError("not an access token")
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            session_id=uuid.UUID(payload["sid"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise TokenError(str(exc)) from exc


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
