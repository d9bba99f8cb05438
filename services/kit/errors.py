"""Domain errors and the one JSON error envelope.

    AppError                 400 bad_request
    ├── NotAuthenticated     401 not_authenticated
    ├── PermissionDenied     403 permission_denied
    ├── NotFound             404 not_found       (also anything outside the caller's teams)
    ├── Conflict             409 conflict
    ├── PayloadTooLarge      413 payload_too_large
    ├── InvalidInput         422 invalid          (details: [{"field", "message", "type"}])
    ├── RateLimited          429 rate_limited     (Retry-After)
    ├── Unavailable          503 unavailable      (a dependency is down)
    └── Overloaded           503 overloaded       (Retry-After: too busy now, refused fast; kit.admission)

Services raise these; ``install_error_handlers`` turns them and everything else into
``{"error": {"code", "message", "details"}}`` in exactly one place.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ExceptionHandler

log = logging.getLogger("teammoa.errors")


class AppError(Exception):
    status = 400
    code = "bad_request"
    message = "The request is not valid."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.details = details if details is not None else []
        self.headers = headers or {}


class NotAuthenticated(AppError):
    status, code, message = 401, "not_authenticated", "Sign in to continue."


class PermissionDenied(AppError):
    status, code, message = 403, "permission_denied", "You are not allowed to do that."


class NotFound(AppError):
    status, code, message = 404, "not_found", "Not found."


class MethodNotAllowed(AppError):
    status, code, message = 405, "method_not_allowed", "This method is not allowed here."


class Conflict(AppError):
    status, code, message = 409, "conflict", "That conflicts with the current state."


class PayloadTooLarge(AppError):
    status, code, message = 413, "payload_too_large", "The upload is too large."


class InvalidInput(AppError):
    status, code, message = 422, "invalid", "Some fields are not valid."

    @classmethod
    def field(cls, field: str, message: str, type_: str = "value_error") -> InvalidInput:
        return cls(message, details=[{"field": field, "message": message, "type": type_}])


class RateLimited(AppError):
    status, code, message = 429, "rate_limited", "Too many attempts. Try again later."

    def __init__(self, retry_after_s: float, message: str | None = None) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(
            message, headers={"Retry-After": str(self.retry_after_s)}, details=[{"retry_after": self.retry_after_s}]
        )


class Unavailable(AppError):
    status, code, message = 503, "unavailable", "The service is temporarily unavailable. Try again shortly."


class Overloaded(Unavailable):
    """Too many requests at work or waiting in this process: refused at once rather than queued."""

    code, message = "overloaded", "The service is busy. Try again shortly."

    def __init__(self, retry_after_s: float = 1, message: str | None = None) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(
            message, headers={"Retry-After": str(self.retry_after_s)}, details=[{"retry_after": self.retry_after_s}]
        )

    def response(self) -> JSONResponse:
        """The envelope, for middleware that answers before the exception handlers."""
        return envelope(self.status, self.code, self.message, self.details, self.headers)


HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def envelope(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details if details is not None else []}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404:
        message = "Not found."
    return envelope(exc.status_code, HTTP_CODES.get(exc.status_code, "error"), message, headers=exc.headers)


def _is_database_outage(exc: BaseException) -> bool:
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    if name in {"OperationalError", "InterfaceError"} and (
        "pymysql" in module or "aiomysql" in module or "asyncmy" in module or "sqlite" in module or "sqlalchemy" in module
    ):
        return True
    return isinstance(exc, (ConnectionError, TimeoutError)) or name in {"ConnectionError", "TimeoutError"}


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if _is_database_outage(exc):
        log.warning("dependency unavailable: %r", exc)
        return envelope(503, "unavailable", Unavailable.message, headers={"Retry-After": "1"})
    log.exception("unhandled error", exc_info=exc)
    return envelope(500, "internal_error", "Something went wrong on our side.")


def install_error_handlers() -> dict[Any, ExceptionHandler]:
    """The exception handlers every service's app is built with."""
    return {AppError: _app_error, HTTPException: _http_error, Exception: _unexpected}
