"""Parse request input into pydantic models; every failure becomes a 422 with field details."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from . import jsonsafe
from .bodies import DEFAULT_MAX_BODY_BYTES, check_declared, read_body
from .errors import InvalidInput, NotFound

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BODY_BYTES = DEFAULT_MAX_BODY_BYTES  # API bodies are small; files go through multipart streaming


class Schema(BaseModel):
    """Base of every request model: unknown fields are refused, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def details_of(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        message = err["msg"].removeprefix("Value error, ")
        out.append({"field": _field_name(err["loc"]), "message": message, "type": err["type"]})
    return out


def validate(model: type[M], data: Any) -> M:
    """Validate already-parsed data against a model."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(details=details_of(exc)) from None


async def read_json(request: Request, *, allow_form: bool = False) -> Any:
    """Read a JSON body (or a form body where allowed); malformed input is a 422."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if allow_form and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        check_declared(request, MAX_JSON_BODY_BYTES)  # the form is bounded while it streams (kit.bodies)
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    raw = await read_body(request, MAX_JSON_BODY_BYTES)
    if not raw.strip():
        return {}
    try:
        return jsonsafe.loads(raw)
    except jsonsafe.TooDeep:
        raise InvalidInput(
            "The body nests too deeply.",
            details=[{"field": "body", "message": f"At most {jsonsafe.MAX_DEPTH} levels.", "type": "json_too_deep"}],
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "The body is not valid JSON.", details=[{"field": "body", "message": "Not valid JSON.", "type": "json_invalid"}]
        ) from None


async def parse_body(request: Request, model: type[M], *, allow_form: bool = False) -> M:
    """Read and validate a request body."""
    return validate(model, await read_json(request, allow_form=allow_form))


def parse_query(request: Request, model: type[M]) -> M:
    """Validate the query string (last value wins for repeated keys)."""
    return validate(model, dict(request.query_params))


def path_int(request: Request, name: str) -> int:
    """An integer path parameter of ASCII digits; anything else (or too large) is a 404, as for an unknown id."""
    value = request.path_params.get(name)
    if isinstance(value, int):
        number = value
    else:
        text = str(value)
        if not (text.isascii() and text.isdigit()) or len(text) > 18:  # not '²' or '١'
            raise NotFound()
        number = int(text)
    if number < 1 or number > 2**62:
        raise NotFound()
    return number
