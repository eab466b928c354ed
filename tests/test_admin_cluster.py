"""Two `python server.py` nodes: an admin made by the CLI suspends, through node A, a user whose
socket is on node B; stats count sockets and nodes across both."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

from tests.auth_helpers import refusal_is, refused
from tests.clients import PASSWORD, Account, Api
from tests.conftest import TEST_DATABASE_URL
from tests.nodes import PROJECT_DIR
from tests.waiting import eventually


async def cli_admin(api: Api) -> Account:
    """`python server.py create-admin`, then a login."""
    name = f"root{uuid.uuid4().hex[:6]}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "server.py", "create-admin", "--email", f"{name}@example.com",
        "--password", PASSWORD, "--username", name,
        cwd=PROJECT_DIR,
        env={**os.environ, "DATABASE_URL": str(TEST_DATABASE_URL), "BCRYPT_ROUNDS": "4"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    status, body = await api.post("/api/auth/login", {"login": name, "password": PASSWORD})
    assert status == 200 and body["user"]["role"] == "admin", body
    return Account(body["user"], body["access_token"], body["refresh_token"])


async def realtime(api: Api, admin: Account) -> tuple[int, dict[str, Any]]:
    status, body = await api.get("/api/admin/stats", token=admin.access_token)
    assert status == 200, body
    return body["users"]["online_now"], body["realtime"]


async def test_suspend_through_one_node_disconnects_on_the_other(cluster, http, sockets) -> None:
    node_a, node_b = await cluster(2)
    api_a, api_b = Api(http, node_a.url), Api(http, node_b.url)
    admin = await cli_admin(api_a)
    alice, bob = await api_a.register(), await api_b.register()
    await sockets(node_a.url, alice.access_token)
    bob_socket = await sockets(node_b.url, bob.access_token)
    await sockets(node_b.url, bob.access_token)
    assert await realtime(api_b, admin) == (2, {"sockets": 3, "nodes": 2})

    status, body = await api_a.post(
        f"/api/admin/users/{bob.id}/suspend", {"reason": "spam"}, token=admin.access_token
    )
    assert status == 200 and body["user"]["account_status"] == "suspended", body
    await bob_socket.wait_disconnected(timeout=1.0)

    assert refusal_is(await refused(node_b.url, bob.access_token), "unauthorized")
    status, body = await api_b.post(
        "/api/auth/login", {"login": bob.user["username"], "password": PASSWORD}
    )
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, _ = await api_b.post("/api/auth/refresh", {"refresh_token": bob.refresh_token})
    assert status == 401
    status, _ = await api_b.get("/api/admin/stats", token=bob.access_token)
    assert status == 401

    async def bob_gone() -> bool:
        return await realtime(api_a, admin) == (1, {"sockets": 1, "nodes": 2})

    await eventually(bob_gone)
