"""Request bodies are bounded while they stream, in every mode (the embedded server has no Nginx).

``BodyLimitMiddleware`` counts the bytes of every ``http.request`` message a service reads and raises
413 as soon as they pass the request's limit: ``DEFAULT_MAX_BODY_BYTES`` unless the endpoint raised it
with ``allow_body`` before reading (multipart uploads). Whatever reads the body — a JSON parser, a form
parser, the idempotency fingerprint — cannot hold more than the limit plus one chunk in memory.

``read_body`` reads a whole (bounded) body and keeps it on the request, so later readers see it again.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import PayloadTooLarge

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # API bodies are small; files go through multipart streaming
LIMIT_KEY = "teammoa.body_limit"
TOO_LARGE = "The request body is too large."


def body_limit(scope: Scope) -> int:
    return int(scope.get(LIMIT_KEY, DEFAULT_MAX_BODY_BYTES))


def allow_body(request: Request, limit: int) -> None:
    """Let this request's body grow to ``limit`` bytes (call before reading it)."""
    request.scope[LIMIT_KEY] = limit


def check_declared(request: Request, limit: int | None = None) -> None:
    """Refuse at once a body whose Content-Length is over the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > (limit or body_limit(request.scope)):
        raise PayloadTooLarge(TOO_LARGE)


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The whole body, at most ``limit`` bytes (the request's limit by default); 413 past it."""
    cached = getattr(request, "_body", None)
    if isinstance(cached, bytes):
        return cached
    limit = limit or body_limit(request.scope)
    check_declared(request, limit)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise PayloadTooLarge(TOO_LARGE)
    body = bytes(raw)
    request._body = body  # later readers (the endpoint after the idempotency check) get it again
    return body


class BodyLimitMiddleware:
    """Count the body while it streams; 413 once it passes the request's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > body_limit(scope):
                    raise PayloadTooLarge(TOO_LARGE)
            return message

        await self.app(scope, bounded, send)
