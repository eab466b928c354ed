"""HTTP registration and passwords against a real server: shapes, validation, bcrypt."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession

from infra.security import hash_password, verify_password
from infra.settings import Settings
from models import User
from tests.auth_helpers import AUTH_KEYS, LOGIN, LOGOUT, REFRESH, REGISTER, base_url
from tests.clients import PASSWORD, Api
from tests.conftest import JWT_SECRET

USER_FIELDS = {
    "id", "username", "display_name", "avatar_url", "bio", "status", "verified", "public_key",
    "online", "last_seen_at", "email", "email_verified", "phone", "phone_verified", "role",
    "account_status", "created_at",
}  # fmt: skip


def new_account(name: str | None = None, **changes: Any) -> dict[str, Any]:
    name = name or f"user{uuid.uuid4().hex[:8]}"
    return {"email": f"{name}@example.com", "username": name, "password": PASSWORD, **changes}


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
