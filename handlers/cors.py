"""CORS for the HTTP routes, from the same CORS_ORIGINS list Socket.IO uses."""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from infra.settings import Settings


def setup_cors(app: web.Application, settings: Settings) -> None:
    """Allow the configured origins on every HTTP route (Socket.IO has its own check)."""
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
