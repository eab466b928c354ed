"""The web client and admin page (static/), served by Parley itself.

These are not API routes: they stay out of the `ROUTES` table, so out of /api/openapi.json.
`GET /` is the chat client, `GET /admin` the admin dashboard, `/static/...` their files.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGES = {"/": "index.html", "/admin": "admin.html"}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
"""The pages load only Parley's own scripts and talk only to Parley; nothing may frame them."""


def _page(path: Path) -> Handler:
    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers=PAGE_HEADERS)

    return page


def add_web_client(app: web.Application) -> None:
    for route, name in PAGES.items():
        app.router.add_get(route, _page(STATIC_DIR / name))
    app.router.add_static("/static/", STATIC_DIR)
