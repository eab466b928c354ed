"""Test clients: an HTTP helper and a python-socketio client that records broadcasts."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import socketio
from aiohttp import ClientResponse, ClientSession

EVENT_TIMEOUT = 5.0
PASSWORD = "correct horse battery"


@dataclass
class Account:
    user: dict[str, Any]
    access_token: str
    refresh_token: str
    password: str = PASSWORD

    @property
    def id(self) -> str:
        return self.user["id"]


class Api:
    """Calls Parley's HTTP surface; returns (status, parsed body)."""

    def __init__(self, http: ClientSession, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(
            method, self.base_url + path, json=json, headers=headers, **kwargs
        ) as response:
            return response.status, await self._body(response)

    @staticmethod
    async def _body(response: ClientResponse) -> Any:
        if response.content_type == "application/json":
            return await response.json()
        return await response.text()

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("POST", path, json=json, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("GET", path, **kwargs)

    async def register(self, name: str | None = None, **extra: Any) -> Account:
        name = name or f"user{uuid.uuid4().hex[:8]}"
        body = {"email": f"{name}@example.com", "username": name, "password": PASSWORD, **extra}
        status, data = await self.post("/api/auth/register", body)
        assert status == 201, data
        return Account(data["user"], data["access_token"], data["refresh_token"])


class SocketClient:
    """A python-socketio AsyncClient that queues every broadcast it receives by name."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.queues: dict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.disconnected = asyncio.Event()
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._on_disconnect)

    async def _record(self, event: str, data: Any = None) -> None:
        await self.queues[event].put(data)

    async def _on_disconnect(self, *args: Any) -> None:
        self.disconnected.set()

    async def connect_to(self, base_url: str, token: str | None, **kwargs: Any) -> None:
        auth = {"token": token} if token is not None else None
        kwargs.setdefault("transports", ["websocket"])
        kwargs.setdefault("wait_timeout", EVENT_TIMEOUT)
        await self.sio.connect(base_url, auth=auth, **kwargs)

    async def call(self, event: str, payload: Any = None) -> dict[str, Any]:
        """Emit with an ack and return the ack object."""
        if payload is None:
            return await self.sio.call(event, timeout=EVENT_TIMEOUT)
        return await self.sio.call(event, payload, timeout=EVENT_TIMEOUT)

    async def ok(self, event: str, payload: Any = None) -> dict[str, Any]:
        """Call and assert success; return the ack's data."""
        ack = await self.call(event, payload)
        assert ack.get("ok") is True, ack
        return ack["data"]

    async def error(self, event: str, payload: Any = None) -> dict[str, Any]:
        """Call and assert failure; return the ack's error."""
        ack = await self.call(event, payload)
        assert ack.get("ok") is False, ack
        return ack["error"]

    async def expect(self, event: str, timeout: float = EVENT_TIMEOUT) -> Any:
        """The next broadcast of that name."""
        return await asyncio.wait_for(self.queues[event].get(), timeout)

    async def expect_match(self, event: str, predicate: Any, timeout: float = EVENT_TIMEOUT) -> Any:
        """The next broadcast of that name for which `predicate(data)` holds; others are dropped."""
        async with asyncio.timeout(timeout):
            while True:
                data = await self.queues[event].get()
                if predicate(data):
                    return data

    def pending(self, event: str) -> list[Any]:
        """Broadcasts of that name received and not yet taken."""
        queue = self.queues[event]
        items = []
        while not queue.empty():
            items.append(queue.get_nowait())
        return items

    async def wait_disconnected(self, timeout: float = EVENT_TIMEOUT) -> None:
        await asyncio.wait_for(self.disconnected.wait(), timeout)

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def make_group(
    owner: SocketClient, *members: Account | str, name: str = "Group", **extra: Any
) -> dict[str, Any]:
    """Create a group owned by `owner`'s user with `members`; returns the ack's `chat`."""
    member_ids = [m if isinstance(m, str) else m.id for m in members]
    data = await owner.ok(
        "chat:create", {"type": "group", "name": name, "member_ids": member_ids, **extra}
    )
    return data["chat"]


async def make_dm(client: SocketClient, other: Account | str) -> dict[str, Any]:
    """Open (or get) the DM between `client`'s user and `other`; returns the ack's `chat`."""
    user_id = other if isinstance(other, str) else other.id
    return (await client.ok("chat:create", {"type": "dm", "user_id": user_id}))["chat"]
