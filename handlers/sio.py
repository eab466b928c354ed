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

from handlers import auth, messages, presence, receipts, sync, typing_indicators
from handlers.context import Actor, Ctx
from handlers.engine import OrjsonCodec, disable_websocket_compression
from handlers.errors import BadRequest, DomainError, Internal, NotFound, validation_error
from handlers.notify import session_room, user_room
from handlers.schemas import messages as msg
from handlers.schemas import receipts as rcp
from handlers.schemas.auth import SocketRefreshIn
from handlers.schemas.sync import SyncIn
from infra.metrics import EVENT_LATENCY, EVENTS_HANDLED, SOCKETS_CONNECTED
from infra.settings import Settings

log = logging.getLogger(__name__)

UseCase = Callable[[Ctx, Actor, Any], Awaitable[BaseModel | dict[str, Any] | None]]

EVENTS: dict[str, tuple[type[BaseModel], UseCase]] = {
    "auth:refresh": (SocketRefreshIn, auth.reauthenticate),
    "message:send": (msg.SendMessageIn, messages.send_message),
    "message:history": (msg.HistoryIn, messages.message_history),
    "message:edit": (msg.EditMessageIn, messages.edit_message),
    "message:delete": (msg.DeleteMessageIn, messages.delete_message),
    "message:report": (msg.ReportMessageIn, messages.report_message),
    "message:read": (rcp.ReceiptIn, receipts.mark_read),
    "message:delivered": (rcp.ReceiptIn, receipts.mark_delivered),
    "typing": (rcp.TypingIn, typing_indicators.set_typing),
    "sync": (SyncIn, sync.sync),
}


class Refused(socketio.exceptions.ConnectionRefusedError):
    """A refused handshake whose connect_error data is the contract's `{code, message}`."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error_args = {"code": error.code, "message": error.message}


def build_server(settings: Settings) -> socketio.AsyncServer:
    manager = (
        socketio.AsyncRedisManager(settings.redis_url, channel="parley:socketio")
        if settings.redis_url
        else None
    )
    origins = settings.cors_origins or []
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        json=OrjsonCodec,
        cors_allowed_origins="*" if "*" in origins else origins,
        transports=settings.socketio_transports,
        max_http_buffer_size=settings.max_event_bytes,
        logger=False,
        engineio_logger=False,
    )
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
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        sio.on("*", self.unknown_event)
        for event in EVENTS:
            sio.on(event, self._handler_for(event))

    async def connect(self, sid: str, environ: dict[str, Any], auth_data: Any = None) -> None:
        try:
            actor = await auth.authenticate(self.ctx, bearer_token(auth_data, environ))
        except DomainError as error:
            raise Refused(error) from None
        actor.socket_id = sid
        actor.ip = environ.get("REMOTE_ADDR")
        self.actors[sid] = actor
        rooms = [user_room(actor.user_id), session_room(actor.session_id)]
        rooms += await presence.chat_rooms_of(actor.user_id)
        for room in rooms:
            await self.sio.enter_room(sid, room)
        SOCKETS_CONNECTED.inc()
        await presence.socket_connected(self.ctx, actor)

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        actor = self.actors.pop(sid, None)
        if actor is None:
            return
        SOCKETS_CONNECTED.dec()
        try:
            await presence.socket_disconnected(self.ctx, actor)
        except Exception:
            log.exception("presence update failed for socket %s", sid)

    async def keepalive(self, node_id: str) -> None:
        """Refresh this node's presence entries and heartbeat, so a dead node's expire."""
        while True:
            try:
                for actor in list(self.actors.values()):
                    await self.ctx.state.socket_up(
                        str(actor.user_id), str(actor.socket_id), presence.PRESENCE_TTL_SECONDS
                    )
                await self.ctx.state.heartbeat_node(
                    node_id, len(self.actors), presence.PRESENCE_TTL_SECONDS
                )
            except Exception:
                log.exception("keepalive failed; retrying")
            await asyncio.sleep(presence.PRESENCE_TTL_SECONDS / 3)

    async def shutdown(self, node_id: str) -> None:
        """Graceful stop: close every socket (offline broadcasts go out), leave the registry."""
        for sid in list(self.actors):
            await self.sio.disconnect(sid)
        await self.ctx.state.remove_node(node_id)
        await self.sio.shutdown()

    async def unknown_event(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        EVENTS_HANDLED.labels(event="unknown", outcome="not_found").inc()
        return failed(NotFound(f"Unknown event {event[:64]!r}"))

    def _handler_for(self, event: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def handle(sid: str, *args: Any) -> dict[str, Any]:
            return await self.dispatch(event, sid, args)

        return handle

    async def dispatch(self, event: str, sid: str, args: tuple[Any, ...]) -> dict[str, Any]:
        """Validate, run and answer one event; the outcome is always an ack object."""
        started = time.perf_counter()
        try:
            answer, outcome = ok(await self._run(event, sid, args)), "ok"
        except ValidationError as exc:
            error = validation_error(exc)
            answer, outcome = failed(error), error.code
        except DomainError as exc:
            answer, outcome = failed(exc), exc.code
        except Exception:
            log.exception("event %s failed", event)
            answer, outcome = failed(Internal()), Internal.code
        EVENT_LATENCY.labels(event=event).observe(time.perf_counter() - started)
        EVENTS_HANDLED.labels(event=event, outcome=outcome).inc()
        return answer

    async def _run(
        self, event: str, sid: str, args: tuple[Any, ...]
    ) -> BaseModel | dict[str, Any] | None:
        actor = self.actors.get(sid)
        if actor is None:
            raise NotFound("Not connected")
        if len(args) != 1 or not isinstance(args[0], dict):
            raise BadRequest("The payload must be one JSON object")
        model, use_case = EVENTS[event]
        return await use_case(self.ctx, actor, model.model_validate(args[0]))
