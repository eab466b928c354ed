"""OpenAPI 3.1 generated from the HTTP route table and its pydantic schemas."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from handlers.schemas.common import ErrorOut

VERSION = "0.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
BINARY = "application/octet-stream"


class RouteSpec(Protocol):
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    other_responses: tuple[tuple[int, type[BaseModel]], ...]
    authenticated: bool
    tag: str
    content_type: str
    body_content_type: str


def build_spec(routes: Sequence[RouteSpec]) -> dict[str, Any]:
    models = {ErrorOut}
    for route in routes:
        models.update(m for m in (route.body, route.query, route.response) if m is not None)
        models.update(model for _, model in route.other_responses)
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
        raw = {"type": "string", "format": "binary"} if route.content_type == BINARY else {}
        success["content"] = {route.content_type: {"schema": raw}}
    operation: dict[str, Any] = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": re.sub(r"\W+", "_", f"{route.method.lower()}_{route.path.strip('/')}"),
        "responses": {str(route.status): success, "default": {"description": "Error", **error}},
    }
    for status, model in route.other_responses:
        content = {"application/json": {"schema": refs[(model, "serialization")]}}
        operation["responses"][str(status)] = {"description": "Success", "content": content}
    parameters = _parameters(route)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {route.body_content_type: {"schema": refs[(route.body, "validation")]}},
        }
    if route.authenticated:
        operation["security"] = [{"bearer": []}]
    return operation


def _parameters(route: RouteSpec) -> list[dict[str, Any]]:
    """Path parameters (`{name}`, strings) and the query model's fields."""
    names = re.findall(r"{(\w+)}", route.path)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in names
    ]
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template=REF_TEMPLATE)
        for name, field_schema in schema.get("properties", {}).items():
            required = name in schema.get("required", [])
            parameters.append(
                {"name": name, "in": "query", "required": required, "schema": field_schema}
            )
    return parameters
