"""Sessions against a real server: refresh rotation and reuse, logout, access-token checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer

from tests.auth_helpers import (
    AUTH_KEYS,
    FORGERIES,
    LOGIN,
    LOGOUT,
    REFRESH,
    base_url,
    claims_of,
    delete_user,
    refusal_is,
    refused,
)
from tests.clients import PASSWORD, Api

# Refresh


async def test_refresh_rotates_the_pair_and_spends_the_old_token(api: Api) -> None:
    account = await api.register()
    status, pair = await api.post(REFRESH, {"refresh_token": account.refresh_token})
    assert status == 200 and set(pair) == AUTH_KEYS
    assert pair["refresh_token"] != account.refresh_token
    assert pair["user"]["id"] == account.id
    assert claims_of(pair["access_token"])["sid"] == claims_of(account.access_token)["sid"]
    status, body = await api.post(REFRESH, {"refresh_token": pair["refresh_token"]})
    assert status == 200, body


async def test_a_spent_token_revokes_its_whole_family(
    api: Api, server: TestServer, sockets: Any
) -> None:
    account = await api.register()
    socket = await sockets(base_url(server), account.access_token)
    _, other_session = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
    _, pair = await api.post(REFRESH, {"refresh_token": account.refresh_token})
    status, body = await api.post(REFRESH, {"refresh_token": account.refresh_token})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    await socket.wait_disconnected(timeout=1.0)
    assert (await api.post(REFRESH, {"refresh_token": pair["refresh_token"]}))[0] == 401
    for token in (account.access_token, pair["access_token"]):
        assert (await api.post(LOGOUT, token=token))[0] == 401
        assert refusal_is(await refused(base_url(server), token), "unauthorized")
    status, _ = await api.post(REFRESH, {"refresh_token": other_session["refresh_token"]})
    assert status == 200


async def test_concurrent_refreshes_with_one_token_yield_one_pair(api: Api) -> None:
    """Only one of several racing uses wins; the others count as reuse of a spent token."""
    account = await api.register()
    body = {"refresh_token": account.refresh_token}
    answers = await asyncio.gather(*(api.post(REFRESH, body) for _ in range(4)))
    winners = [pair for status, pair in answers if status == 200]
    assert len(winners) == 1 and sorted(s for s, _ in answers) == [200, 401, 401, 401]
    assert (await api.post(REFRESH, {"refresh_token": winners[0]["refresh_token"]}))[0] == 401


@pytest.mark.parametrize("token", [None, "", "never-issued"])
async def test_refresh_without_a_valid_token_is_unauthorized(api: Api, token: str | None) -> None:
    status, body = await api.post(REFRESH, {} if token is None else {"refresh_token": token})
    assert status == (400 if token == "" else 401), body


async def test_refresh_and_logout_through_the_cookie(server: TestServer) -> None:
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        api = Api(browser, base_url(server))
        account = await api.register()
        _, login = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
        status, pair = await api.post(REFRESH)
        assert status == 200 and pair["refresh_token"] != login["refresh_token"]
        assert (
            browser.cookie_jar.filter_cookies(server.make_url(REFRESH))["parley_refresh"].value
            == (pair["refresh_token"])
        )
        status, again = await api.post(REFRESH)
        assert status == 200 and again["refresh_token"] != pair["refresh_token"]
        assert (await api.post(LOGOUT, token=again["access_token"]))[0] == 204
        assert "parley_refresh" not in browser.cookie_jar.filter_cookies(server.make_url(REFRESH))
        assert (await api.post(REFRESH, {"refresh_token": again["refresh_token"]}))[0] == 401


# Logout


async def test_logout_ends_only_that_session(api: Api, server: TestServer, sockets: Any) -> None:
    account = await api.register()
    _, other = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
    ended = await sockets(base_url(server), account.access_token)
    kept = await sockets(base_url(server), other["access_token"])
    status, body = await api.post(LOGOUT, token=account.access_token)
    assert (status, body) == (204, "")
    await ended.wait_disconnected(timeout=1.0)
    assert (await api.post(LOGOUT, token=account.access_token))[0] == 401
    assert (await api.post(REFRESH, {"refresh_token": account.refresh_token}))[0] == 401
    assert kept.sio.connected
    await kept.ok("auth:refresh", {"access_token": other["access_token"]})
    assert (await api.post(REFRESH, {"refresh_token": other["refresh_token"]}))[0] == 200


async def test_logout_ignores_another_users_refresh_token(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    status, _ = await api.post(
        LOGOUT, {"refresh_token": bob.refresh_token}, token=alice.access_token
    )
    assert status == 204
    assert (await api.post(REFRESH, {"refresh_token": bob.refresh_token}))[0] == 200


# Access tokens


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
async def test_forged_or_expired_access_tokens_are_refused(api: Api, forgery: str) -> None:
    account = await api.register()
    status, body = await api.post(LOGOUT, token=FORGERIES[forgery](account.access_token))
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert (await api.post(LOGOUT, token=account.access_token))[0] == 204


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token x"])
async def test_logout_needs_a_bearer_token(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    status, body = await api.post(LOGOUT, headers=headers)
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_a_deleted_users_token_is_refused(api: Api, server: TestServer) -> None:
    account = await api.register()
    await delete_user(account.id)
    status, body = await api.post(LOGOUT, token=account.access_token)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert refusal_is(await refused(base_url(server), account.access_token), "unauthorized")


async def test_short_access_token_ttl_is_honoured(start_server: Any, http: ClientSession) -> None:
    server = await start_server(access_token_ttl_seconds=10)
    account = await Api(http, base_url(server)).register()
    claims = claims_of(account.access_token)
    assert claims["exp"] - claims["iat"] == 10
