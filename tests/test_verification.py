"""POST /api/users/verify: codes by real SMTP (aiosmtpd), by Twilio's API (a local stand-in for
its HTTP endpoint, driven by the official client), or in the log; wrong, expired and
brute-forced codes."""

from __future__ import annotations

import asyncio
import email
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message as EmailMessage
from typing import Any

import pytest
from aiohttp import ClientSession, encode_basic_auth, web
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from models import Verification
from tests.clients import Account, Api
from tests.nodes import free_port

CODE = re.compile(r"\b(\d{6})\b")
SMTP_USER, SMTP_PASSWORD = "mailer", "p@ss:word"
TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM = "AC" + "0" * 32, "twilio-auth-token", "+15005550006"
PHONE = "+14155552671"


@dataclass
class MailServer:
    """A real SMTP server (aiosmtpd) on a loopback port that keeps what it receives."""

    port: int
    received: asyncio.Queue[tuple[Envelope, EmailMessage]] = field(default_factory=asyncio.Queue)

    @property
    def url(self) -> str:
        return f"smtp://{SMTP_USER}:p%40ss%3Aword@127.0.0.1:{self.port}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        await self.received.put((envelope, email.message_from_bytes(envelope.content)))
        return "250 OK"

    async def next_code(self) -> tuple[Envelope, EmailMessage, str]:
        envelope, message = await asyncio.wait_for(self.received.get(), 5)
        match = CODE.search(message.get_payload(decode=True).decode())
        assert match, message.as_string()
        return envelope, message, match.group(1)


def _check_login(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:  # fmt: skip
    ok = isinstance(auth_data, LoginPassword) and auth_data == LoginPassword(
        SMTP_USER.encode(), SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok)


@pytest.fixture
async def smtp() -> AsyncIterator[MailServer]:
    mail = MailServer(free_port())
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mail, authenticator=_check_login, auth_require_tls=False),
        "127.0.0.1",
        mail.port,
    )
    yield mail
    server.close()
    await server.wait_closed()


@dataclass
class TwilioStandIn:
    """Twilio's Messaging endpoint on a loopback port; everything else about Twilio is real."""

    sent: asyncio.Queue[dict[str, str]] = field(default_factory=asyncio.Queue)
    fail: bool = False

    async def create_message(self, request: web.Request) -> web.Response:
        expected = encode_basic_auth(TWILIO_SID, TWILIO_TOKEN)
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if request.match_info["sid"] != TWILIO_SID:
            return web.json_response({"code": 20404, "message": "Not found"}, status=404)
        form = dict(await request.post())
        if self.fail:
            return web.json_response({"code": 21211, "message": "Invalid 'To'"}, status=400)
        await self.sent.put({key: str(value) for key, value in form.items()})
        sid = "SM" + "1" * 32
        return web.json_response(
            {"sid": sid, "account_sid": TWILIO_SID, "to": form["To"], "from": form["From"],
             "body": form["Body"], "status": "queued", "num_segments": "1"},
            status=201,
        )  # fmt: skip

    async def next_code(self) -> tuple[dict[str, str], str]:
        sent = await asyncio.wait_for(self.sent.get(), 5)
        match = CODE.search(sent["Body"])
        assert match, sent
        return sent, match.group(1)


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[TwilioStandIn, str]]:
    stand_in = TwilioStandIn()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", stand_in.create_message)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield stand_in, str(server.make_url("")).rstrip("/")
    await server.close()


def twilio_settings(base_url: str) -> dict[str, str]:
    return {
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from_number": TWILIO_FROM,
        "twilio_api_base_url": base_url,
    }


async def setup(start_server: Any, http: ClientSession, **settings: Any) -> tuple[Api, Account]:
    server = await start_server(**settings)
    api = Api(http, str(server.make_url("")).rstrip("/"))
    return api, await api.register()


async def verify(api: Api, account: Account, **body: Any) -> tuple[int, Any]:
    return await api.post("/api/users/verify", body, token=account.access_token)


async def test_email_code_over_smtp_verifies_the_address(start_server, http, smtp) -> None:
    api, alice = await setup(start_server, http, smtp_url=smtp.url, email_from="Parley <p@x.io>")
    assert alice.user["email_verified"] is False
    status, sent = await verify(api, alice, channel="email")
    assert status == 202, sent
    assert sent == {
        "channel": "email", "sent_to": alice.user["email"], "expires_in": 600, "resend_after": 60
    }  # fmt: skip
    envelope, message, code = await smtp.next_code()
    assert envelope.rcpt_tos == [sent["sent_to"]] and message["To"] == sent["sent_to"]
    assert message["From"] == "Parley <p@x.io>" and "verification code" in message["Subject"]

    status, body = await verify(api, alice, channel="email", code=code)
    assert status == 200, body
    assert body["user"]["email_verified"] is True and body["user"]["id"] == alice.id
    status, again = await verify(api, alice, channel="email", code=code)
    assert status == 400 and again["error"]["code"] == "bad_request"
    status, resend = await verify(api, alice, channel="email")
    assert status == 409 and resend["error"]["code"] == "conflict"


async def test_wrong_code_is_refused_and_the_right_one_still_works(
    start_server, http, smtp
) -> None:
    api, alice = await setup(start_server, http, smtp_url=smtp.url)
    assert (await verify(api, alice, channel="email"))[0] == 202
    _, _, code = await smtp.next_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    status, body = await verify(api, alice, channel="email", code=wrong)
    assert status == 400
    assert body["error"]["code"] == "bad_request" and "code" in body["error"]["details"]["fields"]
    status, body = await verify(api, alice, channel="email", code=code)
    assert status == 200 and body["user"]["email_verified"] is True


async def test_five_wrong_codes_kill_the_code(start_server, http, smtp) -> None:
    api, alice = await setup(start_server, http, smtp_url=smtp.url)
    assert (await verify(api, alice, channel="email"))[0] == 202
    _, _, code = await smtp.next_code()
    wrong = [f"{(int(code) + step) % 10**6:06d}" for step in range(1, 6)]
    results = await asyncio.gather(*(verify(api, alice, channel="email", code=w) for w in wrong))
    assert [status for status, _ in results] == [400] * 5
    status, body = await verify(api, alice, channel="email", code=code)
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, profile = await api.post(
        "/api/auth/login", {"login": alice.user["username"], "password": alice.password}
    )
    assert status == 200 and profile["user"]["email_verified"] is False


async def test_expired_code_is_refused(start_server, http, smtp) -> None:
    api, alice = await setup(start_server, http, smtp_url=smtp.url)
    assert (await verify(api, alice, channel="email"))[0] == 202
    _, _, code = await smtp.next_code()
    stored = await Verification.get(user_id=alice.id)
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert timedelta(minutes=9) < stored.expires_at - datetime.now(UTC) <= timedelta(minutes=10)
    # Ten minutes pass.
    await Verification.filter(id=stored.id).update(expires_at=datetime.now(UTC))
    status, body = await verify(api, alice, channel="email", code=code)
    assert status == 400 and body["error"]["code"] == "bad_request"


async def test_resend_is_throttled_per_channel(start_server, http, smtp, twilio) -> None:
    stand_in, base_url = twilio
    api, alice = await setup(start_server, http, smtp_url=smtp.url, **twilio_settings(base_url))
    assert (await verify(api, alice, channel="email"))[0] == 202
    status, body = await verify(api, alice, channel="email")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert 1 <= body["error"]["details"]["retry_after"] <= 60
    assert (await verify(api, alice, channel="phone", phone=PHONE))[0] == 202
    await smtp.next_code()
    await stand_in.next_code()
    assert smtp.received.empty() and stand_in.sent.empty()


async def test_sms_code_through_twilio_verifies_the_phone(start_server, http, twilio) -> None:
    stand_in, base_url = twilio
    api, alice = await setup(start_server, http, **twilio_settings(base_url))
    status, sent = await verify(api, alice, channel="phone", phone="+1 (415) 555-2671")
    assert status == 202 and sent["sent_to"] == PHONE, sent
    form, code = await stand_in.next_code()
    assert form["To"] == PHONE and form["From"] == TWILIO_FROM
    status, body = await verify(api, alice, channel="phone", code=code)
    assert status == 200, body
    assert body["user"]["phone"] == PHONE and body["user"]["phone_verified"] is True
    assert body["user"]["email_verified"] is False


async def test_phone_on_file_is_used_when_none_is_given(
    start_server, http, sockets, twilio
) -> None:
    stand_in, base_url = twilio
    server = await start_server(**twilio_settings(base_url))
    api = Api(http, str(server.make_url("")).rstrip("/"))
    alice = await api.register()
    status, body = await verify(api, alice, channel="phone")
    assert status == 400 and "phone" in body["error"]["details"]["fields"]
    client = await sockets(str(server.make_url("")), alice.access_token)
    await client.ok("profile:update", {"phone": PHONE})
    assert (await verify(api, alice, channel="phone"))[0] == 202
    form, code = await stand_in.next_code()
    assert form["To"] == PHONE
    assert (await verify(api, alice, channel="phone", code=code))[0] == 200
    status, body = await verify(api, alice, channel="phone")
    assert status == 409 and body["error"]["code"] == "conflict"


async def test_delivery_failures_answer_unavailable_and_leave_nothing(
    start_server, http, twilio
) -> None:
    stand_in, base_url = twilio
    stand_in.fail = True
    closed_port = free_port()
    api, alice = await setup(
        start_server, http, smtp_url=f"smtp://127.0.0.1:{closed_port}", **twilio_settings(base_url)
    )
    for channel, extra in (("email", {}), ("phone", {"phone": PHONE})):
        for _ in range(2):  # the throttle was released, so the retry is not rate_limited
            status, body = await verify(api, alice, channel=channel, **extra)
            assert status == 503 and body["error"]["code"] == "unavailable", body
    assert not await Verification.filter(user_id=alice.id).exists()


async def test_console_delivery_when_nothing_is_configured(start_server, http, caplog) -> None:
    caplog.set_level(logging.INFO, logger="infra")
    api, alice = await setup(start_server, http)
    assert (await verify(api, alice, channel="email"))[0] == 202
    assert (await verify(api, alice, channel="phone", phone=PHONE))[0] == 202
    mail_log = [r for r in caplog.records if r.name == "infra.mail"]
    sms_log = [r for r in caplog.records if r.name == "infra.sms"]
    assert len(mail_log) == 1 and len(sms_log) == 1
    assert alice.user["email"] in mail_log[0].getMessage() and PHONE in sms_log[0].getMessage()
    email_code = CODE.search(mail_log[0].getMessage()).group(1)
    phone_code = CODE.search(sms_log[0].getMessage()).group(1)
    assert (await verify(api, alice, channel="email", code=email_code))[0] == 200
    status, body = await verify(api, alice, channel="phone", code=phone_code)
    assert status == 200 and body["user"]["phone_verified"] is True


async def test_production_refuses_to_log_codes(start_server, http, caplog) -> None:
    caplog.set_level(logging.INFO, logger="infra")
    api, alice = await setup(
        start_server, http, parley_env="production", bcrypt_rounds=12,
        cors_origins=["https://parley.example"],
    )  # fmt: skip
    for channel, extra in (("email", {}), ("phone", {"phone": PHONE})):
        status, body = await verify(api, alice, channel=channel, **extra)
        assert status == 503 and body["error"]["code"] == "unavailable"
    assert not [r for r in caplog.records if r.name in ("infra.mail", "infra.sms")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "channel"),
        ({"channel": "fax"}, "channel"),
        ({"channel": "email", "code": "12345"}, "code"),
        ({"channel": "email", "code": "12345a"}, "code"),
        ({"channel": "email", "code": 123456}, "code"),
        ({"channel": "phone", "phone": "+1555"}, "phone"),
        ({"channel": "phone", "phone": "not a number"}, "phone"),
        ({"channel": "email", "phone": PHONE}, "payload"),
        ({"channel": "phone", "phone": PHONE, "code": "123456"}, "payload"),
        ({"channel": "email", "extra": 1}, "extra"),
    ],
)
async def test_bad_input_is_bad_request(api: Api, body: dict[str, Any], field: str) -> None:
    alice = await api.register()
    status, answer = await verify(api, alice, **body)
    assert status == 400 and answer["error"]["code"] == "bad_request", answer
    assert field in answer["error"]["details"]["fields"], answer


async def test_confirm_without_a_pending_code_and_unauthenticated(api: Api) -> None:
    alice = await api.register()
    status, body = await verify(api, alice, channel="phone", code="123456")
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body = await api.post("/api/users/verify", {"channel": "email"})
    assert status == 401 and body["error"]["code"] == "unauthorized"
