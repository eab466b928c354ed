"""Socket.IO transport: the handshake, and one table of events dispatched to use cases.

Every event is validated with its pydantic model, run, and answered with the contract's ack
(`{ok: true, data}` or `{ok: false, error}`). Nothing a client sends can crash a handler or
drop its socket, except what the boundary refuses on purpose (see docs/security.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from pydantic import BaseModel, ValidationError

from handlers import (
    auth,
    call_timers,
    calls,
    chat_members,
    chats,
    messages,
    polls,
    presence,
    profiles,
    reactions,
    receipts,
    sync,
    typing_indicators,
    user_search,
)
from handlers.budget import EventBudgets
from handlers.context import Actor, Ctx
from handlers.cors import origin_policy
from handlers.engine import (
    JsonOnlyPacket,
    OrjsonCodec,
    close_session,
    close_socket,
    disable_websocket_compression,
    refuse_binary_packets,
)
from handlers.errors import (
    BadRequest,
    DomainError,
    Internal,
    NotFound,
    RateLimited,
    validation_error,
)
from handlers.notify import session_room, user_room
from handlers.schemas import calls as cls
from handlers.schemas import chats as cht
from handlers.schemas import messages as msg
from handlers.schemas import polls as pls
from handlers.schemas import profiles as prof
from handlers.schemas import receipts as rcp
from handlers.schemas.auth import SocketRefreshIn
from handlers.schemas.reactions import ReactionIn
from handlers.schemas.sync import SyncIn
from infra import bus
from infra.metrics import EVENT_LATENCY, EVENTS_HANDLED, SOCKETS_CONNECTED
from infra.settings import Settings

log = logging.getLogger(__name__)

SOCKET_CAP_RETRY_SECONDS = 10
"""`retry_after` when a user is at MAX_SOCKETS_PER_USER (advisory: a slot frees when one closes)."""

UseCase = Callable[[Ctx, Actor, Any], Awaitable[BaseModel | dict[str, Any] | None]]

EVENTS: dict[str, tuple[type[BaseModel], UseCase]] = {
    "auth:refresh": (SocketRefreshIn, auth.reauthenticate),
    "chat:create": (cht.CreateChatIn, chats.create_chat),
    "chat:list": (cht.ListChatsIn, chats.list_chats),
    "chat:get": (cht.ChatIdIn, chats.get_chat),
    "chat:update": (cht.UpdateChatIn, chats.update_chat),
    "chat:add_members": (cht.AddMembersIn, chat_members.add_members),
    "chat:remove_member": (cht.MemberIn, chat_members.remove_member),
    "chat:leave": (cht.ChatIdIn, chat_members.leave_chat),
    "chat:set_role": (cht.SetRoleIn, chat_members.set_role),
    "chat:archive": (cht.ArchiveIn, chats.archive_chat),
    "chat:hide": (cht.HideIn, chats.hide_chat),
    "message:send": (msg.SendMessageIn, messages.send_message),
    "message:history": (msg.HistoryIn, messages.message_history),
    "message:edit": (msg.EditMessageIn, messages.edit_message),
    "message:delete": (msg.DeleteMessageIn, messages.delete_message),
    "message:report": (msg.ReportMessageIn, messages.report_message),
    "message:read": (rcp.ReceiptIn, receipts.mark_read),
    "message:delivered": (rcp.ReceiptIn, receipts.mark_delivered),
    "typing": (rcp.TypingIn, typing_indicators.set_typing),
    "sync": (SyncIn, sync.sync),
    "reaction:add": (ReactionIn, reactions.add_reaction),
    "reaction:remove": (ReactionIn, reactions.remove_reaction),
    "poll:create": (pls.CreatePollIn, polls.create_poll),
    "poll:vote": (pls.VoteIn, polls.vote),
    "poll:close": (pls.PollIdIn, polls.close_poll),
    "profile:get": (prof.ProfileGetIn, profiles.get_profile),
    "profile:update": (prof.ProfileUpdateIn, profiles.update_profile),
    "user:search": (prof.UserSearchIn, user_search.search_users),
    "presence:get": (prof.PresenceGetIn, user_search.get_presence),
    "call:start": (cls.StartCallIn, calls.start_call),
    "call:accept": (cls.CallIdIn, calls.accept_call),
    "call:reject": (cls.CallIdIn, calls.reject_call),
    "call:end": (cls.CallIdIn, calls.end_call),
    "call:signal": (cls.SignalIn, calls.relay_signal),
    "call:token": (cls.CallIdIn, calls.call_token),
}


class Refused(socketio.exceptions.ConnectionRefusedError):
    """A refused handshake; its connect_error data is the contract's `{code, message, details?}`."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error_args = error.to_dict()


def build_server(settings: Settings) -> socketio.AsyncServer:
    manager = (
        socketio.AsyncRedisManager(
            settings.redis_url, channel=bus.channel(settings.redis_url, "socketio")
        )
        if settings.redis_url
        else None
    )
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        serializer=JsonOnlyPacket,
        json=OrjsonCodec,
        cors_allowed_origins=origin_policy(settings).allows_handshake,
        transports=settings.socketio_transports,
        max_http_buffer_size=settings.max_event_bytes,
        logger=False,
        engineio_logger=False,
    )
    refuse_binary_packets(sio)
    if not settings.ws_compression:
        disable_websocket_compression(sio.eio)
    return sio


def ok(result: BaseModel | dict[str, Any] | None) -> dict[str, Any]:
    data = result.model_dump(mode="json") if isinstance(result, BaseModel) else (result or {})
    return {"ok": True, "data": data}


def failed(error: DomainError) -> dict[str, Any]:
    return {"ok": False, "error": error.to_dict()}


def bearer_token(auth_data: Any, environ: dict[str, Any]) -> str | None:
    """The access token from `auth: {token}` or an `Authorization: Bearer` header."""
    if isinstance(auth_data, dict) and isinstance(auth_data.get("token"), str):
        return auth_data["token"]
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class SocketTransport:
    """Binds a `Ctx` to a python-socketio server: handshake, dispatch, disconnect."""

    def __init__(self, sio: socketio.AsyncServer, ctx: Ctx) -> None:
        self.sio = sio
        self.ctx = ctx
        self.actors: dict[str, Actor] = {}
        self.budgets = EventBudgets(ctx.settings, on_flood=lambda sid: close_socket(sio, sid))
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        sio.on("*", self.unknown_event)
        for event in EVENTS:
            sio.on(event, self._handler_for(event))

    async def connect(self, sid: str, environ: dict[str, Any], auth_data: Any = None) -> None:
        """Admit the socket, or refuse it with `{code, message}` (nothing is left behind)."""
        try:
            await self._admit(sid, environ, auth_data)
        except DomainError as error:
            await self.disconnect(sid)
            raise Refused(error) from None
        except Exception:
            log.exception("handshake failed")
            await self.disconnect(sid)
            raise Refused(Internal()) from None

    async def _admit(self, sid: str, environ: dict[str, Any], auth_data: Any) -> None:
        actor = await auth.authenticate(self.ctx, bearer_token(auth_data, environ))
        actor.socket_id = sid
        actor.ip = environ["aiohttp.request"].remote
        self.actors[sid] = actor
        SOCKETS_CONNECTED.inc()
        rooms = [user_room(actor.user_id), session_room(actor.session_id)]
        rooms += await presence.chat_rooms_of(actor.user_id)
        for room in rooms:
            await self.sio.enter_room(sid, room)
        live = await presence.socket_connected(self.ctx, actor)
        cap = self.ctx.settings.max_sockets_per_user
        if live > cap:
            message = f"Too many connections for this account (at most {cap})"
            raise RateLimited(SOCKET_CAP_RETRY_SECONDS, message)
        self.budgets.open(sid)
        await call_timers.user_connected(self.ctx, actor.user_id)

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        self.budgets.close(sid)
        actor = self.actors.pop(sid, None)
        if actor is None:
            return
        SOCKETS_CONNECTED.dec()
        try:
            await presence.socket_disconnected(self.ctx, actor)
        except Exception:
            log.exception("presence update failed for socket %s", sid)
        try:
            await call_timers.user_disconnected(self.ctx, actor.user_id)
        except Exception:
            log.exception("call grace period could not start for socket %s", sid)

    async def keepalive(self, node_id: str) -> None:
        """Refresh this node's presence entries and heartbeat, so a dead node's expire.

        Also a safety net for revocation: a socket whose session was revoked is dropped here
        even if this node missed the control-bus message that normally does it at once.
        """
        while True:
            try:
                for sid, actor in list(self.actors.items()):
                    if await self.ctx.state.is_session_revoked(str(actor.session_id)):
                        await self.sio.disconnect(sid)
                        continue
                    await self.ctx.state.socket_up(
                        str(actor.user_id),
                        str(actor.socket_id),
                        self.ctx.settings.presence_ttl_seconds,
                    )
                await self.ctx.state.heartbeat_node(
                    node_id, len(self.actors), self.ctx.settings.presence_ttl_seconds
                )
            except Exception:
                log.exception("keepalive failed; retrying")
            await asyncio.sleep(self.ctx.settings.presence_ttl_seconds / 3)

    async def shutdown(self, node_id: str) -> None:
        """Graceful stop: close every socket (offline broadcasts go out), leave the registry."""
        for sid in list(self.actors):
            await self.sio.disconnect(sid)
        try:
            await self.ctx.state.remove_node(node_id)
        except Exception:
            log.exception("could not leave the node registry; the entry expires by itself")
        for eio_sid in list(self.sio.eio.sockets):
            await close_session(self.sio, eio_sid)  # or aiohttp waits for their websockets
        await self.sio.shutdown()

    async def unknown_event(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        return await self.dispatch(event, sid, args)

    def _handler_for(self, event: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def handle(sid: str, *args: Any) -> dict[str, Any]:
            return await self.dispatch(event, sid, args)

        return handle

    async def dispatch(self, event: str, sid: str, args: tuple[Any, ...]) -> dict[str, Any]:
        """Within the connection's budget, validate, run and answer one event.

        The outcome is always an ack object; unknown events answer `not_found`.
        """
        started = time.perf_counter()
        try:
            async with self.budgets.spend(sid):
                result = await self._run(event, sid, args)
            answer, outcome = ok(result), "ok"
        except ValidationError as exc:
            error = validation_error(exc)
            answer, outcome = failed(error), error.code
        except DomainError as exc:
            answer, outcome = failed(exc), exc.code
        except Exception:
            log.exception("event %s failed", event)
            answer, outcome = failed(Internal()), Internal.code
        label = event if event in EVENTS else "unknown"
        EVENT_LATENCY.labels(event=label).observe(time.perf_counter() - started)
        EVENTS_HANDLED.labels(event=label, outcome=outcome).inc()
        return answer

    async def _run(
        self, event: str, sid: str, args: tuple[Any, ...]
    ) -> BaseModel | dict[str, Any] | None:
        actor = self.actors.get(sid)
        if actor is None:
            raise NotFound("Not connected")
        if event not in EVENTS:
            raise NotFound(f"Unknown event {event[:64]!r}")
        if len(args) != 1 or not isinstance(args[0], dict):
            raise BadRequest("The payload must be one JSON object")
        model, use_case = EVENTS[event]
        return await use_case(self.ctx, actor, model.model_validate(args[0]))
