"""Signed, expiring file URLs: `/api/files/{id}?exp=&sig=` (HMAC-SHA256).

A signed URL is a bearer capability: whoever holds it may fetch the file until `exp`, with no
other credential (browsers load `<img src>` without an Authorization header). So URLs are only
ever minted for people allowed to see the file, and they expire. The expiry is rounded up to a
window so the same viewer gets the same URL for a while, which lets browsers cache the bytes.

The signing key is derived from JWT_SECRET and set once per process by `configure` (like the
database connection); every node of a deployment shares JWT_SECRET, so any node verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
import uuid
from typing import Literal

Variant = Literal["file", "thumbnail"]
PATHS: dict[Variant, str] = {"file": "/api/files/{id}", "thumbnail": "/api/files/{id}/thumbnail"}
WINDOW_SECONDS = 300
KEY_LABEL = b"parley:file-url:v1"


class InvalidSignature(Exception):
    """The signature does not match: the URL was altered or made up."""


class ExpiredSignature(Exception):
    """A genuine URL whose time is up."""


class UrlSigner:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = hmac.new(secret.encode(), KEY_LABEL, hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds

    def signature(self, attachment_id: uuid.UUID, variant: Variant, exp: int) -> str:
        message = f"{attachment_id}.{variant}.{exp}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, attachment_id: uuid.UUID, variant: Variant, now: float | None = None) -> str:
        now = time.time() if now is None else now
        window = min(WINDOW_SECONDS, self.ttl_seconds)
        exp = math.ceil((now + self.ttl_seconds) / window) * window
        path = PATHS[variant].format(id=attachment_id)
        return f"{path}?exp={exp}&sig={self.signature(attachment_id, variant, exp)}"

    def verify(
        self, attachment_id: uuid.UUID, variant: Variant, exp: int, sig: str, now: float
    ) -> float:
        """Check the signature first, then the expiry; return the seconds left."""
        expected = self.signature(attachment_id, variant, exp)
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            raise InvalidSignature
        if exp <= now:
            raise ExpiredSignature
        return exp - now


_signer: UrlSigner | None = None


def configure(secret: str, ttl_seconds: int) -> None:
    global _signer
    _signer = UrlSigner(secret, ttl_seconds)


def signer() -> UrlSigner:
    if _signer is None:
        raise RuntimeError("file URL signing is not configured (server.create_app does it)")
    return _signer
