"""Email and phone verification with one-time codes (`POST /api/users/verify`).

A code is 6 random digits, stored as an HMAC keyed with the JWT secret, valid 10 minutes and
for 5 attempts. Asking again replaces the pending code and is throttled to once a minute per
user and channel (in shared state, so every node agrees). Without SMTP or Twilio the code is
logged in development; production answers `unavailable` instead of logging secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from handlers.context import Actor, Ctx
from handlers.errors import BadRequest, Conflict, RateLimited, Unavailable
from handlers.present import full_user
from handlers.schemas.verification import CodeSentOut, VerifiedOut, VerifyIn
from infra import mail, sms
from models import User, Verification

CODE_TTL_SECONDS = 600
MAX_ATTEMPTS = 5
RESEND_SECONDS = 60
WRONG_CODE = "The code is wrong or has expired"


async def verify(ctx: Ctx, actor: Actor, cmd: VerifyIn) -> CodeSentOut | VerifiedOut:
    """Without a code: send one (202). With a code: confirm it (200 with the user)."""
    if cmd.code is None:
        return await send_code(ctx, actor, cmd)
    return await confirm_code(ctx, actor, cmd.channel, cmd.code)


async def send_code(ctx: Ctx, actor: Actor, cmd: VerifyIn) -> CodeSentOut:
    user = actor.user
    target = _target(user, cmd)
    _require_delivery(ctx, cmd.channel)
    throttle = f"verify:{user.id}:{cmd.channel}"
    if await ctx.state.count_hit(throttle, RESEND_SECONDS) > 1:
        _, remaining = await ctx.state.hits(throttle)
        raise RateLimited(remaining, "A code was sent less than a minute ago")
    code = f"{secrets.randbelow(10**6):06d}"
    async with in_transaction():
        await Verification.filter(user_id=user.id, channel=cmd.channel, consumed_at=None).delete()
        pending = await Verification.create(
            user_id=user.id,
            channel=cmd.channel,
            target=target,
            code_hash=_digest(ctx, user.id, cmd.channel, target, code),
            expires_at=datetime.now(UTC) + timedelta(seconds=CODE_TTL_SECONDS),
        )
    try:
        await _deliver(ctx, cmd.channel, target, code)
    except (mail.DeliveryError, sms.DeliveryError) as exc:
        await pending.delete()
        await ctx.state.clear(throttle)
        raise Unavailable("The code could not be sent; try again later") from exc
    return CodeSentOut(
        channel=cmd.channel,
        sent_to=target,
        expires_in=CODE_TTL_SECONDS,
        resend_after=RESEND_SECONDS,
    )


def _target(user: User, cmd: VerifyIn) -> str:
    """Where the code goes; `conflict` when that address is verified already."""
    if cmd.channel == "email":
        if user.email_verified:
            raise Conflict("The email address is already verified")
        return user.email
    phone = cmd.phone or user.phone
    if phone is None:
        raise BadRequest(
            "Give the phone number to verify", {"fields": {"phone": "required: no phone on file"}}
        )
    if phone == user.phone and user.phone_verified:
        raise Conflict("The phone number is already verified")
    return phone


def _require_delivery(ctx: Ctx, channel: str) -> None:
    configured = ctx.settings.smtp_url if channel == "email" else ctx.settings.sms_configured
    if ctx.settings.is_production and not configured:
        raise Unavailable(f"{channel} verification is not configured on this server")


async def _deliver(ctx: Ctx, channel: str, target: str, code: str) -> None:
    minutes = CODE_TTL_SECONDS // 60
    text = f"Your Parley code is {code}. It expires in {minutes} minutes."
    if channel == "email":
        note = "\n\nIf you did not ask for it, ignore this email."
        await mail.send_mail(ctx.settings, target, "Your Parley verification code", text + note)
    else:
        await sms.send_sms(ctx.settings, target, text)


async def confirm_code(ctx: Ctx, actor: Actor, channel: str, code: str) -> VerifiedOut:
    """Spend an attempt on the pending code; the right one verifies the address."""
    now = datetime.now(UTC)
    user_id = actor.user_id
    pending = (
        await Verification.filter(
            user_id=user_id, channel=channel, consumed_at=None, expires_at__gt=now
        )
        .order_by("-created_at")
        .first()
    )
    if pending is None or not await _spend_attempt(pending.id):
        raise BadRequest(WRONG_CODE, {"fields": {"code": "wrong or expired"}})
    expected = _digest(ctx, user_id, channel, pending.target, code)
    if not hmac.compare_digest(expected, pending.code_hash):
        raise BadRequest(WRONG_CODE, {"fields": {"code": "wrong or expired"}})
    async with in_transaction():
        consumed = await Verification.filter(id=pending.id, consumed_at=None).update(
            consumed_at=now
        )
        if consumed:
            verified = {"email_verified": True}
            if channel == "phone":
                verified = {"phone": pending.target, "phone_verified": True}
            await User.filter(id=user_id).update(**verified)
    if not consumed:
        raise BadRequest(WRONG_CODE, {"fields": {"code": "wrong or expired"}})
    return VerifiedOut(user=full_user(await User.get(id=user_id)))


async def _spend_attempt(verification_id: uuid.UUID) -> bool:
    """Count one attempt atomically; False once all of them are used."""
    spent = await Verification.filter(
        id=verification_id, consumed_at=None, attempts__lt=MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    return spent == 1


def _digest(ctx: Ctx, user_id: uuid.UUID, channel: str, target: str, code: str) -> str:
    message = f"{user_id}:{channel}:{target}:{code}".encode()
    return hmac.new(ctx.jwt_secret.encode(), message, hashlib.sha256).hexdigest()
