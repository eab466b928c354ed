"""Outgoing email: SMTP through aiosmtplib (`SMTP_URL`), or the log when it is unset.

`smtp://user:pass@host:port` upgrades with STARTTLS when the server offers it;
`smtps://` speaks TLS from the first byte (port 465 by default).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from infra.settings import Settings

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 15.0


class DeliveryError(Exception):
    """The message could not be handed to the mail server."""


async def send_mail(settings: Settings, to: str, subject: str, text: str) -> None:
    """Send a plain-text email, or log it when no SMTP server is configured."""
    if not settings.smtp_url:
        log.info("email to %s (SMTP_URL unset): %s\n%s", to, subject, text)
        return
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    url = urlsplit(settings.smtp_url)
    try:
        await aiosmtplib.send(
            message,
            hostname=url.hostname,
            port=url.port,
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=url.scheme == "smtps",
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("email to %s failed: %s", to, exc)
        raise DeliveryError(str(exc)) from exc
