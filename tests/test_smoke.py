"""The server starts, answers health checks and accepts an authenticated socket."""

from __future__ import annotations


async def test_healthz_and_readyz(api) -> None:
    assert await api.get("/healthz") == (200, {"status": "ok"})
    status, body = await api.get("/readyz")
    assert status == 200 and body["checks"] == {"database": "ok"}


async def test_socket_connects_and_refreshes(api, server, sockets) -> None:
    alice = await api.register()
    client = await sockets(str(server.make_url("")), alice.access_token)
    data = await client.ok("auth:refresh", {"access_token": alice.access_token})
    assert data["expires_at"].endswith("Z")
