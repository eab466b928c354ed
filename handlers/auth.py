"""Accounts and sessions: register, login, refresh rotation, logout, token checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from handlers.access import require_active
from handlers.context import Actor, ClientInfo, Ctx
from handlers.errors import Conflict, Forbidden, RateLimited, Unauthorized
from handlers.present import full_user
from handlers.schemas.auth import (
    AdminIn,
    AuthOut,
    LoginIn,
    RegisterIn,
    SocketRefreshIn,
    SocketRefreshOut,
)
from infra.security import (
    TokenError,
    decode_access_token,
    hash_password,
    hash_token,
    issue_access_token,
    new_opaque_token,
    verify_password,
)
from models import RefreshToken, Role, Session, User

BAD_CREDENTIALS = "Wrong login or password"
_dummy_hashes: dict[int, str] = {}


async def _dummy_hash(rounds: int) -> str:
    """A real hash to check against for unknown users, so they cost as much time."""
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = await hash_password(new_opaque_token(), rounds)
    return _dummy_hashes[rounds]


async def register(ctx: Ctx, cmd: RegisterIn, client: ClientInfo) -> AuthOut:
    email = cmd.email.lower()
    username_key = cmd.username.lower()
    taken = (
        await User.filter(email=email).exists()
        or await User.filter(username_key=username_key).exists()
    )
    if taken:
        raise Conflict("Email or username is already taken")
    password_hash = await hash_password(cmd.password, ctx.bcrypt_rounds)
    display_name = cmd.display_name or cmd.username
    try:
        async with in_transaction():
            user = await User.create(
                email=email,
                username=cmd.username,
                username_key=username_key,
                password_hash=password_hash,
                display_name=display_name,
                display_name_key=display_name.lower(),
            )
            return await _start_session(ctx, user, client)
    except IntegrityError as exc:
        raise Conflict("Email or username is already taken") from exc


async def login(ctx: Ctx, cmd: LoginIn, client: ClientInfo) -> AuthOut:
    key = cmd.login.lower()
    lookup = {"email": key} if "@" in key else {"username_key": key}
    user = await User.get_or_none(**lookup)
    account = str(user.id) if user else key
    limits = [f"login:acct:{account}"] + ([f"login:ip:{client.ip}"] if client.ip else [])
    await _refuse_if_locked(ctx, limits)
    stored = user.password_hash if user else await _dummy_hash(ctx.bcrypt_rounds)
    valid = await verify_password(cmd.password, stored)
    if user is None or not valid:
        for limit in limits:
            await ctx.state.count_hit(limit, ctx.settings.login_failure_window_seconds)
        raise Unauthorized(BAD_CREDENTIALS)
    await ctx.state.clear(limits[0])
    require_active(user)
    async with in_transaction():
        return await _start_session(ctx, user, client)


async def _refuse_if_locked(ctx: Ctx, limit_keys: list[str]) -> None:
    for key in limit_keys:
        count, remaining = await ctx.state.hits(key)
        if count >= ctx.settings.login_max_failures:
            raise RateLimited(remaining, "Too many failed logins; try again later")


async def _start_session(ctx: Ctx, user: User, client: ClientInfo) -> AuthOut:
    expires_at = datetime.now(UTC) + timedelta(days=ctx.settings.refresh_token_ttl_days)
    session = await Session.create(
        user=user,
        expires_at=expires_at,
        ip=client.ip,
        user_agent=(client.user_agent or "")[:256] or None,
    )
    return await _issue_pair(ctx, user, session)


async def _issue_pair(ctx: Ctx, user: User, session: Session) -> AuthOut:
    refresh_token = new_opaque_token()
    await RefreshToken.create(
        session=session, token_hash=hash_token(refresh_token), expires_at=session.expires_at
    )
    ttl = ctx.settings.access_token_ttl_seconds
    access_token, _ = issue_access_token(ctx.jwt_secret, user.id, session.id, ttl)
    return AuthOut(
        user=full_user(user),
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=ttl,
    )


async def refresh(ctx: Ctx, refresh_token: str | None) -> AuthOut:
    """Rotate: the presented token is spent; presenting a spent one revokes its family."""
    if not refresh_token:
        raise Unauthorized("A refresh token is required")
    now = datetime.now(UTC)
    reused_session_id: uuid.UUID | None = None
    async with in_transaction():
        token = await (
            RefreshToken.filter(token_hash=hash_token(refresh_token)).select_for_update().first()
        )
        if token is None:
            raise Unauthorized("Invalid refresh token")
        session = await Session.get(id=token.session_id).select_related("user")
        if token.spent_at is not None:
            if session.revoked_at is None:
                await _revoke(ctx, session, "reuse")
            reused_session_id = session.id
        elif session.revoked_at is None and token.expires_at > now:
            require_active(session.user)
            token.spent_at = now
            await token.save(update_fields=["spent_at"])
            return await _issue_pair(ctx, session.user, session)
    if reused_session_id is not None:
        await ctx.notify.disconnect_session(reused_session_id)
    raise Unauthorized("Invalid refresh token")


async def logout(ctx: Ctx, actor: Actor, refresh_token: str | None) -> None:
    """Revoke the caller's session (and the one the refresh token names, if another)."""
    session_ids = {actor.session_id}
    if refresh_token:
        token = await RefreshToken.get_or_none(token_hash=hash_token(refresh_token))
        if token is not None and (await token.session).user_id == actor.user_id:
            session_ids.add(token.session_id)
    for session in await Session.filter(id__in=session_ids, revoked_at=None):
        await _revoke(ctx, session, "logout")
    for session_id in session_ids:
        await ctx.notify.disconnect_session(session_id)


async def revoke_user_sessions(ctx: Ctx, user_id: uuid.UUID, reason: str) -> None:
    """End every session of a user (suspend, ban); their sockets are disconnected."""
    for session in await Session.filter(user_id=user_id, revoked_at=None):
        await _revoke(ctx, session, reason)
    await ctx.notify.disconnect_user(user_id)


async def _revoke(ctx: Ctx, session: Session, reason: str) -> None:
    session.revoked_at = datetime.now(UTC)
    session.revoked_reason = reason
    await session.save(update_fields=["revoked_at", "revoked_reason"])
    await ctx.state.revoke_session(str(session.id), ctx.settings.access_token_ttl_seconds + 60)


async def authenticate(ctx: Ctx, token: str | None, check_database: bool = True) -> Actor:
    """An access token → the acting user, or `unauthorized`/`forbidden`.

    Revocation is checked in shared state (immediate, every node); `check_database` also
    loads the session row, which is authoritative.
    """
    if not token:
        raise Unauthorized("An access token is required")
    try:
        claims = decode_access_token(ctx.jwt_secret, token)
    except TokenError as exc:
        raise Unauthorized("Invalid or expired access token") from exc
    if await ctx.state.is_session_revoked(str(claims.session_id)):
        raise Unauthorized("This session has ended")
    if check_database:
        session = await Session.get_or_none(id=claims.session_id).select_related("user")
        if session is None or session.revoked_at is not None or session.user_id != claims.user_id:
            raise Unauthorized("This session has ended")
        user = session.user
    else:
        user = await User.get_or_none(id=claims.user_id)
        if user is None:
            raise Unauthorized("Unknown user")
    require_active(user)
    return Actor(user=user, session_id=claims.session_id, token_expires_at=claims.expires_at)


async def reauthenticate(ctx: Ctx, actor: Actor, cmd: SocketRefreshIn) -> SocketRefreshOut:
    """`auth:refresh`: a fresh token of the socket's session extends its authentication.

    The socket stays bound to the session it connected with (logout and revocation find it
    by that session), so a token of another session is refused: reconnect with it instead.
    """
    fresh = await authenticate(ctx, cmd.access_token)
    if fresh.user_id != actor.user_id:
        raise Forbidden("The token belongs to another user")
    if fresh.session_id != actor.session_id:
        raise Forbidden("The token belongs to another session; reconnect with it")
    actor.token_expires_at = fresh.token_expires_at
    actor.user = fresh.user
    return SocketRefreshOut(expires_at=fresh.token_expires_at)


async def ensure_admin(cmd: AdminIn, rounds: int) -> str:
    """Create an admin account, or promote the existing one with that email."""
    email = cmd.email.lower()
    user = await User.get_or_none(email=email)
    if user is not None:
        user.role = Role.ADMIN
        await user.save(update_fields=["role"])
        return f"promoted {user.username} <{email}> to admin"
    username = cmd.username or email.split("@", 1)[0][:32]
    if await User.filter(username_key=username.lower()).exists():
        raise Conflict(f"username {username!r} is taken; pass --username")
    await User.create(
        email=email,
        username=username,
        username_key=username.lower(),
        password_hash=await hash_password(cmd.password, rounds),
        display_name=username,
        display_name_key=username.lower(),
        role=Role.ADMIN,
        email_verified=True,
    )
    return f"created admin {username} <{email}>"
