"""Base classes and field types shared by every schema."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Id = uuid.UUID
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048)]


class In(BaseModel):
    """An incoming payload: unknown fields are refused, strings are trimmed of nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Out(BaseModel):
    """An outgoing payload, serialised with ISO 8601 `Z` times."""

    model_config = ConfigDict(from_attributes=True)


class Empty(In):
    pass


class EmptyOut(Out):
    pass


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


Limit = Annotated[int, Field(ge=1)]
Timestamp = datetime
