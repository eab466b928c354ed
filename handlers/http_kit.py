"""HTTP plumbing shared by every route: the route record, JSON in and out, the one error
shape (middleware), authentication and the refresh cookie."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from handlers import auth
from handlers.context import Actor, ClientInfo, Ctx
from handlers.errors import (
    BadRequest,
    DomainError,
    Internal,
    NotFound,
    error_for_status,
    validation_error,
)
from infra.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger(__name__)

CTX = web.AppKey("ctx", Ctx)
ACTOR = web.RequestKey("actor", Actor)
REFRESH_COOKIE = "parley_refresh"
COOKIE_PATH = "/api/auth"

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: type[BaseModel] | None = None
    other_responses: tuple[tuple[int, type[BaseModel]], ...] = ()
    authenticated: bool = True
    tag: str = "auth"
    content_type: str = "application/json"
    body_content_type: str = "application/json"


def json_response(payload: BaseModel | dict[str, Any], status: int = 200) -> web.Response:
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(error: DomainError) -> web.Response:
    response = json_response({"error": error.to_dict()}, error.status)
    if error.details and "retry_after" in error.details:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    return response


async def read_body(request: web.Request, model: type[M]) -> M:
    """The request's JSON object validated by `model`; anything else is `bad_request`.

    An empty body counts as `{}` (so a route whose fields are all optional needs none).
    """
    if not request.can_read_body:
        return model.model_validate({})
    if request.content_type != "application/json":
        raise BadRequest("The body must be JSON (Content-Type: application/json)")
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise BadRequest("The body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object")
    return model.model_validate(data)


def client_info(request: web.Request) -> ClientInfo:
    return ClientInfo(ip=request.remote, user_agent=request.headers.get("User-Agent"))


def actor_of(request: web.Request) -> Actor:
    return request[ACTOR]


def bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves in the contract's shape; unexpected ones are logged."""
    started = time.perf_counter()
    route = request.match_info.route.resource
    route_name = route.canonical if route is not None else "unmatched"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = _from_http_exception(exc)
    except ValidationError as exc:
        response = error_response(validation_error(exc))
    except DomainError as exc:
        response = error_response(exc)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        response = error_response(Internal())
    HTTP_REQUESTS.labels(request.method, route_name, response.status).inc()
    HTTP_LATENCY.labels(route_name).observe(time.perf_counter() - started)
    return response


def _from_http_exception(exc: web.HTTPException) -> web.StreamResponse:
    if exc.status < 400:
        return exc
    if exc.status in (404, 405):
        return error_response(NotFound("No such route"))
    return error_response(error_for_status(exc.status, exc.reason))


def authenticated(ctx: Ctx, handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        request[ACTOR] = await auth.authenticate(ctx, bearer(request))
        return await handler(request)

    return wrapped


def set_refresh_cookie(request: web.Request, response: web.Response, token: str, ctx: Ctx) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=ctx.settings.refresh_token_ttl_days * 86400,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
