"""An access token whose session was revoked is refused at once: every HTTP route, the
handshake, on every node. (Suspend and ban across nodes: tests/test_admin_cluster.py.)"""

from __future__ import annotations

import uuid

import pytest

from handlers.http import ROUTES
from tests.auth_helpers import refusal_is, refused
from tests.clients import Account, Api

LOGOUT, REFRESH = "/api/auth/logout", "/api/auth/refresh"
AUTHENTICATED = [route for route in ROUTES if route.authenticated]


async def revoke_by_logout(api: Api, account: Account) -> None:
    status, _ = await api.post(LOGOUT, token=account.access_token)
    assert status == 204


async def revoke_by_refresh_reuse(api: Api, account: Account) -> None:
    status, _ = await api.post(REFRESH, {"refresh_token": account.refresh_token})
    assert status == 200
    status, _ = await api.post(REFRESH, {"refresh_token": account.refresh_token})
    assert status == 401


REVOCATIONS = {"logout": revoke_by_logout, "refresh_reuse": revoke_by_refresh_reuse}


async def assert_refused_everywhere(api: Api, token: str) -> None:
    """Every authenticated route answers 401 and the handshake is refused."""
    for route in AUTHENTICATED:
        path = route.path.replace("{id}", str(uuid.uuid4()))
        status, body = await api.request(
            route.method, path, json={} if route.body else None, token=token
        )
        assert status == 401 and body["error"]["code"] == "unauthorized", (route.path, body)
    assert refusal_is(await refused(api.base_url, token), "unauthorized")


@pytest.mark.parametrize("revocation", REVOCATIONS)
async def test_revoked_token_is_refused_on_every_route_and_on_connect(
    api: Api, sockets, revocation: str
) -> None:
    account = await api.register()
    socket = await sockets(api.base_url, account.access_token)
    await REVOCATIONS[revocation](api, account)
    await assert_refused_everywhere(api, account.access_token)
    await socket.wait_disconnected(timeout=1.0)


@pytest.mark.parametrize("revocation", REVOCATIONS)
async def test_revocation_on_one_node_is_refused_at_once_on_another(
    cluster, http, sockets, revocation: str
) -> None:
    node_a, node_b = await cluster(2)
    api_a, api_b = Api(http, node_a.url), Api(http, node_b.url)
    account = await api_a.register()
    socket = await sockets(node_b.url, account.access_token)
    await REVOCATIONS[revocation](api_a, account)
    await assert_refused_everywhere(api_b, account.access_token)
    await socket.wait_disconnected(timeout=1.0)
