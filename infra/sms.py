"""Outgoing SMS: Twilio's Messaging API through the official client, or the log.

Configured by TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN + TWILIO_FROM_NUMBER;
TWILIO_API_BASE_URL moves the API root (tests point it at a local stand-in).
"""

from __future__ import annotations

import logging

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from infra.settings import Settings

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 15.0


class DeliveryError(Exception):
    """Twilio refused the message or could not be reached."""


async def send_sms(settings: Settings, to: str, text: str) -> None:
    """Send a text message to an E.164 number, or log it when Twilio is not configured."""
    if not settings.sms_configured:
        log.info("SMS to %s (Twilio unset): %s", to, text)
        return
    http_client = AsyncTwilioHttpClient(pool_connections=False, timeout=SEND_TIMEOUT_SECONDS)
    client = Client(
        settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client
    )
    client.api.base_url = settings.twilio_api_base_url
    try:
        await client.messages.create_async(to=to, from_=settings.twilio_from_number, body=text)
    except (TwilioException, aiohttp.ClientError, OSError) as exc:
        log.warning("SMS to %s failed: %s", to, exc)
        raise DeliveryError(str(exc)) from exc
