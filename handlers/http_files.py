"""HTTP side of uploads and file downloads: multipart in (streamed), files or redirects out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import unquote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from handlers.errors import BadRequest
from handlers.files import FileDelivery
from handlers.uploads import IncomingFile
from infra.storage import Redirect

FILE_FIELD = "file"
CHUNK_BYTES = 256 * 1024
MALFORMED = (ValueError, AssertionError, HttpProcessingError, web.HTTPException)
"""What aiohttp raises on a broken multipart body (bad boundary, headers or framing)."""


async def incoming_file(request: web.Request) -> IncomingFile:
    """The `file` part of a multipart body, to be read chunk by chunk (never all at once).

    `request.multipart()` streams, so aiohttp's client_max_size (MAX_EVENT_BYTES) does not
    apply here: the use case counts the bytes against MAX_UPLOAD_MB itself.
    """
    if request.content_type != "multipart/form-data":
        raise BadRequest("Send the file as multipart/form-data in a part named 'file'")
    try:
        reader = await request.multipart()
        part = await reader.next()
    except MALFORMED as exc:
        raise BadRequest("The multipart body is malformed") from exc
    if not isinstance(part, BodyPartReader) or part.name != FILE_FIELD:
        raise BadRequest(
            "The first part must be the file, named 'file'", {"fields": {"file": "missing"}}
        )
    # Browsers escape `"` and line breaks in the name as %22, %0D, %0A (aiohttp escapes more).
    filename = unquote(part.filename) if part.filename else None
    return IncomingFile(filename=filename, chunks=_chunks(reader, part))


async def _chunks(reader: MultipartReader, part: BodyPartReader) -> AsyncIterator[bytes]:
    """The part's bytes; a body that ends before the part's boundary, or that goes on with
    more parts, is refused (aiohttp alone would take a cut-off body for a complete one)."""
    try:
        while chunk := await part.read_chunk(CHUNK_BYTES):
            yield chunk
        complete = part.at_eof() and await reader.next() is None and reader.at_eof()
    except MALFORMED as exc:
        raise BadRequest("The upload was cut short or is malformed") from exc
    if not complete:
        raise BadRequest("The upload was cut short, or has parts besides 'file'")


def file_response(delivery: FileDelivery) -> web.StreamResponse:
    if isinstance(delivery.source, Redirect):
        return web.Response(
            status=302, headers={**delivery.headers, "Location": delivery.source.url}
        )
    return web.FileResponse(delivery.source.path, headers=delivery.headers)
