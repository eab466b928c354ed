"""The reports queue and its resolutions; a non-admin on every admin route."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from models import AuditEntry, Report, User
from tests.clients import Account, Api
from tests.test_admin import ADMIN_ROUTES, login, make_admin
from tests.test_messages import Room, make_room, text


async def reported_message(room: Room, content: str = "buy cheap pills") -> tuple[dict, str]:
    """bob posts, alice reports: (the message, the report id)."""
    sent = (await room.bob.socket.ok("message:send", text(room.chat_id, content)))["message"]
    await room.alice.socket.expect_match("message:new", lambda d: d["message"]["id"] == sent["id"])
    report = await room.alice.socket.ok(
        "message:report", {"message_id": sent["id"], "reason": "spam"}
    )
    return sent, report["report_id"]


async def resolve(api: Api, admin: Account, report_id: str, **body: Any) -> tuple[int, Any]:
    return await api.post(f"/api/admin/reports/{report_id}/resolve", body, token=admin.access_token)


async def reports(api: Api, admin: Account, **query: str) -> list[dict[str, Any]]:
    status, body = await api.get("/api/admin/reports", params=query, token=admin.access_token)
    assert status == 200, body
    return body["reports"]


@pytest.fixture
async def room(api, sockets, server) -> Room:
    return await make_room(api, sockets, server)


async def test_a_non_admin_is_forbidden_on_every_admin_route(api: Api, room: Room) -> None:
    _, report_id = await reported_message(room)
    valid_bodies = {
        "suspend": {"reason": "x"},
        "ban": {},
        "resolve": {"action": "suspend_sender"},
        "verify-badge": {"verified": True},
    }
    for route in ADMIN_ROUTES:
        target = report_id if "reports" in route.path else room.bob.id
        path = route.path.replace("{id}", target)
        body = valid_bodies.get(path.rsplit("/", 1)[-1], {}) if route.method == "POST" else None
        for junk in (False, True):
            if junk and route.method == "GET":
                path += "?limit=nope"
            elif junk:
                target_path = route.path.replace("{id}", "not-a-uuid")
                body, path = {"unknown": 1}, target_path
            status, answer = await api.request(
                route.method, path, json=body, token=room.carol.account.access_token
            )
            assert status == 403 and answer["error"]["code"] == "forbidden", (path, answer)
    bob = await User.get(id=room.bob.id)
    assert bob.account_status == "active" and bob.verified is False
    assert (await Report.get(id=report_id)).status == "open"
    assert not await AuditEntry.exists()


async def test_reports_queue_and_dismiss(api: Api, room: Room) -> None:
    admin = await make_admin(api)
    sent, report_id = await reported_message(room)
    [listed] = await reports(api, admin, status="open")
    assert listed["id"] == report_id and listed["status"] == "open" and listed["reason"] == "spam"
    assert listed["message"]["id"] == sent["id"] and listed["message"]["content"] == sent["content"]
    assert listed["chat_id"] == room.chat_id and listed["sender_id"] == room.bob.id
    assert listed["reporter"]["id"] == room.alice.id and "email" not in listed["reporter"]
    assert listed["action"] is None and listed["resolved_by_id"] is None

    status, body = await resolve(api, admin, report_id, action="dismiss", reason="fine")
    assert status == 200, body
    report = body["report"]
    assert report["status"] == "resolved" and report["action"] == "dismiss"
    assert report["resolved_by_id"] == admin.id and report["resolved_at"]
    assert await reports(api, admin, status="open") == []
    assert [r["id"] for r in await reports(api, admin, status="resolved")] == [report_id]
    status, body = await resolve(api, admin, report_id, action="hide_message")
    assert status == 409 and body["error"]["code"] == "conflict"
    history = await room.alice.socket.ok("message:history", {"chat_id": room.chat_id})
    assert history["messages"][-1]["content"] == sent["content"]
    assert room.alice.socket.pending("message:updated") == []


async def test_hide_message_reaches_members_as_a_placeholder(api: Api, room: Room) -> None:
    admin = await make_admin(api)
    sent, report_id = await reported_message(room)
    status, body = await resolve(api, admin, report_id, action="hide_message")
    assert status == 200 and body["report"]["action"] == "hide_message"
    assert body["report"]["message"]["content"] == sent["content"]
    assert body["report"]["message"]["visibility"] == "hidden"
    for member in (room.alice, room.bob):
        updated = (await member.socket.expect("message:updated"))["message"]
        assert updated["id"] == sent["id"] and updated["visibility"] == "hidden"
        assert updated["content"] is None and updated["change"] == sent["change"] + 1
    history = await room.alice.socket.ok("message:history", {"chat_id": room.chat_id})
    assert history["messages"][-1]["content"] is None
    assert history["messages"][-1]["visibility"] == "hidden"
    synced = await room.bob.socket.ok("sync", {"chats": {room.chat_id: sent["change"]}})
    [changed] = synced["chats"][room.chat_id]["messages"]
    assert changed["id"] == sent["id"] and changed["content"] is None
    [listed] = await reports(api, admin)
    assert listed["message"]["content"] == sent["content"]


async def test_suspend_sender_disconnects_them(api: Api, room: Room) -> None:
    admin = await make_admin(api)
    _, report_id = await reported_message(room)
    status, body = await resolve(api, admin, report_id, action="suspend_sender")
    assert status == 200 and body["report"]["action"] == "suspend_sender"
    await room.bob.socket.wait_disconnected()
    assert room.alice.socket.sio.connected
    assert (await login(api, room.bob.account.user["username"]))[0] == 403
    status, users = await api.get(
        "/api/admin/users", params={"status": "suspended"}, token=admin.access_token
    )
    [bob] = users["users"]
    assert bob["id"] == room.bob.id and bob["moderation_reason"] == "spam"
    status, audit = await api.get("/api/admin/audit", token=admin.access_token)
    assert [(e["action"], e["target_id"]) for e in audit["entries"]] == [
        ("report.resolve", report_id),
        ("user.suspend", room.bob.id),
    ]
    assert audit["entries"][0]["details"]["action"] == "suspend_sender"
    assert audit["entries"][1]["details"] == {"reason": "spam", "report_id": report_id}


async def test_suspend_sender_who_is_the_admin_conflicts(api: Api, sockets: Any, server) -> None:
    admin = await make_admin(api)
    member = await api.register()
    base_url = str(server.make_url(""))
    admin_socket = await sockets(base_url, admin.access_token)
    member_socket = await sockets(base_url, member.access_token)
    chat = await admin_socket.ok(
        "chat:create", {"type": "group", "name": "Mods", "member_ids": [member.id]}
    )
    chat_id = chat["chat"]["id"]
    sent = (await admin_socket.ok("message:send", text(chat_id)))["message"]
    report = await member_socket.ok("message:report", {"message_id": sent["id"], "reason": "x"})
    status, body = await resolve(api, admin, report["report_id"], action="suspend_sender")
    assert status == 409 and body["error"]["code"] == "conflict"
    assert (await Report.get(id=report["report_id"])).status == "open"
    assert (await User.get(id=admin.id)).account_status == "active"
    assert not await AuditEntry.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "action"),
        ({"action": "delete"}, "action"),
        ({"action": "dismiss", "note": "x"}, "note"),
        ({"action": "dismiss", "reason": "x" * 501}, "reason"),
    ],
)
async def test_resolve_bad_input(api: Api, room: Room, body: dict[str, Any], field: str) -> None:
    admin = await make_admin(api)
    _, report_id = await reported_message(room)
    status, answer = await resolve(api, admin, report_id, **body)
    assert status == 400 and field in answer["error"]["details"]["fields"], answer
    assert (await Report.get(id=report_id)).status == "open"


async def test_resolve_unknown_report_and_bad_filters(api: Api) -> None:
    admin = await make_admin(api)
    status, body = await resolve(api, admin, str(uuid.uuid4()), action="dismiss")
    assert status == 404 and body["error"]["code"] == "not_found"
    for query in ({"status": "closed"}, {"cursor": "%%%"}, {"limit": "1000"}):
        status, body = await api.get("/api/admin/reports", params=query, token=admin.access_token)
        assert status == 400 and body["error"]["code"] == "bad_request", query
    status, body = await api.get(
        "/api/admin/audit", params={"cursor": "x"}, token=admin.access_token
    )
    assert status == 400


async def test_reports_page_newest_first(api: Api, room: Room) -> None:
    admin = await make_admin(api)
    ids = [(await reported_message(room, f"spam {i}"))[1] for i in range(3)]
    status, first = await api.get(
        "/api/admin/reports", params={"limit": "2"}, token=admin.access_token
    )
    assert status == 200 and [r["id"] for r in first["reports"]] == ids[:0:-1]
    status, second = await api.get(
        "/api/admin/reports",
        params={"limit": "2", "cursor": first["next_cursor"]},
        token=admin.access_token,
    )
    assert status == 200 and [r["id"] for r in second["reports"]] == ids[:1]
    assert second["next_cursor"] is None
