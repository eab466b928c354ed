"""CORS_ORIGINS is one rule for HTTP and the Socket.IO handshake (both transports)."""

from __future__ import annotations

import os
import subprocess
import sys

import aiohttp
import pytest
import socketio
from aiohttp import ClientSession

from tests.clients import Api
from tests.conftest import JWT_SECRET
from tests.engineio_raw import PATH, PollingSession, WebSocketSession
from tests.nodes import PROJECT_DIR

ALLOWED = "https://app.example"
FOREIGN = "https://evil.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


@pytest.fixture
async def api_with_origins(start_server, http: ClientSession) -> Api:
    server = await start_server(cors_origins=[ALLOWED])
    return Api(http, str(server.make_url("")).rstrip("/"))


async def test_http_request_from_a_foreign_origin_is_refused(api_with_origins: Api) -> None:
    api = api_with_origins
    body = {"email": "o@example.com", "username": "origin1", "password": "correct horse 1"}
    async with api.http.post(
        api.base_url + "/api/auth/register", json=body, headers={"Origin": FOREIGN}
    ) as response:
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "forbidden"
        assert "Access-Control-Allow-Origin" not in response.headers
    status, _ = await api.post("/api/auth/register", body)
    assert status == 201, "the refused request created nothing"


async def test_preflight_from_a_foreign_origin_is_refused(api_with_origins: Api) -> None:
    api = api_with_origins
    async with api.http.options(
        api.base_url + "/api/auth/login", headers={"Origin": FOREIGN, **PREFLIGHT}
    ) as response:
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_listed_origin_gets_cors_headers(api_with_origins: Api) -> None:
    api = api_with_origins
    async with api.http.options(
        api.base_url + "/api/auth/login", headers={"Origin": ALLOWED, **PREFLIGHT}
    ) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    body = {"email": "a@example.com", "username": "origin2", "password": "correct horse 2"}
    async with api.http.post(
        api.base_url + "/api/auth/register", json=body, headers={"Origin": ALLOWED}
    ) as response:
        assert response.status == 201
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


async def test_requests_without_origin_or_from_the_server_itself_are_served(
    api_with_origins: Api,
) -> None:
    api = api_with_origins
    await api.register()
    body = {"email": "s@example.com", "username": "origin3", "password": "correct horse 3"}
    status, _ = await api.post("/api/auth/register", body, headers={"Origin": api.base_url})
    assert status == 201


async def test_handshake_from_a_foreign_origin_is_refused_on_both_transports(
    api_with_origins: Api, sockets
) -> None:
    api = api_with_origins
    with pytest.raises(aiohttp.WSServerHandshakeError) as refusal:
        await WebSocketSession.open(api.http, api.base_url, headers={"Origin": FOREIGN})
    assert refusal.value.status == 403
    async with api.http.get(
        f"{api.base_url}{PATH}&transport=polling", headers={"Origin": FOREIGN}
    ) as response:
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers
    account = await api.register()
    for transport in ("websocket", "polling"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sockets(
                api.base_url,
                account.access_token,
                transports=[transport],
                headers={"Origin": FOREIGN},
            )


async def test_handshake_from_listed_own_or_no_origin_is_accepted(
    api_with_origins: Api, sockets
) -> None:
    api = api_with_origins
    for origin in (ALLOWED, api.base_url):
        await WebSocketSession.open(api.http, api.base_url, headers={"Origin": origin})
        polling = await PollingSession.open(api.http, api.base_url, headers={"Origin": origin})
        assert polling.handshake["sid"]
    account = await api.register()
    client = await sockets(api.base_url, account.access_token, headers={"Origin": ALLOWED})
    assert (await client.error("no:such:event", {}))["code"] == "not_found"


async def test_production_without_cors_origins_serves_only_its_own_origin(
    start_server, http: ClientSession
) -> None:
    server = await start_server(parley_env="production", cors_origins=None, bcrypt_rounds=12)
    base_url = str(server.make_url("")).rstrip("/")
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await WebSocketSession.open(http, base_url, headers={"Origin": FOREIGN})
    await WebSocketSession.open(http, base_url, headers={"Origin": base_url})
    await WebSocketSession.open(http, base_url)
    async with http.get(base_url + "/healthz", headers={"Origin": FOREIGN}) as response:
        assert response.status == 403


def test_production_refuses_a_wildcard_origin(tmp_path) -> None:
    env = {
        **os.environ,
        "PARLEY_ENV": "production",
        "JWT_SECRET": JWT_SECRET,
        "CORS_ORIGINS": "*",
        "DATABASE_URL": f"sqlite://{tmp_path}/never.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "server.py", "migrate"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "CORS_ORIGINS=* is refused in production" in result.stderr
    assert not (tmp_path / "never.sqlite3").exists()
