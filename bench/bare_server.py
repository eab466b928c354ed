"""The ceiling of this stack: aiohttp + python-socketio with no application behind it.

Same transport set-up as Parley (orjson codec, websocket compression off, uvloop), the same
room-per-chat fan-out and the same wire shapes for what the load generator uses:

- handshake `auth: {user_id}` (no token; the socket joins `user:<user_id>`),
- `chat:create {type: "group", name, member_ids}` -> `{ok, data: {chat}}`; the creator's and
  members' sockets join `chat:<id>`,
- `message:send {chat_id, client_id, type, content}` -> `{ok, data: {message}}` with the chat's
  next `seq`, after `message:new {message}` went to the chat room.

Nothing is stored or checked. Run from the project root: `python -m bench.bare_server --port P`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import socketio
from aiohttp import web

from handlers.engine import OrjsonCodec, disable_websocket_compression


class BareChat:
    """Rooms and per-chat counters in a dict: the least a chat server can do."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self.users: dict[str, str] = {}
        self.counters: dict[str, itertools.count[int]] = {}
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        sio.on("chat:create", self.create_chat)
        sio.on("message:send", self.send_message)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        user_id = auth.get("user_id") if isinstance(auth, dict) else None
        if not isinstance(user_id, str):
            raise socketio.exceptions.ConnectionRefusedError("auth.user_id is required")
        self.users[sid] = user_id
        await self.sio.enter_room(sid, f"user:{user_id}")

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        self.users.pop(sid, None)

    async def create_chat(self, sid: str, payload: dict[str, Any]) -> dict[str, Any]:
        chat_id = str(uuid.uuid4())
        self.counters[chat_id] = itertools.count(1)
        room = f"chat:{chat_id}"
        members = [self.users[sid], *payload.get("member_ids", [])]
        for member in members:
            for member_sid, _ in list(self.sio.manager.get_participants("/", f"user:{member}")):
                await self.sio.enter_room(member_sid, room)
        chat = {"id": chat_id, "type": "group", "name": payload.get("name"), "members": members}
        return {"ok": True, "data": {"chat": chat}}

    async def send_message(self, sid: str, payload: dict[str, Any]) -> dict[str, Any]:
        chat_id = payload["chat_id"]
        seq = next(self.counters[chat_id])
        message = {
            "id": str(uuid.uuid4()),
            "chat_id": chat_id,
            "seq": seq,
            "change": seq,
            "client_id": payload["client_id"],
            "sender_id": self.users[sid],
            "type": payload["type"],
            "content": payload.get("content"),
            "attachment": None,
            "sticker": None,
            "reply_to_id": None,
            "reactions": {},
            "poll": None,
            "encrypted": False,
            "visibility": "visible",
            "edited_at": None,
            "deleted_at": None,
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        await self.sio.emit("message:new", {"message": message}, to=f"chat:{chat_id}")
        return {"ok": True, "data": {"message": message}}


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app() -> web.Application:
    sio = socketio.AsyncServer(
        async_mode="aiohttp", json=OrjsonCodec, cors_allowed_origins="*", logger=False
    )
    disable_websocket_compression(sio.eio)
    BareChat(sio)
    app = web.Application()
    sio.attach(app, socketio_path="socket.io")
    app.router.add_get("/healthz", healthz)
    return app


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main() -> None:
    parser = argparse.ArgumentParser(description="bare python-socketio broadcast server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    web.run_app(
        create_app(),
        host=args.host,
        port=args.port,
        loop=_event_loop(),
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
