"""POST /api/upload against a real server, on local disk and on moto's S3.

The type comes from the bytes; limits hold while streaming; refused uploads leave nothing.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from aiohttp import ClientSession
from PIL import Image

from handlers.http_kit import CTX
from tests.clients import Account, Api
from tests.uploads_support import (
    HTML,
    PDF,
    SVG,
    LocalFiles,
    S3Files,
    elf_executable,
    mp4,
    png,
    png_declaring,
    upload,
    uploaded,
    wav,
    windows_executable,
)
from tests.waiting import eventually

Files = LocalFiles | S3Files


@pytest.fixture
async def setup(start_server: Any, http: ClientSession, file_store: Files) -> tuple[Api, Files]:
    server = await start_server(**file_store.settings)
    return Api(http, str(server.make_url("")).rstrip("/")), file_store


async def fetch(api: Api, url: str) -> tuple[int, dict[str, str], bytes]:
    """GET a signed URL with no credentials, following a redirect to S3 if there is one."""
    async with api.http.get(api.base_url + url) as response:
        return response.status, dict(response.headers), await response.read()


async def nothing_left(files: Files, keys_before: set[str]) -> None:
    assert await files.keys() == keys_before
    assert await eventually(lambda: _empty(files)), "temporary files were left behind"


async def _empty(files: Files) -> bool:
    return not await files.incoming()


async def test_image_gets_dimensions_and_thumbnail(setup: tuple[Api, Files]) -> None:
    api, files = setup
    alice = await api.register()
    data = png(640, 480)
    attachment = await uploaded(api, alice, data, "holiday.png")
    assert attachment["kind"] == "image" and attachment["mime_type"] == "image/png"
    assert (attachment["width"], attachment["height"]) == (640, 480)
    assert attachment["size"] == len(data) and attachment["filename"] == "holiday.png"
    assert len(await files.keys()) == 2  # the file and its thumbnail

    status, headers, body = await fetch(api, attachment["url"])
    assert status == 200 and body == data
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith("inline")
    status, headers, body = await fetch(api, attachment["thumbnail_url"])
    assert status == 200 and headers["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(body)) as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.size == (320, 240)


async def test_type_is_read_from_the_bytes_not_the_name(setup: tuple[Api, Files]) -> None:
    api, _ = setup
    alice = await api.register()
    status, body = await upload(api, alice, PDF, "notes.png", "image/png")
    assert status == 201 and body["attachment"]["kind"] == "document"
    assert body["attachment"]["mime_type"] == "application/pdf"
    assert body["attachment"]["width"] is None and body["attachment"]["thumbnail_url"] is None


async def test_audio_and_video_get_a_duration(setup: tuple[Api, Files]) -> None:
    api, _ = setup
    alice = await api.register()
    voice = await uploaded(api, alice, wav(1.5), "voice.bin")
    assert voice["kind"] == "audio" and voice["mime_type"] in ("audio/x-wav", "audio/wav")
    assert voice["duration_seconds"] == 1.5
    clip = await uploaded(api, alice, mp4(2.5), "clip")
    assert (clip["kind"], clip["mime_type"]) == ("video", "video/mp4")
    assert clip["duration_seconds"] == 2.5


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("html named .png", HTML),
        ("svg named .png", SVG),
        ("ELF executable", elf_executable()),
        ("Windows executable", windows_executable()),
        ("shell script", b"#!/bin/sh\nrm -rf ~\n"),
    ],
)
async def test_dangerous_types_are_refused_whatever_the_name(
    setup: tuple[Api, Files], name: str, data: bytes
) -> None:
    api, files = setup
    alice = await api.register()
    status, body = await upload(api, alice, data, "cute-cat.png", "image/png")
    assert status == 415, (name, body)
    assert body["error"]["code"] == "unsupported_media_type"
    await nothing_left(files, set())


async def test_zero_byte_file_is_refused(setup: tuple[Api, Files]) -> None:
    api, files = setup
    alice = await api.register()
    status, body = await upload(api, alice, b"", "empty.txt", "text/plain")
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert body["error"]["details"] == {"fields": {"file": "empty"}}
    await nothing_left(files, set())


async def test_limit_is_enforced_while_streaming(
    start_server: Any, http: ClientSession, file_store: Files
) -> None:
    """MAX_UPLOAD_MB=1: exactly 1 MiB passes (far above MAX_EVENT_BYTES, which does not
    apply to streamed multipart); one byte more is 413 and leaves nothing behind."""
    server = await start_server(max_upload_mb=1, **file_store.settings)
    files = file_store
    api = Api(http, str(server.make_url("")).rstrip("/"))
    alice = await api.register()
    limit = 1024 * 1024
    assert limit > server.app[CTX].settings.max_event_bytes
    await uploaded(api, alice, b"a" * limit, "exactly.txt")
    before = await files.keys()
    status, body = await upload(api, alice, b"a" * (limit + 1), "over.txt", "text/plain")
    assert status == 413 and body["error"]["code"] == "too_large"
    assert body["error"]["details"] == {"max_bytes": limit}
    await nothing_left(files, before)


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (8_000, 6_000)])
async def test_decompression_bomb_is_refused(
    setup: tuple[Api, Files], width: int, height: int
) -> None:
    """Beyond Pillow's hard limit, and between its warning and its hard limit (the warning
    must count as an error)."""
    api, files = setup
    alice = await api.register()
    status, body = await upload(api, alice, png_declaring(width, height), "bomb.png")
    assert status == 413 and body["error"]["code"] == "too_large", body
    assert body["error"]["details"] == {"max_pixels": 40_000_000}
    await nothing_left(files, set())


async def test_undecodable_image_is_refused(setup: tuple[Api, Files]) -> None:
    api, files = setup
    alice = await api.register()
    status, body = await upload(api, alice, png(32, 32)[:60], "broken.png")
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    await nothing_left(files, set())


def multipart(disposition: str, data: bytes) -> bytes:
    """One `file` part written by hand (clients would escape what an attacker does not)."""
    return (
        f'--XYZ\r\nContent-Disposition: form-data; name="file"; {disposition}\r\n\r\n'.encode()
        + data
        + b"\r\n--XYZ--\r\n"
    )


async def test_path_traversal_in_the_name_never_reaches_the_filesystem(
    setup: tuple[Api, Files], tmp_path: Any
) -> None:
    api, files = setup
    alice = await api.register()
    names = {
        'filename="../../../../etc/passwd"': "passwd",
        'filename="..\\\\..\\\\windows\\\\evil.txt"': "evil.txt",  # quoted-string escapes
        "filename*=UTF-8''..%5C..%5Cwindows%5Cevil.txt": "evil.txt",
        "filename*=UTF-8''..%2F..%2Fetc%2Fpasswd": "passwd",
        'filename="../.."': "file",
        "filename*=UTF-8''%1F%0A.hidden": "hidden",
    }
    for disposition, kept in names.items():
        status, body = await api.post(
            "/api/upload",
            data=multipart(disposition, b"plain words\n"),
            token=alice.access_token,
            headers={"Content-Type": "multipart/form-data; boundary=XYZ"},
        )
        assert status == 201, body
        assert body["attachment"]["filename"] == kept, disposition
        _, headers, _ = await fetch(api, body["attachment"]["url"])
        assert headers["Content-Disposition"] == (
            f"attachment; filename=\"{kept}\"; filename*=UTF-8''{kept}"
        )
    assert all(len(key) == 32 and key.isalnum() for key in await files.keys())
    assert not list(tmp_path.rglob("passwd")) and not list(tmp_path.rglob("evil.txt"))
    # A raw control character is not even a valid part header.
    status, body = await api.post(
        "/api/upload",
        data=multipart('filename="\x1f.txt"', b"words"),
        token=alice.access_token,
        headers={"Content-Type": "multipart/form-data; boundary=XYZ"},
    )
    assert status == 400 and body["error"]["code"] == "bad_request"


async def raw_upload(api: Api, account: Account, body: bytes, declared: int) -> bytes:
    """Send a multipart request by hand; return whatever the server answers."""
    host, port = api.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST /api/upload HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {account.access_token}\r\n"
        "Content-Type: multipart/form-data; boundary=XYZ\r\n"
        f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    if declared > len(body):
        writer.write_eof()
    answer = await reader.read()
    writer.close()
    return answer


PART = (
    b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n" + b"some words " * 200
)


async def test_truncated_multipart_body_is_refused_and_leaves_nothing(
    setup: tuple[Api, Files],
) -> None:
    api, files = setup
    alice = await api.register()
    # The whole declared body arrives, but the part never ends with its boundary.
    answer = await raw_upload(api, alice, PART, len(PART))
    assert answer.startswith(b"HTTP/1.1 400 ") and b'"bad_request"' in answer
    # The body stops short of its Content-Length: the client is gone, nothing is kept.
    await raw_upload(api, alice, PART, len(PART) + 100_000)
    await nothing_left(files, set())
    complete = PART + b"\r\n--XYZ--\r\n"
    answer = await raw_upload(api, alice, complete, len(complete))
    assert answer.startswith(b"HTTP/1.1 201 ")


@pytest.mark.parametrize(
    ("content_type", "body", "field"),
    [
        ("application/json", b"{}", None),
        ("multipart/form-data; boundary=XYZ", b"", None),
        (
            "multipart/form-data; boundary=XYZ",
            b'--XYZ\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--XYZ--\r\n',
            "file",
        ),
    ],
)
async def test_malformed_requests_are_bad_request(
    setup: tuple[Api, Files], content_type: str, body: bytes, field: str | None
) -> None:
    api, _ = setup
    alice = await api.register()
    status, answer = await api.post(
        "/api/upload", data=body, token=alice.access_token, headers={"Content-Type": content_type}
    )
    assert status == 400 and answer["error"]["code"] == "bad_request", answer
    if field:
        assert answer["error"]["details"] == {"fields": {field: "missing"}}


async def test_upload_needs_a_token(setup: tuple[Api, Files]) -> None:
    api, _ = setup
    status, body = await api.post("/api/upload", data=b"x")
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_openapi_describes_upload_files_and_search(setup: tuple[Api, Files]) -> None:
    api, _ = setup
    status, spec = await api.get("/api/openapi.json")
    assert status == 200
    upload_op = spec["paths"]["/api/upload"]["post"]
    form = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert spec["components"]["schemas"][form["$ref"].rsplit("/", 1)[1]]["properties"]["file"] == {
        "description": "the file; its type is read from the bytes",
        "format": "binary",
        "title": "File",
        "type": "string",
    }
    assert "201" in upload_op["responses"] and upload_op["security"] == [{"bearer": []}]
    for path in ("/api/files/{id}", "/api/files/{id}/thumbnail"):
        operation = spec["paths"][path]["get"]
        assert "security" not in operation
        names = {(p["name"], p["in"]) for p in operation["parameters"]}
        assert names == {("id", "path"), ("exp", "query"), ("sig", "query")}
        binary = operation["responses"]["200"]["content"]["application/octet-stream"]
        assert binary["schema"] == {"type": "string", "format": "binary"}
    search_op = spec["paths"]["/api/messages/search"]["get"]
    assert {p["name"] for p in search_op["parameters"]} == {"q", "chat_id", "limit", "cursor"}
    assert "application/json" in search_op["responses"]["200"]["content"]
