"""Per-connection budgets: event rate, events in flight, flood cut-off, sockets per user."""

from __future__ import annotations

import asyncio
import json

from tests.auth_helpers import refused
from tests.clients import Api, SocketClient
from tests.engineio_raw import WebSocketSession, event_packet

UNKNOWN = "no:such:event"
BURST_FRAMES = 200
"""Sent in one burst: an event still waiting on the database when the next frame is read is
refused. Any one pair overlaps only sometimes (a query can finish first), so many are sent."""


async def started(start_server, http, **settings) -> tuple[Api, str]:
    server = await start_server(**settings)
    base_url = str(server.make_url("")).rstrip("/")
    return Api(http, base_url), base_url


async def answers(client: SocketClient, count: int) -> list[dict]:
    return await asyncio.gather(*(client.call(UNKNOWN, {}) for _ in range(count)))


def assert_socket_cap(refusal: dict) -> None:
    assert refusal["code"] == "rate_limited", refusal
    assert refusal["details"]["retry_after"] >= 1


def codes(acks: list[dict]) -> list[str]:
    return [ack["error"]["code"] for ack in acks]


async def test_events_over_the_rate_are_answered_rate_limited(start_server, http, sockets) -> None:
    api, url = await started(
        start_server, http, events_per_second=0.1, events_burst=5, events_flood_limit=50
    )
    alice = await sockets(url, (await api.register()).access_token)
    assert codes(await answers(alice, 5)) == ["not_found"] * 5
    refusal = await alice.error(UNKNOWN, {})
    assert refusal["code"] == "rate_limited"
    assert refusal["details"]["retry_after"] >= 1
    assert alice.sio.connected


async def test_a_flood_disconnects_the_flooder_while_others_are_served(
    start_server, http, sockets
) -> None:
    api, url = await started(
        start_server, http, events_per_second=0.1, events_burst=5, events_flood_limit=10
    )
    flooder = await sockets(url, (await api.register()).access_token)
    bystander_account = await api.register()
    bystander = await sockets(url, bystander_account.access_token)

    async def flood() -> None:
        for _ in range(40):
            await flooder.sio.emit(UNKNOWN, {})
        await flooder.wait_disconnected()

    async def keep_talking() -> list[dict]:
        refresh = {"access_token": bystander_account.access_token}
        return [await bystander.ok("auth:refresh", refresh) for _ in range(3)]

    _, served = await asyncio.gather(flood(), keep_talking())
    assert len(served) == 3
    assert codes(await answers(bystander, 2)) == ["not_found"] * 2
    assert bystander.sio.connected


async def test_a_zero_rate_turns_the_rate_limit_off(start_server, http, sockets) -> None:
    api, url = await started(start_server, http, events_per_second=0, events_burst=2)
    alice = await sockets(url, (await api.register()).access_token)
    assert codes(await answers(alice, 20)) == ["not_found"] * 20


async def test_events_in_flight_are_capped_per_connection(start_server, http) -> None:
    api, url = await started(
        start_server, http, events_per_second=0, max_events_in_flight=1, events_flood_limit=1000
    )
    account = await api.register()
    session = await WebSocketSession.open(http, url)
    assert (await session.connect(account.access_token)).startswith("40")
    refresh = {"access_token": account.access_token}
    for ack_id in range(BURST_FRAMES):
        await session.ws.send_str(event_packet("auth:refresh", refresh, ack_id=ack_id))
    acks = [
        json.loads((await session.next_message())[2:].lstrip("0123456789"))
        for _ in range(BURST_FRAMES)
    ]
    outcomes = {"ok" if ack[0]["ok"] else ack[0]["error"]["code"] for ack in acks}
    assert outcomes == {"ok", "rate_limited"}, acks


async def test_sockets_over_the_per_user_cap_are_refused(start_server, http, sockets) -> None:
    api, url = await started(start_server, http, max_sockets_per_user=2)
    alice, bob = await api.register(), await api.register()
    first = await sockets(url, alice.access_token)
    await sockets(url, alice.access_token)
    assert_socket_cap(await refused(url, alice.access_token))
    assert (await first.error(UNKNOWN, {}))["code"] == "not_found", "the oldest socket stays"
    await sockets(url, bob.access_token)
    await first.close()
    replacement = await sockets(url, alice.access_token)
    assert replacement.sio.connected


async def test_the_socket_cap_counts_sockets_on_every_node(cluster, http, sockets) -> None:
    node_a, node_b = await cluster(2, max_sockets_per_user="2")
    alice = await Api(http, node_a.url).register()
    await sockets(node_a.url, alice.access_token)
    on_b = await sockets(node_b.url, alice.access_token)
    for node in (node_a, node_b):
        assert_socket_cap(await refused(node.url, alice.access_token))
    await on_b.close()
    assert (await sockets(node_a.url, alice.access_token)).sio.connected
