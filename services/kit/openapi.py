"""A small OpenAPI 3.1 document built from the routes: path, methods, summary and the pydantic
models an endpoint declares with ``@documented(body=..., query=...)``.

Every operation also documents what any client can rely on: ids in paths are positive integers, an
error (4xx, 503) is the JSON envelope of ``kit.errors``, and no operation answers 500 — which is what
the contract fuzzing in tests/reliability checks every answer against."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from .responses import json

_PARAM = re.compile(r"{([^}:]+)(:[^}]+)?}")
Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[object]])
Json = dict[str, Any]


class Models(NamedTuple):
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    redirects: bool = False  # it answers a browser navigation with a 3xx


_MODELS: dict[Callable[..., object], Models] = {}  # endpoint -> its request models, filled at import


def documented(
    *, body: type[BaseModel] | None = None, query: type[BaseModel] | None = None, redirects: bool = False
) -> Callable[[Endpoint], Endpoint]:
    """Attach request models to an endpoint so the OpenAPI document can describe them (``redirects``: it
    answers a browser navigation with a 3xx)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        _MODELS[endpoint] = Models(body, query, redirects)
        return endpoint

    return mark


ERROR_ENVELOPE = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "minLength": 1},
                "message": {"type": "string"},
                "details": {"type": "array"},
            },
        }
    },
}
_ERROR = {"description": "The error envelope", "content": {"application/json": {"schema": ERROR_ENVELOPE}}}


def _path_schema(name: str) -> Json:
    return {"type": "integer", "minimum": 1} if name.endswith("_id") else {"type": "string"}


def _operation(endpoint: Callable[..., object], method: str, path_params: list[str]) -> Json:
    doc = inspect.getdoc(endpoint) or endpoint.__name__.replace("_", " ")
    operation: Json = {
        "summary": doc.splitlines()[0],
        "operationId": f"{endpoint.__name__}_{method}",
        "responses": {"2XX": {"description": "The resource (204: nothing)"}, "4XX": _ERROR, "503": _ERROR},
    }
    params = [{"name": name, "in": "path", "required": True, "schema": _path_schema(name)} for name in path_params]
    meta = _MODELS.get(endpoint, Models(None, None))
    if meta.redirects:
        operation["responses"]["3XX"] = {"description": "A redirect for the browser (Location)"}
    if meta.query is not None:
        schema = meta.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop})
    if params:
        operation["parameters"] = params
    if meta.body is not None and method in ("post", "put", "patch", "delete"):
        operation["requestBody"] = {"content": {"application/json": {"schema": meta.body.model_json_schema()}}}
    return operation


def build_document(title: str, routes: Sequence[BaseRoute]) -> Json:
    paths: dict[str, Json] = {}
    for route in routes:
        if not isinstance(route, Route) or route.path.startswith("/internal"):
            continue
        path = _PARAM.sub(r"{\1}", route.path)
        names = [m.group(1) for m in _PARAM.finditer(route.path)]
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            paths.setdefault(path, {})[method.lower()] = _operation(route.endpoint, method.lower(), names)
    return {"openapi": "3.1.0", "info": {"title": title, "version": "1"}, "paths": paths}


def openapi_endpoint(title: str, routes: Sequence[BaseRoute]) -> Callable[[Request], Awaitable[JSONResponse]]:
    document: Json | None = None

    async def openapi(request: Request) -> JSONResponse:
        nonlocal document
        if document is None:
            document = build_document(title, routes)
        return json(document)

    return openapi
