"""Uploads: stream to a temporary file under the size limit, judge the bytes, store, record.

The type is read from the content (libmagic), never from the file name or the part's
Content-Type; only the types in `ACCEPTED` are kept, so executables, HTML, SVG and anything
unknown are refused. The client's file name is kept as display metadata only: storage keys
are random. Attachments never posted in a message are removed after 24 h by a sweep that runs
when a node starts and then hourly as a durable timer (so one node runs each hourly sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from handlers import timers
from handlers.access import require_active
from handlers.context import Actor, Ctx
from handlers.errors import BadRequest, TooLarge, UnsupportedMediaType
from handlers.message_view import attachment_out
from handlers.schemas.uploads import UploadOut
from infra import media
from models import Attachment, AttachmentKind

INCOMING_DIR = ".incoming"
MAX_FILENAME_CHARS = 255
UNPOSTED_LIFETIME = timedelta(hours=24)
SWEEP_KIND = "attachments:sweep"
SWEEP_EVERY_SECONDS = 3600
SWEEP_BATCH = 1000

_KINDS: dict[AttachmentKind, tuple[str, ...]] = {
    AttachmentKind.IMAGE: tuple(media.PILLOW_FORMATS),
    AttachmentKind.AUDIO: (
        "audio/mpeg", "audio/ogg", "audio/opus", "audio/x-wav", "audio/wav", "audio/flac",
        "audio/x-flac", "audio/x-m4a", "audio/mp4", "audio/aac", "audio/x-hx-aac-adts",
        "audio/webm", "audio/amr",
    ),
    AttachmentKind.VIDEO: (
        "video/mp4", "video/webm", "video/quicktime", "video/x-matroska", "video/ogg",
        "video/3gpp", "video/x-m4v",
    ),
    AttachmentKind.DOCUMENT: (
        "application/pdf", "text/plain", "text/csv", "text/rtf", "application/rtf",
        "application/json", "application/zip", "application/gzip", "application/x-tar",
        "application/x-7z-compressed", "application/epub+zip", "application/msword",
        "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    ),
}  # fmt: skip
ACCEPTED: dict[str, AttachmentKind] = {
    mime: kind for kind, mimes in _KINDS.items() for mime in mimes
}
"""Detected MIME type -> kind. Everything else is refused with `unsupported_media_type`."""


@dataclass(frozen=True)
class IncomingFile:
    """What the transport hands over: the client's file name and the body, chunk by chunk."""

    filename: str | None
    chunks: AsyncIterator[bytes]


async def upload_file(ctx: Ctx, actor: Actor, incoming: IncomingFile) -> UploadOut:
    require_active(actor.user)
    async with _received(ctx, incoming.chunks) as (path, size):
        if size == 0:
            raise BadRequest("The file is empty", {"fields": {"file": "empty"}})
        mime_type = await asyncio.to_thread(media.sniff_mime, path)
        kind = ACCEPTED.get(mime_type)
        if kind is None:
            raise UnsupportedMediaType(f"Files of type {mime_type} are not accepted")
        image = await _read_image(path, mime_type) if kind == AttachmentKind.IMAGE else None
        duration = (
            await asyncio.to_thread(media.read_duration, path)
            if kind in (AttachmentKind.AUDIO, AttachmentKind.VIDEO)
            else None
        )
        attachment = Attachment(
            uploader_id=actor.user_id,
            kind=kind,
            mime_type=mime_type,
            size=size,
            filename=safe_filename(incoming.filename),
            storage_key=uuid.uuid4().hex,
            width=image.width if image else None,
            height=image.height if image else None,
            duration_seconds=duration,
        )
        await _store(ctx, attachment, path, image.thumbnail if image else None)
    return UploadOut(attachment=attachment_out(attachment))


@contextlib.asynccontextmanager
async def _received(ctx: Ctx, chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[Path, int]]:
    """The body in a temporary file (removed on the way out), refused past MAX_UPLOAD_MB."""
    folder = ctx.settings.upload_dir / INCOMING_DIR
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    path = folder / uuid.uuid4().hex
    limit = ctx.settings.max_upload_bytes
    try:
        size = 0
        handle = await asyncio.to_thread(path.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        f"The file is larger than {ctx.settings.max_upload_mb} MB",
                        {"max_bytes": limit},
                    )
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
        yield path, size
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def _read_image(path: Path, mime_type: str) -> media.ImageInfo:
    try:
        return await asyncio.to_thread(media.read_image, path, mime_type)
    except media.TooManyPixels:
        raise TooLarge(
            f"The image has more than {media.MAX_IMAGE_PIXELS} pixels",
            {"max_pixels": media.MAX_IMAGE_PIXELS},
        ) from None
    except media.Undecodable:
        raise UnsupportedMediaType(f"The {mime_type} image cannot be decoded") from None


async def _store(ctx: Ctx, attachment: Attachment, path: Path, thumbnail: bytes | None) -> None:
    """Bytes first, then the row; if the row cannot be written, the bytes are removed."""
    keys = [attachment.storage_key]
    await ctx.storage.put_file(attachment.storage_key, path, attachment.mime_type)
    try:
        if thumbnail is not None:
            attachment.thumbnail_key = f"{attachment.storage_key}.thumb"
            keys.append(attachment.thumbnail_key)
            await ctx.storage.put_bytes(attachment.thumbnail_key, thumbnail, media.THUMBNAIL_TYPE)
        await attachment.save()
    except BaseException:
        await ctx.storage.delete(*keys)
        raise


def safe_filename(name: str | None) -> str:
    """The last path segment of the client's name, without control characters or leading dots."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if len(base) > MAX_FILENAME_CHARS:
        root, ext = os.path.splitext(base)
        ext = ext[:16]
        base = root[: MAX_FILENAME_CHARS - len(ext)] + ext
    return base or "file"


async def remove_unposted(ctx: Ctx) -> int:
    """Delete attachments never posted within 24 h of their upload; return how many."""
    cutoff = datetime.now(UTC) - UNPOSTED_LIFETIME
    rows = (
        await Attachment.filter(posted_at__isnull=True, created_at__lt=cutoff)
        .limit(SWEEP_BATCH)
        .values_list("id", "storage_key", "thumbnail_key")
    )
    removed = 0
    for attachment_id, key, thumbnail_key in rows:
        # Conditional: a message:send that just posted it keeps it.
        if await Attachment.filter(id=attachment_id, posted_at__isnull=True).delete():
            await ctx.storage.delete(*(k for k in (key, thumbnail_key) if k))
            removed += 1
    return removed


@timers.timer_handler(SWEEP_KIND)
async def sweep(ctx: Ctx, payload: dict[str, Any]) -> None:
    try:
        await remove_unposted(ctx)
    finally:
        await timers.schedule(ctx, SWEEP_KIND, "all", SWEEP_EVERY_SECONDS)


@timers.recoverer
async def sweep_at_start(ctx: Ctx) -> None:
    await sweep(ctx, {})
