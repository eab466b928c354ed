"""The contract's error codes as exceptions, and their one wire shape."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationError


class DomainError(Exception):
    """A failure the client caused or must know about; carries the contract's code."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(DomainError):
    code, status, default_message = "bad_request", 400, "Invalid request"


class Unauthorized(DomainError):
    code, status, default_message = "unauthorized", 401, "Authentication required"


class Forbidden(DomainError):
    code, status, default_message = "forbidden", 403, "Not allowed"


class NotFound(DomainError):
    code, status, default_message = "not_found", 404, "Not found"


class Conflict(DomainError):
    code, status, default_message = "conflict", 409, "Conflict"


class TooLarge(DomainError):
    code, status, default_message = "too_large", 413, "Too large"


class UnsupportedMediaType(DomainError):
    code, status, default_message = "unsupported_media_type", 415, "Unsupported media type"


class RateLimited(DomainError):
    code, status, default_message = "rate_limited", 429, "Too many requests"

    def __init__(self, retry_after: float, message: str | None = None):
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(message, {"retry_after": self.retry_after})


class Unavailable(DomainError):
    code, status, default_message = "unavailable", 503, "Service unavailable"


class Internal(DomainError):
    pass


def validation_error(error: ValidationError) -> BadRequest:
    """A pydantic error as `bad_request` whose details name each offending field."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False):
        name = ".".join(str(p) for p in item["loc"]) or "payload"
        fields.setdefault(name, item["msg"])
    return BadRequest("Invalid request", {"fields": fields})


_BY_STATUS: dict[int, type[DomainError]] = {
    cls.status: cls
    for cls in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, TooLarge,
                UnsupportedMediaType, Unavailable, Internal)
}  # fmt: skip


def error_for_status(status: int, message: str | None = None) -> DomainError:
    """The contract's error for an HTTP status raised by the framework (e.g. 413)."""
    return _BY_STATUS.get(status, Internal)(message)
