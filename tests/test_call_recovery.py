"""A restarted server ends the calls it finds live with nobody connected."""

from __future__ import annotations

from tests.clients import Api
from tests.test_calls import active_call, start
from tests.test_messages import make_room


async def test_restart_ends_calls_nobody_is_connected_to(start_server, http, sockets) -> None:
    before = await start_server()
    room = await make_room(Api(http, str(before.make_url("")).rstrip("/")), sockets, before)
    dm = await room.alice.socket.ok("chat:create", {"type": "dm", "user_id": room.carol.id})
    active = await active_call(room)
    ringing = (await start(room.alice, dm["chat"]["id"]))["call"]
    for member in (room.alice, room.bob, room.carol):
        await member.socket.close()
    await before.close()

    after = await start_server()
    alice = await sockets(str(after.make_url("")), room.alice.account.access_token)
    group = await alice.ok("message:history", {"chat_id": room.chat_id})
    [record] = group["messages"]
    assert record["type"] == "call" and record["meta"]["call_id"] == active["id"]
    assert record["meta"]["status"] == "ended" and record["meta"]["duration_seconds"] >= 0
    direct = await alice.ok("message:history", {"chat_id": dm["chat"]["id"]})
    [missed] = direct["messages"]
    assert missed["meta"] == {
        "call_id": ringing["id"],
        "kind": "video",
        "status": "missed",
        "duration_seconds": None,
    }
    again = await alice.ok("call:start", {"chat_id": room.chat_id, "kind": "audio"})
    assert again["call"]["id"] != active["id"] and again["call"]["status"] == "ringing"
