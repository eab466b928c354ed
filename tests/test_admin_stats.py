"""GET /api/admin/stats against known activity: every number exact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from models import Message, RefreshToken, User
from tests.clients import Account, Api
from tests.test_admin import act, make_admin
from tests.test_calls import call_record
from tests.test_messages import Member, text
from tests.test_polls import new_poll
from tests.waiting import eventually

MESSAGE_TYPES = ["text", "image", "voice", "video", "file", "sticker", "poll", "call"]


async def stats(api: Api, admin: Account) -> dict[str, Any]:
    status, body = await api.get("/api/admin/stats", token=admin.access_token)
    assert status == 200, body
    return body


async def backdate_account(account: Account, days: int) -> None:
    """The account was created, and last logged in, `days` ago."""
    then = datetime.now(UTC) - timedelta(days=days)
    await User.filter(id=account.id).update(created_at=then)
    await RefreshToken.filter(session__user_id=account.id).update(created_at=then)


def days_back(count: int) -> list[str]:
    today = datetime.now(UTC).date()
    return [(today - timedelta(days=n)).isoformat() for n in range(count - 1, -1, -1)]


async def test_stats_of_an_empty_server(api: Api) -> None:
    admin = await make_admin(api)
    body = await stats(api, admin)
    assert body["users"] == dict.fromkeys(["total", "new_24h", "new_7d", "active_24h"], 1) | {
        "online_now": 0,
        "verified": 0,
        "suspended": 0,
        "banned": 0,
    }
    assert body["chats"] == {"total": 0, "dm": 0, "group": 0}
    assert body["messages"]["total"] == 0 and body["messages"]["last_24h"] == 0
    assert body["messages"]["per_day"] == [{"date": d, "count": 0} for d in days_back(14)]
    assert body["messages"]["by_type"] == dict.fromkeys(MESSAGE_TYPES, 0)
    assert body["calls"] == {"total": 0, "active": 0, "missed": 0, "avg_duration_seconds": None}
    assert body["reports"] == {"open": 0, "resolved": 0}
    assert body["realtime"] == {"sockets": 0, "nodes": 1}
    assert body["server"]["version"] == "0.1.0" and body["server"]["uptime_seconds"] >= 0


async def test_stats_count_known_activity(api: Api, sockets: Any, server: Any) -> None:
    base_url = str(server.make_url(""))
    admin = await make_admin(api)
    alice, bob, carol, dave, olga, abe, gus = [await api.register() for _ in range(7)]
    await backdate_account(olga, 3)  # joined 3 days ago; her access token still works
    await backdate_account(abe, 10)
    await backdate_account(gus, 10)  # joined 10 days ago, never seen since
    abe_socket = await sockets(base_url, abe.access_token)  # abe drops by and leaves
    await abe_socket.close()
    await eventually(lambda: User.filter(id=abe.id, last_seen_at__not_isnull=True).exists())

    a, b, o = [Member(x, await sockets(base_url, x.access_token)) for x in (alice, bob, olga)]
    await sockets(base_url, alice.access_token)  # alice's second device
    new_group = {"type": "group", "name": "G", "member_ids": [bob.id, olga.id]}
    group = (await a.socket.ok("chat:create", new_group))["chat"]
    dm = (await a.socket.ok("chat:create", {"type": "dm", "user_id": bob.id}))["chat"]
    first = (await a.socket.ok("message:send", text(group["id"], "one")))["message"]
    old = (await a.socket.ok("message:send", text(group["id"], "two")))["message"]
    olgas = (await o.socket.ok("message:send", text(group["id"], "three")))["message"]
    await b.socket.ok("message:send", text(dm["id"], "four"))
    await a.socket.ok("poll:create", new_poll(group["id"]))
    await Message.filter(id=old["id"]).update(created_at=datetime.now(UTC) - timedelta(days=3))

    call = (await a.socket.ok("call:start", {"chat_id": dm["id"], "kind": "audio"}))["call"]
    await b.socket.ok("call:accept", {"call_id": call["id"]})
    ended = (await a.socket.ok("call:end", {"call_id": call["id"]}))["call"]
    await call_record(a.socket, call["id"])
    live = (await a.socket.ok("call:start", {"chat_id": group["id"], "kind": "video"}))["call"]
    await b.socket.ok("call:accept", {"call_id": live["id"]})

    await b.socket.ok("message:report", {"message_id": first["id"], "reason": "rude"})
    report = await a.socket.ok("message:report", {"message_id": olgas["id"], "reason": "spam"})
    status, _ = await api.post(f"/api/admin/reports/{report['report_id']}/resolve",
                               {"action": "dismiss"}, token=admin.access_token)  # fmt: skip
    assert status == 200
    for target, action in ((alice, "verify-badge"), (carol, "suspend"), (dave, "ban")):
        assert (await act(api, admin, target.id, action))[0] == 200

    body = await stats(api, admin)
    assert body["users"] == {
        "total": 8,  # admin + 7
        "new_24h": 5,  # admin, alice, bob, carol, dave
        "new_7d": 6,  # + olga
        "active_24h": 7,  # all but gus: abe was seen, olga sent a message
        "online_now": 3,  # alice, bob, olga
        "verified": 1,
        "suspended": 1,
        "banned": 1,
    }
    assert body["chats"] == {"total": 2, "dm": 1, "group": 1}
    today_and_3_days_ago = {days_back(1)[0]: 5, days_back(4)[0]: 1}
    assert body["messages"] == {
        "total": 6,  # 4 texts, a poll, the ended call's record
        "last_24h": 5,
        "per_day": [
            {"date": day, "count": today_and_3_days_ago.get(day, 0)} for day in days_back(14)
        ],
        "by_type": {**dict.fromkeys(MESSAGE_TYPES, 0), "text": 4, "poll": 1, "call": 1},
    }
    assert body["calls"] == {"total": 2, "active": 1, "missed": 0,
                             "avg_duration_seconds": float(ended["duration_seconds"])}  # fmt: skip
    assert body["reports"] == {"open": 1, "resolved": 1}
    assert body["realtime"] == {"sockets": 4, "nodes": 1}  # alice has two
    assert date.fromisoformat(body["messages"]["per_day"][-1]["date"]) == datetime.now(UTC).date()


async def test_a_lapsed_suspension_is_not_counted(api: Api) -> None:
    admin = await make_admin(api)
    bob = await api.register()
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await act(api, admin, bob.id, "suspend", until=until))[0] == 200
    assert (await stats(api, admin))["users"]["suspended"] == 1
    # The hour passes.
    await User.filter(id=bob.id).update(suspended_until=datetime.now(UTC))
    assert (await stats(api, admin))["users"]["suspended"] == 0


async def test_stats_refuses_parameters(api: Api) -> None:
    admin = await make_admin(api)
    status, body = await api.get(
        "/api/admin/stats", params={"days": "30"}, token=admin.access_token
    )
    assert status == 400 and body["error"]["code"] == "bad_request"
