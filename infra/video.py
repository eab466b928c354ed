"""Twilio Video: access tokens for a call's room, and completing the room when a call ends.

Tokens need TWILIO_ACCOUNT_SID, TWILIO_API_KEY and TWILIO_API_SECRET. Completing a room also
needs TWILIO_AUTH_TOKEN; it runs in a worker thread and never delays the end of a call.
"""

from __future__ import annotations

import asyncio
import logging

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant
from twilio.rest import Client

from infra.settings import Settings

log = logging.getLogger(__name__)

TOKEN_TTL_SECONDS = 4 * 3600
REST_TIMEOUT_SECONDS = 10.0
_pending: set[asyncio.Task[None]] = set()
"""Room completions in flight (a task nobody references may be garbage-collected)."""


def access_token(settings: Settings, identity: str, room: str) -> str | None:
    """A Video access token for `room`, or None when Twilio Video is not configured."""
    if not settings.twilio_video_configured:
        return None
    token = AccessToken(
        settings.twilio_account_sid,
        settings.twilio_api_key,
        settings.twilio_api_secret,
        identity=identity,
        ttl=TOKEN_TTL_SECONDS,
        grants=[VideoGrant(room=room)],
    )
    return token.to_jwt()


def complete_room_soon(settings: Settings, room: str) -> None:
    """Mark the Twilio room completed in the background; returns at once."""
    if not (settings.twilio_video_configured and settings.twilio_auth_token):
        return
    account_sid, auth_token = str(settings.twilio_account_sid), settings.twilio_auth_token
    task = asyncio.get_running_loop().create_task(
        asyncio.to_thread(_complete_room, account_sid, auth_token, room),
        name=f"twilio-complete-{room}",
    )
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def _complete_room(account_sid: str, auth_token: str, room: str) -> None:
    client = Client(
        account_sid, auth_token, http_client=TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS)
    )
    try:
        client.video.v1.rooms(room).update(status="completed")
    except TwilioRestException as exc:
        if exc.status == 404:
            log.info("Twilio room %s was never opened; nothing to complete", room)
        else:
            log.warning("Twilio refused to complete room %s: %s %s", room, exc.status, exc.msg)
    except Exception:
        log.warning("could not complete Twilio room %s", room, exc_info=True)
    else:
        log.info("Twilio room %s completed", room)
