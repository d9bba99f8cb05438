"""The floor of ``tools/bench/stack_cpu.py``: the cheapest answer a Starlette app behind the gateway can give.

One route, any path, a small JSON body: what every request costs before any of TeamMoa's own work
(Nginx, uvicorn, Starlette routing). Started with the stack's own uvicorn command line.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def floor(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/{path:path}", floor, methods=["GET"])])
