"""HTTP login against a real server: email or username, rate limits, cookie, moderation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
import redis
from aiohttp import ClientSession, TCPConnector
from aiohttp.test_utils import TestServer

from tests.auth_helpers import (
    AUTH_KEYS,
    LOGIN,
    LOGOUT,
    REFRESH,
    WRONG,
    base_url,
    claims_of,
    set_account_status,
)
from tests.clients import PASSWORD, Api
from tests.conftest import TEST_REDIS_URL, require_service
from tests.test_admin import act, make_admin


async def post_raw(api: Api, path: str, body: Any = None) -> tuple[int, Any, Any]:
    """POST and also return the response headers."""
    async with api.http.post(api.base_url + path, json=body) as response:
        return response.status, await response.json(), response.headers


@pytest.fixture
async def client_from() -> AsyncIterator[Callable[[TestServer, str], Api]]:
    """HTTP clients that connect from a given loopback address (127.0.0.0/8 is all local)."""
    sessions: list[ClientSession] = []

    def make(server: TestServer, ip: str) -> Api:
        session = ClientSession(connector=TCPConnector(local_addr=(ip, 0)))
        sessions.append(session)
        return Api(session, base_url(server))

    yield make
    for session in sessions:
        await session.close()


@pytest.fixture(params=["memory_state", "redis_state"])
def state_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Run a test on in-process state and on shared Redis state."""
    if request.param == "memory_state":
        return {}
    url = require_service(TEST_REDIS_URL, "TEST_REDIS_URL")
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return {"redis_url": url}


# Login


@pytest.mark.parametrize("by", ["email", "username"])
async def test_login_by_email_or_username_in_any_case(api: Api, by: str) -> None:
    account = await api.register(f"Bob_{uuid.uuid4().hex[:8]}")
    login = account.user["email"].upper() if by == "email" else account.user["username"].swapcase()
    status, body = await api.post(LOGIN, {"login": f" {login} ", "password": PASSWORD})
    assert status == 200, body
    assert set(body) == AUTH_KEYS and body["user"] == account.user
    assert claims_of(body["access_token"])["sid"] != claims_of(account.access_token)["sid"]


async def test_unknown_user_and_wrong_password_answer_the_same(api: Api) -> None:
    account = await api.register()
    wrong = await api.post(LOGIN, {"login": account.user["username"], "password": WRONG})
    unknown = await api.post(LOGIN, {"login": "nobody_at_all", "password": WRONG})
    unknown_email = await api.post(LOGIN, {"login": "nobody@example.com", "password": WRONG})
    assert wrong == unknown == unknown_email
    assert wrong[0] == 401 and wrong[1]["error"]["code"] == "unauthorized"


def assert_rate_limited(status: int, body: Any, headers: Any, window: int = 900) -> None:
    assert status == 429 and body["error"]["code"] == "rate_limited", body
    retry_after = body["error"]["details"]["retry_after"]
    assert isinstance(retry_after, int) and 0 < retry_after <= window
    assert headers["Retry-After"] == str(retry_after)


async def test_failed_logins_lock_the_account_from_every_ip(
    start_server: Any, client_from: Any, state_settings: dict[str, Any]
) -> None:
    server = await start_server(login_max_failures=3, **state_settings)
    account = await client_from(server, "127.0.0.1").register()
    logins = [account.user["email"], account.user["username"].upper(), account.user["email"]]
    for ip, login in zip(["127.0.0.2", "127.0.0.3", "127.0.0.4"], logins, strict=True):
        status, _ = await client_from(server, ip).post(LOGIN, {"login": login, "password": WRONG})
        assert status == 401
    fresh_ip = client_from(server, "127.0.0.5")
    correct = {"login": account.user["username"], "password": PASSWORD}
    assert_rate_limited(*await post_raw(fresh_ip, LOGIN, correct))
    other = await client_from(server, "127.0.0.1").register()
    status, _ = await fresh_ip.post(LOGIN, {"login": other.user["email"], "password": PASSWORD})
    assert status == 200


async def test_failed_logins_lock_the_ip_for_every_account(
    start_server: Any, client_from: Any, state_settings: dict[str, Any]
) -> None:
    server = await start_server(login_max_failures=3, **state_settings)
    account = await client_from(server, "127.0.0.1").register()
    attacker = client_from(server, "127.0.0.9")
    for login in ["nobody1", "nobody2@example.com", account.user["username"]]:
        assert (await attacker.post(LOGIN, {"login": login, "password": WRONG}))[0] == 401
    correct = {"login": account.user["email"], "password": PASSWORD}
    assert_rate_limited(*await post_raw(attacker, LOGIN, correct))
    assert_rate_limited(*await post_raw(attacker, LOGIN, {"login": "x", "password": WRONG}))
    status, _ = await client_from(server, "127.0.0.10").post(LOGIN, correct)
    assert status == 200


async def test_a_successful_login_resets_the_account_count(
    start_server: Any, client_from: Any
) -> None:
    server = await start_server(login_max_failures=3)
    account = await client_from(server, "127.0.0.1").register()
    wrong = {"login": account.user["email"], "password": WRONG}
    correct = {"login": account.user["email"], "password": PASSWORD}
    for index, body in enumerate([wrong, wrong, correct, wrong, wrong, correct]):
        status, _ = await client_from(server, f"127.0.1.{index + 1}").post(LOGIN, body)
        assert status == (200 if body is correct else 401)


async def test_login_sets_a_strict_http_only_refresh_cookie(api: Api) -> None:
    account = await api.register()
    body = {"login": account.user["email"], "password": PASSWORD}
    async with api.http.post(api.base_url + LOGIN, json=body) as response:
        answer = await response.json()
        headers = response.headers.getall("Set-Cookie")
    assert len(headers) == 1
    morsel = SimpleCookie(headers[0])["parley_refresh"]
    assert morsel.value == answer["refresh_token"]
    assert morsel["httponly"] is True and morsel["samesite"] == "Strict"
    assert morsel["path"] == "/api/auth" and morsel["max-age"] == str(30 * 86400)
    assert not morsel["secure"]


@pytest.mark.parametrize("action", ["suspend", "ban"])
async def test_suspended_or_banned_accounts_cannot_log_in(api: Api, action: str) -> None:
    account, admin = await api.register(), await make_admin(api)
    assert (await act(api, admin, account.id, action, reason="spam"))[0] == 200
    wrong = await api.post(LOGIN, {"login": account.user["email"], "password": WRONG})
    unknown = await api.post(LOGIN, {"login": "nobody@example.com", "password": WRONG})
    assert wrong == unknown and wrong[0] == 401
    code, body = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
    assert code == 403 and body["error"]["code"] == "forbidden"
    assert (await api.post(REFRESH, {"refresh_token": account.refresh_token}))[0] == 401
    assert (await api.post(LOGOUT, token=account.access_token))[0] == 401


@pytest.mark.parametrize("status", ["suspended", "banned"])
async def test_a_suspended_or_banned_status_alone_stops_live_tokens(api: Api, status: str) -> None:
    """Status set in the database without the admin API's revocation (e.g. by another tool):
    the account's still-valid tokens are refused with 403 all the same."""
    account = await api.register()
    await set_account_status(account.id, status)
    code, body = await api.post(REFRESH, {"refresh_token": account.refresh_token})
    assert code == 403 and body["error"]["code"] == "forbidden"
    code, body = await api.post(LOGOUT, token=account.access_token)
    assert code == 403 and body["error"]["code"] == "forbidden"


async def test_a_suspension_that_has_ended_no_longer_blocks(api: Api) -> None:
    account = await api.register()
    await set_account_status(account.id, "suspended", datetime.now(UTC) - timedelta(minutes=1))
    status, _ = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
    assert status == 200
