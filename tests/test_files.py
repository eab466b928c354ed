"""Serving files by signed URL, who gets such URLs, attachments in messages, and the sweep.

Signed URLs are bearer capabilities: whoever holds one may fetch the file until it expires.
So the tests check that URLs reach only allowed viewers, and that a URL cannot be bent to
another file, variant or expiry.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientSession

from infra import signed_urls
from models import Attachment
from tests.clients import Api
from tests.test_messages import Room, make_room, text
from tests.uploads_support import (
    PDF,
    LocalFiles,
    S3Files,
    png,
    uploaded,
    wav,
)

Files = LocalFiles | S3Files
SAFETY = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@dataclass
class World:
    api: Api
    room: Room
    files: Files
    server: Any


@pytest.fixture
async def world(start_server: Any, http: ClientSession, sockets: Any, file_store: Files) -> World:
    server = await start_server(**file_store.settings)
    api = Api(http, str(server.make_url("")).rstrip("/"))
    return World(api, await make_room(api, sockets, server), file_store, server)


async def get(api: Api, url: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    async with api.http.get(api.base_url + url, allow_redirects=False, **kwargs) as response:
        return response.status, dict(response.headers), await response.read()


async def fetch(api: Api, url: str) -> tuple[int, bytes]:
    """Like a browser: follow the redirect to S3 when there is one."""
    async with api.http.get(api.base_url + url) as response:
        return response.status, await response.read()


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def image_message(chat_id: str, attachment_id: str, kind: str = "image") -> dict[str, Any]:
    return {**text(chat_id), "type": kind, "content": None, "attachment_id": attachment_id}


async def test_served_with_safety_headers(world: World) -> None:
    api, alice = world.api, world.room.alice.account
    image = await uploaded(api, alice, png(), "pic.png")
    document = await uploaded(api, alice, PDF, 'Résumé "final".pdf')
    for attachment, disposition in ((image, "inline"), (document, "attachment")):
        status, headers, _ = await get(api, attachment["url"])
        assert {k: headers[k] for k in SAFETY} == SAFETY
        if isinstance(world.files, S3Files):
            assert status == 302 and headers["Cache-Control"] == "no-store"
            location = urlsplit(headers["Location"])
            assert parse_qs(location.query)["X-Amz-Expires"] == ["300"]
            assert parse_qs(location.query)["response-content-disposition"][0].startswith(
                disposition
            )
        else:
            assert status == 200 and headers["Content-Disposition"].startswith(disposition)
            assert headers["Cache-Control"].startswith("private, max-age=")
    status, headers, _ = await get(api, document["url"])
    expected = (
        'attachment; filename="Resume _final_.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf"
    )
    if isinstance(world.files, LocalFiles):
        assert headers["Content-Disposition"] == expected
        assert headers["Content-Type"] == "application/pdf"
    assert (await fetch(api, document["url"])) == (200, PDF)


async def test_tampered_missing_or_expired_signatures(world: World) -> None:
    api, alice = world.api, world.room.alice.account
    first = await uploaded(api, alice, png(), "a.png")
    second = await uploaded(api, alice, png(), "b.png")
    assert (await get(api, first["url"]))[0] in (200, 302)

    path, query = urlsplit(first["url"]).path, query_of(first["url"])
    sig, exp = query["sig"], query["exp"]
    altered = sig[:-1] + ("B" if sig.endswith("A") else "A")
    refusals = {
        "no signature": (path, 401),
        "no expiry": (f"{path}?sig={sig}", 401),
        "later expiry": (f"{path}?exp={int(exp) + 300}&sig={sig}", 403),
        "altered signature": (f"{path}?exp={exp}&sig={altered}", 403),
        "another file's URL": (f"{urlsplit(second['url']).path}?exp={exp}&sig={sig}", 403),
        "the file's URL on the thumbnail": (f"{path}/thumbnail?exp={exp}&sig={sig}", 403),
    }
    for name, (url, expected) in refusals.items():
        status, headers, body = await get(api, url)
        assert status == expected, (name, body)
        assert headers["Content-Type"].startswith("application/json"), name

    # A genuine signature whose time is up (minted with the server's key, an hour ago).
    signer = signed_urls.signer()
    stale = signer.url(uuid.UUID(first["id"]), "file", now=time.time() - 2 * signer.ttl_seconds)
    status, _, body = await get(api, stale)
    assert status == 401 and b"expired" in body
    status, _, _ = await get(api, f"{path}?exp=soon&sig={sig}")
    assert status == 400
    assert (await get(api, "/api/files/not-a-uuid?exp=1&sig=x"))[0] == 404


async def test_only_allowed_viewers_get_urls_and_urls_are_bearer_capabilities(
    world: World,
) -> None:
    room, api = world.room, world.api
    attachment = await uploaded(api, room.alice.account, png(), "team.png")
    sent = await room.alice.socket.ok("message:send", image_message(room.chat_id, attachment["id"]))
    received = await room.bob.socket.expect("message:new")
    bob_url = received["message"]["attachment"]["url"]
    assert (await fetch(api, bob_url))[0] == 200
    assert sent["message"]["attachment"]["width"] == 64

    # Carol is in no chat where it was posted: no route hands her a URL, and her token
    # does not replace one.
    error = await room.carol.socket.error("message:history", {"chat_id": room.chat_id})
    assert error["code"] == "not_found"
    path = urlsplit(bob_url).path
    carol_token = {"Authorization": f"Bearer {room.carol.account.access_token}"}
    assert (await get(api, path, headers=carol_token))[0] == 401
    # A URL minted for someone else works for whoever holds it, until it expires.
    assert (await fetch(api, bob_url))[0] == 200


async def test_someone_elses_attachment_or_a_wrong_kind_is_refused(world: World) -> None:
    room, api = world.room, world.api
    bobs = await uploaded(api, room.bob.account, png(), "bob.png")
    error = await room.alice.socket.error("message:send", image_message(room.chat_id, bobs["id"]))
    assert error["code"] == "not_found"
    voice = await uploaded(api, room.alice.account, wav(0.5), "v.wav")
    error = await room.alice.socket.error("message:send", image_message(room.chat_id, voice["id"]))
    assert error["code"] == "bad_request" and "attachment_id" in error["details"]["fields"]
    sent = await room.alice.socket.ok(
        "message:send", image_message(room.chat_id, voice["id"], kind="voice")
    )
    assert sent["message"]["attachment"]["duration_seconds"] == 0.5
    document = await uploaded(api, room.alice.account, PDF, "doc.pdf")
    await room.alice.socket.ok("message:send", image_message(room.chat_id, document["id"], "file"))


async def test_unposted_attachments_are_removed_after_24_hours(
    world: World, start_server: Any
) -> None:
    """The sweep runs when a node starts (then hourly): attachments never posted and older
    than 24 h go, with their bytes; posted or recent ones stay."""
    room, api, files = world.room, world.api, world.files
    posted = await uploaded(api, room.alice.account, png(), "posted.png")
    await room.alice.socket.ok("message:send", image_message(room.chat_id, posted["id"]))
    forgotten = await uploaded(api, room.alice.account, png(), "forgotten.png")
    recent = await uploaded(api, room.alice.account, PDF, "recent.pdf")
    day_ago = datetime.now(UTC) - timedelta(hours=24, minutes=1)
    await Attachment.filter(id__in=[posted["id"], forgotten["id"]]).update(created_at=day_ago)
    assert len(await files.keys()) == 5

    await world.server.close()
    server = await start_server(**files.settings)
    api = Api(api.http, str(server.make_url("")).rstrip("/"))
    assert len(await files.keys()) == 3  # posted (file + thumbnail) and recent
    assert (await get(api, forgotten["url"]))[0] == 404
    assert (await fetch(api, forgotten["thumbnail_url"]))[0] == 404
    assert (await fetch(api, posted["url"]))[0] == 200
    assert (await fetch(api, recent["url"]))[0] == 200
