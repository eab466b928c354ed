"""Admin users list and moderation: suspend, unsuspend, ban, unban, the verified badge."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handlers.auth import ensure_admin
from handlers.http import ROUTES
from handlers.schemas.auth import AdminIn
from models import User
from tests.auth_helpers import refusal_is, refused
from tests.clients import PASSWORD, Account, Api

ADMIN_ROUTES = [route for route in ROUTES if route.path.startswith("/api/admin/")]


async def login(api: Api, login_name: str, password: str = PASSWORD) -> tuple[int, Any]:
    return await api.post("/api/auth/login", {"login": login_name, "password": password})


async def make_admin(api: Api, name: str | None = None) -> Account:
    """An admin made the way `python server.py create-admin` makes one, then logged in."""
    name = name or f"admin{uuid.uuid4().hex[:8]}"
    await ensure_admin(AdminIn(email=f"{name}@example.com", password=PASSWORD, username=name), 4)
    status, body = await login(api, name)
    assert status == 200 and body["user"]["role"] == "admin", body
    return Account(body["user"], body["access_token"], body["refresh_token"])


async def act(api: Api, admin: Account, user_id: str, action: str, **body: Any) -> tuple[int, Any]:
    return await api.post(f"/api/admin/users/{user_id}/{action}", body, token=admin.access_token)


def base_url_of(api: Api) -> str:
    return api.base_url + "/"


async def test_every_admin_route_is_listed_and_needs_a_token(api: Api) -> None:
    listed = {(route.method, route.path) for route in ADMIN_ROUTES}
    assert listed == {
        ("GET", "/api/admin/stats"),
        ("GET", "/api/admin/users"),
        ("GET", "/api/admin/reports"),
        ("GET", "/api/admin/audit"),
        ("POST", "/api/admin/reports/{id}/resolve"),
        *(("POST", f"/api/admin/users/{{id}}/{action}")
          for action in ("suspend", "unsuspend", "ban", "unban", "verify-badge")),
    }  # fmt: skip
    for route in ADMIN_ROUTES:
        path = route.path.replace("{id}", str(uuid.uuid4()))
        status, body = await api.request(route.method, path, json={} if route.body else None)
        assert status == 401 and body["error"]["code"] == "unauthorized", route.path


async def test_users_list_searches_filters_and_pages(api: Api) -> None:
    admin = await make_admin(api)
    tag = uuid.uuid4().hex[:6]
    names = [f"zed{tag}{i}" for i in range(5)]
    users = [await api.register(name, display_name=f"Zed {i}") for i, name in enumerate(names)]
    await act(api, admin, users[1].id, "suspend", reason="spam")
    await act(api, admin, users[2].id, "ban")

    async def listing(**query: Any) -> tuple[int, Any]:
        return await api.get("/api/admin/users", params=query, token=admin.access_token)

    status, body = await listing(q=f"ZED{tag}")
    assert status == 200
    assert [u["username"] for u in body["users"]] == names[::-1] and body["next_cursor"] is None
    suspended = body["users"][3]
    assert suspended["account_status"] == "suspended" and suspended["moderation_reason"] == "spam"
    assert {"email", "role", "suspended_until", "email_verified"} <= set(suspended)
    assert [u["id"] for u in (await listing(q=tag, status="suspended"))[1]["users"]] == [
        users[1].id
    ]
    assert [u["id"] for u in (await listing(q=tag, status="banned"))[1]["users"]] == [users[2].id]
    active = (await listing(q=tag, status="active"))[1]["users"]
    assert [u["id"] for u in active] == [users[4].id, users[3].id, users[0].id]
    assert (await listing(q=names[0] + "@example"))[1]["users"][0]["id"] == users[0].id
    assert (await listing(q="zed 3"))[1]["users"][0]["id"] == users[3].id
    assert (await listing(q=f"zed%{tag}"))[1]["users"] == []
    assert (await listing(q="_" * 5))[1]["users"] == []

    seen, cursor = [], None
    while True:
        status, page = await listing(q=tag, limit=2, **({"cursor": cursor} if cursor else {}))
        assert status == 200 and len(page["users"]) <= 2
        seen += [u["username"] for u in page["users"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names[::-1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "deleted"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "MjAyNHx4"}, "cursor"),
        ({"q": ""}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"sort": "name"}, "sort"),
    ],
)
async def test_users_list_bad_query(api: Api, query: dict[str, str], field: str) -> None:
    admin = await make_admin(api)
    status, body = await api.get("/api/admin/users", params=query, token=admin.access_token)
    assert status == 400 and body["error"]["code"] == "bad_request", body
    assert field in body["error"]["details"]["fields"], body


async def test_suspend_disconnects_and_refuses_login_refresh_and_connect(
    api: Api, sockets: Any
) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    first = await sockets(base_url_of(api), bob.access_token)
    second = await sockets(base_url_of(api), bob.access_token)
    status, body = await act(api, admin, bob.id, "suspend", reason="flooding")
    assert status == 200, body
    assert body["user"]["account_status"] == "suspended"
    assert body["user"]["moderation_reason"] == "flooding"
    assert body["user"]["suspended_until"] is None
    await asyncio.gather(first.wait_disconnected(), second.wait_disconnected())

    status, body = await login(api, bob.user["username"])
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await login(api, bob.user["username"], "a wrong password!")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await api.post("/api/auth/refresh", {"refresh_token": bob.refresh_token})
    assert status == 401
    assert refusal_is(await refused(base_url_of(api), bob.access_token), "unauthorized")
    status, _ = await api.post("/api/users/verify", {"channel": "email"}, token=bob.access_token)
    assert status == 401

    status, body = await act(api, admin, bob.id, "unsuspend")
    assert status == 200 and body["user"]["account_status"] == "active"
    assert body["user"]["moderation_reason"] is None
    status, body = await login(api, bob.user["username"])
    assert status == 200
    client = await sockets(base_url_of(api), body["access_token"])
    assert client.sio.connected


async def test_suspension_until_a_time_lapses(api: Api) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    until = datetime.now(UTC) + timedelta(hours=2)
    status, body = await act(api, admin, bob.id, "suspend", until=until.isoformat())
    assert status == 200
    assert datetime.fromisoformat(body["user"]["suspended_until"]) == until
    assert (await login(api, bob.user["username"]))[0] == 403
    # Two hours pass.
    await User.filter(id=bob.id).update(suspended_until=datetime.now(UTC) - timedelta(seconds=1))
    status, body = await login(api, bob.user["username"])
    assert status == 200
    status, page = await api.get(
        "/api/admin/users", params={"q": bob.user["username"]}, token=admin.access_token
    )
    assert page["users"][0]["account_status"] == "active"
    status, body = await act(api, admin, bob.id, "unsuspend")
    assert status == 200 and body["user"]["suspended_until"] is None


async def test_ban_and_unban(api: Api, sockets: Any) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    client = await sockets(base_url_of(api), bob.access_token)
    status, body = await act(api, admin, bob.id, "ban", reason="abuse")
    assert status == 200 and body["user"]["account_status"] == "banned"
    await client.wait_disconnected()
    assert (await login(api, bob.user["username"]))[0] == 403
    assert refusal_is(await refused(base_url_of(api), bob.access_token), "unauthorized")
    status, body = await act(api, admin, bob.id, "unban")
    assert status == 200 and body["user"]["account_status"] == "active"
    assert (await login(api, bob.user["username"]))[0] == 200


async def test_moves_that_do_not_fit_the_status_conflict(api: Api) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    for action in ("unsuspend", "unban"):
        status, body = await act(api, admin, bob.id, action)
        assert status == 409 and body["error"]["code"] == "conflict", action
    assert (await act(api, admin, bob.id, "ban"))[0] == 200
    for action in ("ban", "suspend", "unsuspend"):
        status, body = await act(api, admin, bob.id, action)
        assert status == 409 and body["error"]["code"] == "conflict", action
    assert (await User.get(id=bob.id)).account_status == "banned"


async def test_an_admin_cannot_suspend_or_ban_themselves(api: Api, sockets: Any) -> None:
    admin = await make_admin(api)
    client = await sockets(base_url_of(api), admin.access_token)
    for action in ("suspend", "ban"):
        status, body = await act(api, admin, admin.id, action, reason="oops")
        assert status == 409 and body["error"]["code"] == "conflict", body
    assert (await User.get(id=admin.id)).account_status == "active"
    status, _ = await api.get("/api/admin/stats", token=admin.access_token)
    assert status == 200 and client.sio.connected
    status, audit = await api.get("/api/admin/audit", token=admin.access_token)
    assert audit["entries"] == []


async def test_an_admin_can_suspend_another_admin(api: Api) -> None:
    admin, other = await make_admin(api), await make_admin(api)
    status, body = await act(api, admin, other.id, "suspend")
    assert status == 200 and body["user"]["role"] == "admin"
    status, body = await api.get("/api/admin/stats", token=other.access_token)
    assert status == 401


async def test_verify_badge_grants_and_revokes(api: Api, sockets: Any) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    client = await sockets(base_url_of(api), bob.access_token)
    status, body = await act(api, admin, bob.id, "verify-badge")
    assert status == 200 and body["user"]["verified"] is True
    updated = await client.expect("user:updated")
    assert updated["user"]["id"] == bob.id and updated["user"]["verified"] is True
    assert "email" not in updated["user"]
    status, body = await act(api, admin, bob.id, "verify-badge", verified=False, reason="expired")
    assert status == 200 and body["user"]["verified"] is False
    assert (await client.expect("user:updated"))["user"]["verified"] is False
    status, audit = await api.get("/api/admin/audit", token=admin.access_token)
    assert [(e["action"], e["target_id"], e["details"]) for e in audit["entries"]] == [
        ("user.unverify_badge", bob.id, {"reason": "expired"}),
        ("user.verify_badge", bob.id, None),
    ]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("suspend", {"until": "2001-01-01T00:00:00Z"}, "until"),
        ("suspend", {"until": "2999-01-01T00:00:00"}, "until"),
        ("suspend", {"until": "soon"}, "until"),
        ("suspend", {"reason": "x" * 501}, "reason"),
        ("suspend", {"reason": "   "}, "reason"),
        ("ban", {"until": "2999-01-01T00:00:00Z"}, "until"),
        ("unsuspend", {"extra": True}, "extra"),
        ("verify-badge", {"verified": "maybe"}, "verified"),
    ],
)
async def test_moderation_bad_input(
    api: Api, action: str, body: dict[str, Any], field: str
) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    status, answer = await act(api, admin, bob.id, action, **body)
    assert status == 400 and answer["error"]["code"] == "bad_request", answer
    assert field in answer["error"]["details"]["fields"], answer
    assert (await User.get(id=bob.id)).account_status == "active"


async def test_unknown_or_malformed_user_id(api: Api) -> None:
    admin = await make_admin(api)
    status, body = await act(api, admin, str(uuid.uuid4()), "suspend")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await act(api, admin, "not-a-uuid", "ban")
    assert status == 400 and "id" in body["error"]["details"]["fields"]
    status, body = await api.post(
        f"/api/admin/users/{admin.id}/suspend", data="[", token=admin.access_token,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 400 and body["error"]["code"] == "bad_request"


async def test_audit_log_lists_every_action_newest_first(api: Api) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await act(api, admin, bob.id, "suspend", reason="r1", until=until)
    await act(api, admin, bob.id, "unsuspend")
    await act(api, admin, bob.id, "ban", reason="r2")
    await act(api, admin, bob.id, "unban")
    entries, cursor = [], None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, page = await api.get("/api/admin/audit", params=params, token=admin.access_token)
        assert status == 200
        entries += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["action"] for e in entries] == ["user.unban", "user.ban", "user.unsuspend",
                                              "user.suspend"]  # fmt: skip
    assert {e["actor_id"] for e in entries} == {admin.id}
    assert {(e["target_type"], e["target_id"]) for e in entries} == {("user", bob.id)}
    assert entries[3]["details"]["reason"] == "r1" and "until" in entries[3]["details"]
    assert entries[1]["details"] == {"reason": "r2"}


async def test_openapi_describes_verification_and_admin_routes(api: Api) -> None:
    status, spec = await api.get("/api/openapi.json")
    assert status == 200
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    verify = paths["/api/users/verify"]["post"]
    assert verify["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/VerifiedOut"
    )
    assert verify["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CodeSentOut"
    )
    assert set(schemas["VerifyIn"]["properties"]) == {"channel", "phone", "code"}
    for route in ADMIN_ROUTES:
        operation = paths[route.path][route.method.lower()]
        assert operation["tags"] == ["admin"] and operation["security"] == [{"bearer": []}]
        names = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        if "{id}" in route.path:
            assert ("path", "id") in names, route.path
        if route.query is not None:
            assert {name for where, name in names if where == "query"} == set(
                route.query.model_fields
            )
    users = {p["name"] for p in paths["/api/admin/users"]["get"]["parameters"]}
    assert users == {"q", "status", "cursor", "limit"}
    stats = schemas["StatsOut"]["properties"]
    assert set(stats) == {"users", "chats", "messages", "calls", "reports", "realtime", "server"}
