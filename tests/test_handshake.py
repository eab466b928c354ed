"""The Socket.IO handshake (API.md §3): tokens, refusals, rooms, presence and `auth:refresh`."""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestServer

from tests.auth_helpers import (
    FORGERIES,
    LOGIN,
    LOGOUT,
    REFRESH,
    claims_of,
    delete_user,
    refusal_is,
    refused,
    resign,
    set_account_status,
)
from tests.clients import PASSWORD, Account, Api, SocketClient
from tests.waiting import eventually


def url_of(server: TestServer) -> str:
    return str(server.make_url(""))


async def second_session(api: Api, account: Account) -> dict[str, Any]:
    status, body = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
    assert status == 200
    return body


async def test_token_in_auth_connects(api: Api, server: TestServer, sockets: Any) -> None:
    account = await api.register()
    client = await sockets(url_of(server), account.access_token)
    assert client.sio.connected
    data = await client.ok("auth:refresh", {"access_token": account.access_token})
    assert data["expires_at"] == _expiry(account.access_token)


async def test_token_in_authorization_header_connects(
    api: Api, server: TestServer, sockets: Any
) -> None:
    account = await api.register()
    headers = {"Authorization": f"Bearer {account.access_token}"}
    client = await sockets(url_of(server), None, headers=headers)
    assert client.sio.connected
    await client.ok("auth:refresh", {"access_token": account.access_token})
    assert refusal_is(
        await refused(url_of(server), headers={"Authorization": "Basic abc"}), "unauthorized"
    )
    assert refusal_is(await refused(url_of(server), "garbage", headers=headers), "unauthorized")


def _expiry(token: str) -> str:
    return datetime.fromtimestamp(claims_of(token)["exp"], UTC).isoformat().replace("+00:00", "Z")


async def test_missing_token_is_refused(server: TestServer) -> None:
    assert refusal_is(await refused(url_of(server)), "unauthorized")
    assert refusal_is(await refused(url_of(server), ""), "unauthorized")


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
async def test_forged_malformed_or_expired_tokens_are_refused(
    api: Api, server: TestServer, sockets: Any, forgery: str
) -> None:
    account = await api.register()
    bad = FORGERIES[forgery](account.access_token)
    assert refusal_is(await refused(url_of(server), bad), "unauthorized")
    headers = {"Authorization": f"Bearer {bad}"}
    assert refusal_is(await refused(url_of(server), headers=headers), "unauthorized")
    assert (await sockets(url_of(server), account.access_token)).sio.connected


async def test_revoked_and_deleted_users_tokens_are_refused(api: Api, server: TestServer) -> None:
    revoked, deleted = await api.register(), await api.register()
    assert (await api.post(LOGOUT, token=revoked.access_token))[0] == 204
    await delete_user(deleted.id)
    for account in (revoked, deleted):
        assert refusal_is(await refused(url_of(server), account.access_token), "unauthorized")


@pytest.mark.parametrize("status", ["suspended", "banned"])
async def test_suspended_or_banned_users_are_forbidden(
    api: Api, server: TestServer, status: str
) -> None:
    account = await api.register()
    await set_account_status(account.id, status)
    assert refusal_is(await refused(url_of(server), account.access_token), "forbidden")


async def test_sockets_join_their_personal_room_and_chat_rooms_from_the_database(
    api: Api, server: TestServer, sockets: Any
) -> None:
    alice, bob = await api.register(), await api.register()
    alice_socket = await sockets(url_of(server), alice.access_token)
    bob_before = await sockets(url_of(server), bob.access_token)
    created = await alice_socket.ok(
        "chat:create", {"type": "group", "name": "Team", "member_ids": [bob.id]}
    )
    chat_id = created["chat"]["id"]
    assert (await bob_before.expect("chat:new"))["chat"]["id"] == chat_id
    bob_after = await sockets(url_of(server), (await second_session(api, bob))["access_token"])
    message = {"chat_id": chat_id, "client_id": uuid.uuid4().hex, "type": "text", "content": "hi"}
    sent = await alice_socket.ok("message:send", message)
    assert (await bob_after.expect("message:new")) == sent
    assert (await bob_before.expect("message:new")) == sent
    assert bob_after.pending("chat:new") == []


async def test_first_and_last_socket_broadcast_presence(
    api: Api, server: TestServer, sockets: Any
) -> None:
    alice, bob = await api.register(), await api.register()
    alice_socket = await sockets(url_of(server), alice.access_token)
    await alice_socket.ok("chat:create", {"type": "dm", "user_id": bob.id})
    first = await sockets(url_of(server), bob.access_token)
    online = await alice_socket.expect_match("presence", lambda p: p["user_id"] == bob.id)
    assert online["online"] is True
    second = await sockets(url_of(server), bob.access_token)
    await first.close()
    await second.ok("auth:refresh", {"access_token": bob.access_token})
    await second.close()
    offline = await alice_socket.expect_match("presence", lambda p: p["user_id"] == bob.id)
    assert offline["online"] is False and offline["last_seen_at"].endswith("Z")
    assert [p for p in alice_socket.pending("presence") if p["user_id"] == bob.id] == []


async def test_auth_refresh_with_a_new_token_keeps_the_socket(
    api: Api, server: TestServer, sockets: Any
) -> None:
    account = await api.register()
    client = await sockets(url_of(server), account.access_token)
    status, pair = await api.post(REFRESH, {"refresh_token": account.refresh_token})
    assert status == 200
    newer = pair["access_token"]
    data = await client.ok("auth:refresh", {"access_token": newer})
    assert data["expires_at"] == _expiry(newer)
    assert client.sio.connected
    assert (await api.post(LOGOUT, token=newer))[0] == 204
    await client.wait_disconnected(timeout=1.0)


async def test_auth_refresh_refuses_bad_tokens_and_keeps_the_socket(
    api: Api, server: TestServer, sockets: Any
) -> None:
    account, stranger = await api.register(), await api.register()
    revoked = await second_session(api, account)
    assert (await api.post(LOGOUT, token=revoked["access_token"]))[0] == 204
    other_session = await second_session(api, account)
    client = await sockets(url_of(server), account.access_token)
    cases = {
        stranger.access_token: "forbidden",
        other_session["access_token"]: "forbidden",
        "garbage": "unauthorized",
        FORGERIES["expired"](account.access_token): "unauthorized",
        FORGERIES["alg_none"](account.access_token): "unauthorized",
        revoked["access_token"]: "unauthorized",
    }
    for token, code in cases.items():
        error = await client.error("auth:refresh", {"access_token": token})
        assert error["code"] == code, (token, error)
        assert client.sio.connected
    await client.ok("auth:refresh", {"access_token": account.access_token})


async def test_a_token_expiring_while_connected_does_not_drop_the_socket(
    api: Api, server: TestServer, sockets: Any
) -> None:
    """A crafted token valid for 0.2-1.2 s; the socket outlives it."""
    account = await api.register()
    short = resign(account.access_token, exp=math.ceil(time.time() + 0.2))
    client = await sockets(url_of(server), short)

    async def token_has_expired() -> bool:
        return await _is_refused(url_of(server), short)

    await eventually(token_has_expired, timeout=3.0)
    assert client.sio.connected
    await client.ok("chat:list", {})
    await client.ok("auth:refresh", {"access_token": account.access_token})
    assert client.sio.connected


async def _is_refused(url: str, token: str) -> bool:
    probe = SocketClient()
    try:
        await probe.connect_to(url, token)
    except socketio.exceptions.ConnectionError:
        return True
    await probe.close()
    return False
