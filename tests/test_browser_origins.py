"""CORS_ORIGINS where the browser matters: a page on a second loopback origin calls Parley.

The page loads the vendored Socket.IO client from Parley, then tries a long-polling connection
and a JSON fetch to /api/auth/login; the browser itself must refuse both unless that origin is
listed.
"""

from __future__ import annotations

import html

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from playwright.sync_api import Browser

from tests.browser import BrowserThread, base_url_of, chromium_fixture  # noqa: F401 (fixture)
from tests.clients import PASSWORD, Account, Api


def other_origin_app() -> web.Application:
    """`/?parley=<url>`: a page that loads the vendored Socket.IO client from that Parley."""

    async def page(request: web.Request) -> web.Response:
        parley = html.escape(request.query["parley"], quote=True)
        body = f'<!doctype html><script src="{parley}/static/vendor/socket.io.min.js"></script>'
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    return app


PROBE = """async ({parley, token, login, password}) => {
  const socket = await new Promise((resolve) => {
    const client = io(parley, {auth: {token}, transports: ["polling"], reconnection: false});
    client.on("connect", async () => {
      const ack = await client.timeout(5000).emitWithAck("chat:list", {});
      client.disconnect();
      resolve(ack.ok ? "connected" : `ack ${ack.error.code}`);
    });
    client.on("connect_error", (error) => resolve(`connect_error: ${error.message}`));
  });
  let login_result;
  try {
    const response = await fetch(`${parley}/api/auth/login`, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({login, password}),
    });
    login_result = `${response.status} ${(await response.json()).user.username}`;
  } catch (error) {
    login_result = `${error.name}: ${error.message}`;
  }
  return {socket, login: login_result};
}"""


def probe_from_other_origin(
    browser: Browser, page_url: str, parley: str, account: Account
) -> dict[str, str]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(page_url)
        assert page.evaluate("typeof io") == "function", "the vendored client loaded"
        args = {
            "parley": parley,
            "token": account.access_token,
            "login": account.user["username"],
            "password": PASSWORD,
        }
        return page.evaluate(PROBE, args)
    finally:
        context.close()


@pytest.mark.parametrize("listed", [False, True], ids=["unlisted", "listed"])
async def test_browser_enforces_cors_origins_for_http_and_socketio(
    chromium: BrowserThread, start_server, http: ClientSession, listed: bool
) -> None:
    other = TestServer(other_origin_app(), host="127.0.0.1")
    await other.start_server()
    try:
        other_origin = base_url_of(other)
        # Unlisted: CORS_ORIGINS names no other origin, so only Parley's own is served.
        server = await start_server(cors_origins=[other_origin] if listed else [])
        parley = base_url_of(server)
        account = await Api(http, parley).register()
        page_url = f"{other_origin}/?parley={parley}"
        outcome = await chromium.run(probe_from_other_origin, page_url, parley, account)
    finally:
        await other.close()
    if listed:
        assert outcome == {"socket": "connected", "login": f"200 {account.user['username']}"}
    else:
        assert outcome["socket"].startswith("connect_error: "), outcome
        assert outcome["login"] == "TypeError: Failed to fetch", outcome
