"""One origin rule for HTTP and Socket.IO, from CORS_ORIGINS.

A request (or Socket.IO handshake) that carries an `Origin` header is served only when that
origin is listed in CORS_ORIGINS (`*` lists every origin; refused in production) or is the
server's own origin. Requests without an Origin (mobile apps, servers, curl) are not affected.
Everything else is refused with 403 `forbidden` before any handler runs; allowed cross-origin
requests get CORS headers from aiohttp-cors (HTTP) and python-engineio (long-polling).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_cors
from aiohttp import web

from handlers.errors import Forbidden
from infra.settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def _first(value: str | None) -> str | None:
    return value.split(",")[0].strip() or None if value else None


class OriginPolicy:
    """Which browser origins may call this server."""

    def __init__(self, origins: list[str]) -> None:
        self.any = "*" in origins
        self.listed = frozenset(origins)

    def allows(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None or self.any or origin in self.listed:
            return True
        return origin in self._own_origins(request)

    def allows_handshake(self, origin: str | None, environ: dict[str, Any]) -> bool:
        """python-engineio's `cors_allowed_origins` callable."""
        return self.allows(environ["aiohttp.request"])

    @staticmethod
    def _own_origins(request: web.Request) -> set[str]:
        """The server's own origin, as the client reached it (directly or through a proxy)."""
        host = request.headers.get("Host")
        if not host:
            return set()
        scheme = request.scheme
        forwarded_proto = _first(request.headers.get("X-Forwarded-Proto"))
        forwarded_host = _first(request.headers.get("X-Forwarded-Host"))
        origins = {f"{scheme}://{host}"}
        if forwarded_proto or forwarded_host:
            origins.add(f"{forwarded_proto or scheme}://{forwarded_host or host}")
        return origins


def origin_policy(settings: Settings) -> OriginPolicy:
    return OriginPolicy(settings.cors_origins or [])


def origin_middleware(policy: OriginPolicy) -> Middleware:
    """Refuse any request whose Origin the policy does not allow (HTTP and Socket.IO alike)."""

    @web.middleware
    async def check_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not policy.allows(request):
            raise Forbidden("Requests from this origin are not allowed")
        return await handler(request)

    return check_origin


def setup_cors(app: web.Application, settings: Settings) -> None:
    """CORS headers for the listed origins on every HTTP route (Socket.IO sets its own)."""
    options = aiohttp_cors.ResourceOptions(
        allow_credentials=True,
        expose_headers=("Retry-After",),
        allow_headers=("Authorization", "Content-Type"),
        allow_methods=("GET", "POST", "PUT", "PATCH", "DELETE"),
        max_age=600,
    )
    cors = aiohttp_cors.setup(
        app, defaults={origin: options for origin in settings.cors_origins or []}
    )
    for route in list(app.router.routes()):
        if not route.resource or route.resource.canonical.startswith("/socket.io"):
            continue
        cors.add(route)
