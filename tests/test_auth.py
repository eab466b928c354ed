"""HTTP auth against a real server: register, login, refresh rotation, logout, tokens, bcrypt."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import jwt
import pytest
import redis
from aiohttp import ClientSession, CookieJar, TCPConnector
from aiohttp.test_utils import TestServer

from infra.security import hash_password, verify_password
from infra.settings import Settings
from models import User
from tests.auth_helpers import (
    AUTH_KEYS,
    FORGERIES,
    claims_of,
    delete_user,
    refusal_is,
    refused,
    set_account_status,
)
from tests.clients import PASSWORD, Api
from tests.conftest import JWT_SECRET, TEST_REDIS_URL, require_service

REGISTER, LOGIN = "/api/auth/register", "/api/auth/login"
REFRESH, LOGOUT = "/api/auth/refresh", "/api/auth/logout"
USER_FIELDS = {
    "id", "username", "display_name", "avatar_url", "bio", "status", "verified", "public_key",
    "online", "last_seen_at", "email", "email_verified", "phone", "phone_verified", "role",
    "account_status", "created_at",
}  # fmt: skip
WRONG = "a wrong password"


def new_account(name: str | None = None, **changes: Any) -> dict[str, Any]:
    name = name or f"user{uuid.uuid4().hex[:8]}"
    return {"email": f"{name}@example.com", "username": name, "password": PASSWORD, **changes}


def base_url(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


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


# Register


async def test_register_returns_the_account_and_a_token_pair(api: Api) -> None:
    status, body = await api.post(REGISTER, new_account("Alice_1", email="Alice_1@Example.COM"))
    assert status == 201, body
    assert set(body) == AUTH_KEYS
    user = body["user"]
    assert set(user) == USER_FIELDS
    assert user["username"] == "Alice_1" and user["display_name"] == "Alice_1"
    assert user["email"] == "alice_1@example.com"
    assert (user["role"], user["account_status"], user["email_verified"]) == (
        "user",
        "active",
        False,
    )
    assert user["created_at"].endswith("Z")
    assert body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == user["id"] and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    uuid.UUID(claims["sid"])
    assert len(body["refresh_token"]) >= 32


async def test_register_keeps_a_given_display_name_trimmed(api: Api) -> None:
    status, body = await api.post(REGISTER, new_account(display_name="  Alice Liddell "))
    assert status == 201 and body["user"]["display_name"] == "Alice Liddell"


@pytest.mark.parametrize("field", ["email", "username"])
async def test_register_duplicate_in_any_letter_case_conflicts(api: Api, field: str) -> None:
    taken = await api.register(f"Taken{uuid.uuid4().hex[:8]}")
    clash = {"email": taken.user["email"].upper(), "username": taken.user["username"].swapcase()}
    status, body = await api.post(REGISTER, new_account(**{field: clash[field]}))
    assert status == 409 and body["error"]["code"] == "conflict"
    assert await User.filter(username_key__startswith="user").count() == 0


@pytest.mark.parametrize(
    "email",
    [
        "plainaddress",
        "missing-domain@",
        "@missing-local.org",
        "two@@example.com",
        "spaces in@example.com",
        "",
        "a" * 250 + "@example.com",
        "a@" + ".".join(["b" * 63] * 4) + ".com",
    ],
)
async def test_register_refuses_an_invalid_email(api: Api, email: str) -> None:
    status, body = await api.post(REGISTER, new_account(email=email))
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert list(body["error"]["details"]["fields"]) == ["email"]


@pytest.mark.parametrize(
    ("length", "accepted"), [(9, False), (10, True), (128, True), (129, False)]
)
async def test_password_length_is_10_to_128(api: Api, length: int, accepted: bool) -> None:
    status, body = await api.post(REGISTER, new_account(password="p" * length))
    if accepted:
        assert status == 201, body
    else:
        assert status == 400 and list(body["error"]["details"]["fields"]) == ["password"]


@pytest.mark.parametrize(
    ("password", "same_first_72_bytes"),
    [
        ("p" * 100, "p" * 72 + "q" * 28),
        ("ü" * 100, "ü" * 36 + "x" * 64),
    ],
)
async def test_a_password_over_72_bytes_counts_in_full(
    api: Api, password: str, same_first_72_bytes: str
) -> None:
    assert password.encode()[:72] == same_first_72_bytes.encode()[:72]
    account = await api.register(password=password)
    status, _ = await api.post(LOGIN, {"login": account.user["email"], "password": password})
    assert status == 200
    wrong = await api.post(LOGIN, {"login": account.user["email"], "password": same_first_72_bytes})
    assert wrong[0] == 401 and wrong[1]["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"email": None, "username": None, "password": None}, {"email", "username", "password"}),
        ({"password": None}, {"password"}),
        ({"is_admin": True}, {"is_admin"}),
        ({"role": "admin", "id": "x"}, {"role", "id"}),
        ({"username": 123, "password": ["x" * 12]}, {"username", "password"}),
        ({"email": 5}, {"email"}),
        ({"display_name": {"name": "x"}}, {"display_name"}),
        ({"username": "u" * 33}, {"username"}),
        ({"username": "ab"}, {"username"}),
        ({"username": "no spaces!"}, {"username"}),
        ({"display_name": "d" * 65}, {"display_name"}),
        ({"display_name": "   "}, {"display_name"}),
    ],
)
async def test_register_names_every_bad_field(
    api: Api, changes: dict[str, Any], fields: set[str]
) -> None:
    body = {k: v for k, v in {**new_account(), **changes}.items() if v is not None}
    status, answer = await api.post(REGISTER, body)
    assert status == 400 and answer["error"]["code"] == "bad_request"
    assert set(answer["error"]["details"]["fields"]) == fields


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        (LOGIN, {}, {"login", "password"}),
        (LOGIN, {"login": "x" * 255, "password": "p" * 10}, {"login"}),
        (LOGIN, {"login": "someone", "password": "p" * 129}, {"password"}),
        (LOGIN, {"login": "someone", "password": 1234567890}, {"password"}),
        (LOGIN, {"login": "someone", "password": "p" * 10, "remember": True}, {"remember"}),
        (REFRESH, {"refresh_token": 42}, {"refresh_token"}),
        (REFRESH, {"refresh_token": "r" * 257}, {"refresh_token"}),
        (REFRESH, {"token": "x"}, {"token"}),
    ],
)
async def test_login_and_refresh_name_every_bad_field(
    api: Api, path: str, body: dict[str, Any], fields: set[str]
) -> None:
    status, answer = await api.post(path, body)
    assert status == 400 and answer["error"]["code"] == "bad_request"
    assert set(answer["error"]["details"]["fields"]) == fields


BAD_BODIES = [
    ("application/json", b'{"login": '),
    ("application/json", b"\xff\xfe{}"),
    ("application/json", b"[]"),
    ("application/json", b'["login", "password"]'),
    ("application/json", b'"text"'),
    ("application/json", b"42"),
    ("application/json", b"null"),
    ("text/plain", b'{"login": "someone", "password": "long enough"}'),
    ("application/x-www-form-urlencoded", b"login=someone&password=long+enough"),
]


@pytest.mark.parametrize("path", [REGISTER, LOGIN, REFRESH, LOGOUT])
async def test_malformed_bodies_are_bad_requests_on_every_route(api: Api, path: str) -> None:
    token = (await api.register()).access_token
    for content_type, raw in BAD_BODIES:
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
        async with api.http.post(api.base_url + path, data=raw, headers=headers) as response:
            body = await response.json()
        assert response.status == 400, (content_type, raw, body)
        assert body["error"]["code"] == "bad_request" and body["error"]["message"]
    assert (await api.post(LOGOUT, token=token))[0] == 204


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


@pytest.mark.parametrize("status", ["suspended", "banned"])
async def test_suspended_or_banned_accounts_cannot_log_in(api: Api, status: str) -> None:
    account = await api.register()
    await set_account_status(account.id, status)
    wrong = await api.post(LOGIN, {"login": account.user["email"], "password": WRONG})
    unknown = await api.post(LOGIN, {"login": "nobody@example.com", "password": WRONG})
    assert wrong == unknown and wrong[0] == 401
    code, body = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
    assert code == 403 and body["error"]["code"] == "forbidden"
    code, body = await api.post(REFRESH, {"refresh_token": account.refresh_token})
    assert code == 403 and body["error"]["code"] == "forbidden"
    code, body = await api.post(LOGOUT, token=account.access_token)
    assert code == 403 and body["error"]["code"] == "forbidden"


async def test_a_suspension_that_has_ended_no_longer_blocks(api: Api) -> None:
    account = await api.register()
    await set_account_status(account.id, "suspended", datetime.now(UTC) - timedelta(minutes=1))
    status, _ = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
    assert status == 200


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


# Passwords


async def test_default_bcrypt_cost_is_12(start_server: Any, http: ClientSession) -> None:
    default_rounds = Settings.model_fields["bcrypt_rounds"].default
    assert default_rounds == 12
    server = await start_server(bcrypt_rounds=default_rounds)
    api = Api(http, base_url(server))
    account = await api.register()
    user = await User.get(id=account.id)
    assert user.password_hash.startswith("$2b$12$")
    status, _ = await api.post(LOGIN, {"login": account.user["email"], "password": PASSWORD})
    assert status == 200


async def test_hashing_runs_off_the_event_loop() -> None:
    """While bcrypt works, the loop runs other tasks (it would not if bcrypt blocked it)."""
    order: list[str] = []

    async def note(name: str, work: Any) -> None:
        await work
        order.append(name)

    async def other() -> None:
        order.append("other task")

    password_hash = await hash_password("a password long enough", 10)
    for work in (hash_password("another password", 10), verify_password("x" * 10, password_hash)):
        order.clear()
        bcrypt_task = asyncio.create_task(note("bcrypt", work))
        await asyncio.gather(bcrypt_task, other())
        assert order == ["other task", "bcrypt"]
