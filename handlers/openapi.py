"""OpenAPI 3.1 generated from the HTTP route table and its pydantic schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from handlers.schemas.common import ErrorOut

VERSION = "0.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"


class RouteSpec(Protocol):
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    authenticated: bool
    tag: str
    content_type: str


def build_spec(routes: Sequence[RouteSpec]) -> dict[str, Any]:
    models = {ErrorOut}
    for route in routes:
        models.update(m for m in (route.body, route.response) if m is not None)
    keyed = [(model, mode) for model in models for mode in ("validation", "serialization")]
    refs, defs = models_json_schema(keyed, ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation = _operation(route, refs)
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Parley", "version": VERSION},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _operation(route: RouteSpec, refs: dict[tuple[Any, str], dict[str, Any]]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}}
    success: dict[str, Any] = {"description": "Success"}
    if route.response is not None:
        schema = refs[(route.response, "serialization")]
        success["content"] = {"application/json": {"schema": schema}}
    elif route.status != 204:
        success["content"] = {route.content_type: {"schema": {}}}
    operation: dict[str, Any] = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": f"{route.method.lower()}_{route.path.strip('/').replace('/', '_')}",
        "responses": {str(route.status): success, "default": {"description": "Error", **error}},
    }
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
        }
    if route.authenticated:
        operation["security"] = [{"bearer": []}]
    return operation
