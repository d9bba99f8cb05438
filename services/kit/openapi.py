"""A small OpenAPI 3.1 document built from the routes: path, methods, summary and the pydantic
models an endpoint declares with ``@documented(body=..., query=...)``."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

_PARAM = re.compile(r"{([^}:]+)(:[^}]+)?}")


def documented(*, body=None, query=None):
    """Attach request models to an endpoint so the OpenAPI document can describe them."""

    def mark(endpoint: Callable) -> Callable:
        endpoint.__openapi__ = {"body": body, "query": query}
        return endpoint
    return mark


def _operation(endpoint: Callable, method: str, path_params: list[str]) -> dict:
    doc = inspect.getdoc(endpoint) or endpoint.__name__.replace("_", " ")
    operation: dict = {"summary": doc.splitlines()[0], "operationId": f"{endpoint.__name__}_{method}",
                       "responses": {"default": {"description": "Error envelope or the resource"}}}
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in path_params]
    meta = getattr(endpoint, "__openapi__", {})
    if meta.get("query") is not None:
        schema = meta["query"].model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                           "schema": prop})
    if params:
        operation["parameters"] = params
    if meta.get("body") is not None and method in ("post", "put", "patch", "delete"):
        operation["requestBody"] = {"content": {"application/json": {"schema": meta["body"].model_json_schema()}}}
    return operation


def build_document(title: str, routes: Sequence[BaseRoute]) -> dict:
    paths: dict[str, dict] = {}
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


def openapi_endpoint(title: str, routes: Sequence[BaseRoute]):
    document: dict | None = None

    async def openapi(request: Request) -> JSONResponse:
        nonlocal document
        if document is None:
            document = build_document(title, routes)
        return JSONResponse(document)
    return openapi
