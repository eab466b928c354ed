"""Upload and file-download payloads."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from handlers.schemas.common import In, Out
from handlers.schemas.messages import AttachmentOut

Signature = Annotated[str, StringConstraints(max_length=128)]


class UploadForm(BaseModel):
    """multipart/form-data with one part named `file` (described for OpenAPI; streamed)."""

    file: bytes = Field(description="the file; its type is read from the bytes")


class UploadOut(Out):
    attachment: AttachmentOut


class FileAccessIn(In):
    """The query of a signed file URL, exactly as `attachment.url` gives it."""

    exp: Annotated[int, Field(ge=0, le=2**40, description="expiry, epoch seconds")] | None = None
    sig: Signature | None = None
