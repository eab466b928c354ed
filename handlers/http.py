"""HTTP transport: the route adapters and the one route table.

Each `Route` (handlers/http_kit.py) names its body and response schemas; the same table
registers the aiohttp routes and generates /api/openapi.json (handlers/openapi.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from handlers import (
    admin,
    admin_stats,
    auth,
    files,
    health,
    moderation,
    openapi,
    search,
    uploads,
    verification,
)
from handlers.access import require_admin
from handlers.context import Ctx
from handlers.http_files import file_response, incoming_file
from handlers.http_kit import (
    COOKIE_PATH,
    CTX,
    REFRESH_COOKIE,
    Handler,
    M,
    Route,
    actor_of,
    authenticated,
    client_info,
    json_response,
    read_body,
    set_refresh_cookie,
)
from handlers.schemas import admin as admin_schemas
from handlers.schemas.auth import AuthOut, LoginIn, LogoutIn, RefreshIn, RegisterIn
from handlers.schemas.common import Empty
from handlers.schemas.search import SearchIn, SearchOut
from handlers.schemas.uploads import FileAccessIn, UploadForm, UploadOut
from handlers.schemas.verification import CodeSentOut, VerifiedOut, VerifyIn
from infra.signed_urls import Variant

log = logging.getLogger(__name__)

# Auth routes


async def register_route(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    result = await auth.register(ctx, await read_body(request, RegisterIn), client_info(request))
    response = json_response(result, 201)
    set_refresh_cookie(request, response, result.refresh_token, ctx)
    return response


async def login_route(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    result = await auth.login(ctx, await read_body(request, LoginIn), client_info(request))
    response = json_response(result)
    set_refresh_cookie(request, response, result.refresh_token, ctx)
    return response


async def refresh_route(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    body = await read_body(request, RefreshIn)
    result = await auth.refresh(ctx, body.refresh_token or request.cookies.get(REFRESH_COOKIE))
    response = json_response(result)
    set_refresh_cookie(request, response, result.refresh_token, ctx)
    return response


async def logout_route(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    body = await read_body(request, LogoutIn)
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE)
    await auth.logout(ctx, actor_of(request), token)
    response = web.Response(status=204)
    response.del_cookie(REFRESH_COOKIE, path=COOKIE_PATH)
    return response


# Verification and admin routes


async def verify_route(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    result = await verification.verify(ctx, actor_of(request), await read_body(request, VerifyIn))
    return json_response(result, 202 if isinstance(result, CodeSentOut) else 200)


def admin_query_route(use_case: Callable[..., Awaitable[BaseModel]], query: type[M]) -> Handler:
    """An admin GET: admins only (checked first), then the query string as `query`."""

    async def handle(request: web.Request) -> web.Response:
        require_admin(actor_of(request).user)
        cmd = query.model_validate(dict(request.query))
        return json_response(await use_case(request.app[CTX], actor_of(request), cmd))

    return handle


def admin_target_route(
    use_case: Callable[..., Awaitable[BaseModel]], body: type[M], *args: str
) -> Handler:
    """An admin POST on `.../{id}/...`: `use_case(ctx, actor, id, *args, body)`."""

    async def handle(request: web.Request) -> web.Response:
        require_admin(actor_of(request).user)
        target = admin_schemas.TargetIn.model_validate({"id": request.match_info["id"]})
        cmd = await read_body(request, body)
        ctx, actor = request.app[CTX], actor_of(request)
        return json_response(await use_case(ctx, actor, target.id, *args, cmd))

    return handle


def _user_action(action: str, body: type[BaseModel], summary: str) -> Route:
    return Route("POST", f"/api/admin/users/{{id}}/{action}",
                 admin_target_route(moderation.change_status, body, action), summary,
                 body=body, response=admin_schemas.AdminUserEnvelope, tag="admin")  # fmt: skip


# Uploads, files and search routes


async def upload_route(request: web.Request) -> web.Response:
    incoming = await incoming_file(request)
    result = await uploads.upload_file(request.app[CTX], actor_of(request), incoming)
    return json_response(result, 201)


def file_route(variant: Variant) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        access = FileAccessIn.model_validate(dict(request.query))
        delivery = await files.open_file(
            request.app[CTX], request.match_info["id"], variant, access
        )
        return file_response(delivery)

    return handle


async def search_route(request: web.Request) -> web.Response:
    cmd = SearchIn.model_validate(dict(request.query))
    return json_response(await search.search_messages(request.app[CTX], actor_of(request), cmd))


# Operations routes


async def healthz_route(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz_route(request: web.Request) -> web.Response:
    checks = await health.readiness(request.app[CTX])
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return json_response(body, 200 if ready else 503)


async def metrics_route(request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = "text/plain"
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


async def openapi_route(request: web.Request) -> web.Response:
    return json_response(openapi.build_spec(ROUTES))


ROUTES: list[Route] = [
    Route("POST", "/api/auth/register", register_route, "Create an account",
          body=RegisterIn, response=AuthOut, status=201, authenticated=False),
    Route("POST", "/api/auth/login", login_route, "Log in with email or username",
          body=LoginIn, response=AuthOut, authenticated=False),
    Route("POST", "/api/auth/refresh", refresh_route, "Rotate the refresh token",
          body=RefreshIn, response=AuthOut, authenticated=False),
    Route("POST", "/api/auth/logout", logout_route, "End this session", body=LogoutIn,
          status=204),
    Route("POST", "/api/users/verify", verify_route,
          "Send a one-time code (202), or confirm one (200 with the user)", body=VerifyIn,
          response=VerifiedOut, other_responses=((202, CodeSentOut),), tag="users"),
    Route("GET", "/api/admin/stats", admin_query_route(admin_stats.stats, Empty),
          "Statistics (API.md section 5)", response=admin_schemas.StatsOut, tag="admin"),
    Route("GET", "/api/admin/users", admin_query_route(admin.list_users, admin_schemas.UsersQuery),
          "Users, newest first: search `q`, filter by `status`",
          query=admin_schemas.UsersQuery, response=admin_schemas.AdminUsersOut, tag="admin"),
    _user_action("suspend", admin_schemas.SuspendIn,
                 "Suspend (until a time, or until unsuspended); ends the user's sessions"),
    _user_action("unsuspend", admin_schemas.ModerationIn, "Lift a suspension"),
    _user_action("ban", admin_schemas.ModerationIn, "Ban; ends the user's sessions"),
    _user_action("unban", admin_schemas.ModerationIn, "Lift a ban"),
    Route("POST", "/api/admin/users/{id}/verify-badge",
          admin_target_route(moderation.set_badge, admin_schemas.BadgeIn),
          "Grant the verified badge; `{verified: false}` revokes it", body=admin_schemas.BadgeIn,
          response=admin_schemas.AdminUserEnvelope, tag="admin"),
    Route("GET", "/api/admin/reports",
          admin_query_route(admin.list_reports, admin_schemas.ReportsQuery),
          "Reported messages, newest first", query=admin_schemas.ReportsQuery,
          response=admin_schemas.AdminReportsOut, tag="admin"),
    Route("POST", "/api/admin/reports/{id}/resolve",
          admin_target_route(moderation.resolve_report, admin_schemas.ResolveIn),
          "Resolve a report: dismiss, hide the message, or suspend its sender",
          body=admin_schemas.ResolveIn, response=admin_schemas.AdminReportEnvelope, tag="admin"),
    Route("GET", "/api/admin/audit", admin_query_route(admin.list_audit, admin_schemas.AuditQuery),
          "The audit log of admin actions, newest first", query=admin_schemas.AuditQuery,
          response=admin_schemas.AuditOut, tag="admin"),
    Route("POST", "/api/upload", upload_route,
          "Upload a file (multipart part `file`, streamed; type read from the bytes)",
          body=UploadForm, body_content_type="multipart/form-data", response=UploadOut,
          status=201, tag="files"),
    Route("GET", "/api/files/{id}", file_route("file"),
          "A file by its signed URL (`attachment.url`): the bytes, or 302 to presigned S3",
          query=FileAccessIn, authenticated=False, tag="files",
          content_type="application/octet-stream"),
    Route("GET", "/api/files/{id}/thumbnail", file_route("thumbnail"),
          "An image's WebP thumbnail by its signed URL (`attachment.thumbnail_url`)",
          query=FileAccessIn, authenticated=False, tag="files",
          content_type="application/octet-stream"),
    Route("GET", "/api/messages/search", search_route,
          "Full-text search in the caller's chats, best and newest first",
          query=SearchIn, response=SearchOut, tag="messages"),
    Route("GET", "/healthz", healthz_route, "Liveness", authenticated=False, tag="operations"),
    Route("GET", "/readyz", readyz_route, "Readiness: the database, and Redis when configured",
          authenticated=False, tag="operations"),
    Route("GET", "/metrics", metrics_route, "Prometheus metrics", authenticated=False,
          tag="operations", content_type="text/plain"),
    Route("GET", "/api/openapi.json", openapi_route, "This description",
          authenticated=False, tag="operations"),
]  # fmt: skip


def register_routes(app: web.Application, ctx: Ctx) -> None:
    for route in ROUTES:
        handler = authenticated(ctx, route.handler) if route.authenticated else route.handler
        app.router.add_route(route.method, route.path, handler)
