"""Twilio Video: access tokens checked with the API secret, and room completion on end.

Twilio's REST API is the outside world: `responses` stands in for it at the HTTP boundary
(the twilio package talks to it through `requests`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
import responses

from tests.clients import Api
from tests.test_calls import accept, start
from tests.test_messages import Room, make_room

ACCOUNT_SID = "AC" + "a1" * 16
API_KEY = "SK" + "b2" * 16
API_SECRET = "twilio-api-secret-for-tests-0123456789"
AUTH_TOKEN = "twilio-auth-token-for-tests"
TWILIO = {
    "twilio_account_sid": ACCOUNT_SID,
    "twilio_api_key": API_KEY,
    "twilio_api_secret": API_SECRET,
    "twilio_auth_token": AUTH_TOKEN,
}
FOUR_HOURS = 4 * 3600
RELEASE_SECONDS = 15.0


@pytest.fixture
def twilio_api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
async def room(start_server, http, sockets) -> Room:
    server = await start_server(**TWILIO)
    return await make_room(Api(http, str(server.make_url("")).rstrip("/")), sockets, server)


def check_token(token: str, user_id: str, room_name: str, issued: tuple[float, float]) -> None:
    claims = jwt.decode(token, API_SECRET, algorithms=["HS256"])
    assert jwt.get_unverified_header(token)["cty"] == "twilio-fpa;v=1"
    assert claims["iss"] == API_KEY and claims["sub"] == ACCOUNT_SID
    assert claims["grants"] == {"identity": user_id, "video": {"room": room_name}}
    assert int(issued[0]) + FOUR_HOURS <= claims["exp"] <= int(issued[1]) + FOUR_HOURS
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, API_SECRET.upper(), algorithms=["HS256"])


async def test_start_accept_and_token_carry_video_tokens(room: Room) -> None:
    before = time.time()
    started = await start(room.alice, room.chat_id)
    call = started["call"]
    assert started["twilio"]["room"] == call["room_name"]
    check_token(started["twilio"]["token"], room.alice.id, call["room_name"], (before, time.time()))

    before = time.time()
    accepted = await accept(room.bob, call["id"])
    assert accepted["twilio"]["room"] == call["room_name"]
    check_token(accepted["twilio"]["token"], room.bob.id, call["room_name"], (before, time.time()))

    before = time.time()
    fresh = await room.bob.socket.ok("call:token", {"call_id": call["id"]})
    assert fresh["twilio"]["room"] == call["room_name"]
    check_token(fresh["twilio"]["token"], room.bob.id, call["room_name"], (before, time.time()))

    outsider = await room.carol.socket.error("call:token", {"call_id": call["id"]})
    assert outsider["code"] == "not_found"


async def test_token_needs_a_joined_participant_of_a_live_call(room: Room, twilio_api) -> None:
    call = (await start(room.alice, room.chat_id))["call"]
    invited = await room.bob.socket.error("call:token", {"call_id": call["id"]})
    assert invited["code"] == "conflict"
    seen, release = stub_room_completion(twilio_api, call["room_name"], 404)
    release.set()
    await room.alice.socket.ok("call:end", {"call_id": call["id"]})
    ended = await room.alice.socket.error("call:token", {"call_id": call["id"]})
    assert ended["code"] == "conflict"
    await asyncio.wait_for(seen, RELEASE_SECONDS)


def stub_room_completion(
    mock: responses.RequestsMock, room_name: str, status: int
) -> tuple[asyncio.Future[Any], threading.Event]:
    """Twilio answers `status` once `release` is set; the future gets the request."""
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[Any] = loop.create_future()
    release = threading.Event()

    def complete(request: Any) -> tuple[int, dict[str, str], str]:
        release.wait(RELEASE_SECONDS)
        loop.call_soon_threadsafe(seen.set_result, request)
        body = {"sid": "RM" + "c3" * 16, "unique_name": room_name, "status": "completed"}
        return status, {}, json.dumps(body)

    mock.add_callback(
        responses.POST,
        f"https://video.twilio.com/v1/Rooms/{room_name}",
        callback=complete,
        content_type="application/json",
    )
    return seen, release


@pytest.mark.parametrize("twilio_status", [200, 500])
async def test_ending_completes_the_room_without_waiting(
    room: Room, twilio_api, twilio_status: int
) -> None:
    call = (await start(room.alice, room.chat_id))["call"]
    await accept(room.bob, call["id"])
    seen, release = stub_room_completion(twilio_api, call["room_name"], twilio_status)

    ended = await room.bob.socket.ok("call:end", {"call_id": call["id"]})
    assert ended["call"]["status"] == "ended"
    assert (await room.alice.socket.expect("call:ended"))["call"] == ended["call"]
    assert not seen.done()
    release.set()

    request = await asyncio.wait_for(seen, RELEASE_SECONDS)
    assert parse_qs(request.body) == {"Status": ["completed"]}
    scheme, _, credentials = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
    again = (await start(room.alice, room.chat_id))["call"]
    assert again["id"] != call["id"]
