"""Two real server processes on one PostgreSQL and one Redis."""

from __future__ import annotations

from tests.clients import Api


async def test_logout_on_one_node_disconnects_socket_on_other(cluster, http, sockets) -> None:
    first, second = await cluster(2)
    api_first = Api(http, first.url)
    alice = await api_first.register()
    client = await sockets(second.url, alice.access_token)
    status, _ = await api_first.post(
        "/api/auth/logout", {"refresh_token": alice.refresh_token}, token=alice.access_token
    )
    assert status == 204
    await client.wait_disconnected(timeout=1.0)
