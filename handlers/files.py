"""Serving files through signed URLs (see infra/signed_urls.py).

The signature alone authorizes: `attachment.url` is minted only for people allowed to see the
file (its uploader, members of chats where it was posted), and anyone holding the URL may
use it until it expires. No signature: 401 `unauthorized`. A signature that does not match the
file, variant and expiry (tampered or made up): 403 `forbidden`. A genuine but expired one:
401 `unauthorized` (fetch the message again for a fresh URL).

Every response says `nosniff`, carries a CSP that lets nothing run, and is a download
(`Content-Disposition: attachment`) unless it is an image, audio or video.
"""

from __future__ import annotations

import time
import unicodedata
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from handlers.context import Ctx
from handlers.errors import Forbidden, NotFound, Unauthorized
from handlers.schemas.uploads import FileAccessIn
from infra import media, signed_urls
from infra.signed_urls import ExpiredSignature, InvalidSignature, Variant
from infra.storage import LocalFile, Redirect
from models import Attachment, AttachmentKind

FILE_NOT_FOUND = "File not found"
INLINE_KINDS = {AttachmentKind.IMAGE, AttachmentKind.AUDIO, AttachmentKind.VIDEO}
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class FileDelivery:
    """The bytes to stream (local disk) or where to redirect (S3), and the headers to send."""

    source: LocalFile | Redirect
    headers: dict[str, str]


async def open_file(
    ctx: Ctx, attachment_id: str, variant: Variant, access: FileAccessIn
) -> FileDelivery:
    if access.exp is None or access.sig is None:
        raise Unauthorized("A signed URL (exp and sig) is required")
    try:
        file_id = uuid.UUID(attachment_id)
    except ValueError:
        raise NotFound(FILE_NOT_FOUND) from None
    try:
        seconds_left = signed_urls.signer().verify(
            file_id, variant, access.exp, access.sig, time.time()
        )
    except InvalidSignature:
        raise Forbidden("The file URL's signature is invalid") from None
    except ExpiredSignature:
        raise Unauthorized("The file URL has expired") from None
    attachment = await Attachment.get_or_none(id=file_id)
    if attachment is None:
        raise NotFound(FILE_NOT_FOUND)
    key = attachment.storage_key if variant == "file" else attachment.thumbnail_key
    if key is None:
        raise NotFound(FILE_NOT_FOUND)
    content_type = attachment.mime_type if variant == "file" else media.THUMBNAIL_TYPE
    disposition = content_disposition(attachment, variant)
    source = await ctx.storage.locate(key, content_type, disposition)
    if isinstance(source, Redirect):
        # Not cached: the presigned URL it points to expires on its own clock.
        return FileDelivery(source, {**SAFETY_HEADERS, "Cache-Control": "no-store"})
    headers = {
        **SAFETY_HEADERS,
        "Content-Type": content_type,
        "Content-Disposition": disposition,
        "Cache-Control": f"private, max-age={int(seconds_left)}",
    }
    return FileDelivery(source, headers)


def content_disposition(attachment: Attachment, variant: Variant) -> str:
    """`inline` for media, `attachment` for everything else; the name per RFC 6266/5987."""
    kind = "inline" if attachment.kind in INLINE_KINDS else "attachment"
    name = attachment.filename if variant == "file" else f"thumbnail-{attachment.filename}.webp"
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(ch if ch.isprintable() and ch not in '"\\;' else "_" for ch in fallback)
    return f"{kind}; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(name, safe='')}"
