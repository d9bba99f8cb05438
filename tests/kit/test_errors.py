"""The error envelope, validation details and no-500 guarantees, on a tiny app built with the kit."""

import pytest
from pydantic import Field
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from services.kit.errors import Conflict, RateLimited, install_error_handlers
from services.kit.observability import RequestContextMiddleware, TrailingSlashMiddleware
from services.kit.validation import Schema, parse_body, path_int


class Item(Schema):
    title: str = Field(min_length=1, max_length=5)
    count: int = Field(ge=0)


async def create(request):
    item = await parse_body(request, Item)
    if item.title == "dup":
        raise Conflict("Already there.")
    return JSONResponse(item.model_dump(), status_code=201)


async def show(request):
    return JSONResponse({"id": path_int(request, "item_id")})


async def limited(request):
    raise RateLimited(12.2)


async def boom(request):
    raise RuntimeError("bug")


@pytest.fixture(name="tiny")
def fx_tiny():
    from starlette.middleware import Middleware

    app = Starlette(
        routes=[
            Route("/api/v1/items/", create, methods=["POST"]),
            Route("/api/v1/items/{item_id}/", show),
            Route("/api/v1/limited/", limited),
            Route("/api/v1/boom/", boom),
        ],
        middleware=[
            Middleware(RequestContextMiddleware, service="tiny", log_requests=False),
            Middleware(TrailingSlashMiddleware),
        ],
        exception_handlers=install_error_handlers(),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_validation_errors_are_422_with_field_details(tiny):
    response = tiny.post("/api/v1/items/", json={"title": "toolong", "count": -1})
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert {d["field"] for d in body["details"]} == {"title", "count"}


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b'{"title": "a"}',
        b'{"title": "a", "count": 1, "extra": 1}',
        b'{"title": 5, "count": "x"}',
    ],
)
def test_malformed_bodies_are_422_never_500(tiny, payload):
    response = tiny.post("/api/v1/items/", content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "error" in response.json()


def test_domain_errors_map_to_their_status(tiny):
    assert tiny.post("/api/v1/items/", json={"title": "dup", "count": 1}).status_code == 409
    limited = tiny.get("/api/v1/limited/")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "13"


def test_unknown_routes_and_methods_use_the_envelope(tiny):
    assert tiny.get("/api/v1/nothing/").json()["error"]["code"] == "not_found"
    response = tiny.delete("/api/v1/items/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "99999999999999999999999", "1.5"])
def test_non_numeric_or_huge_ids_are_404(tiny, raw):
    assert tiny.get(f"/api/v1/items/{raw}/").status_code == 404


def test_paths_without_the_trailing_slash_are_accepted(tiny):
    assert tiny.get("/api/v1/items/7").json() == {"id": 7}


def test_an_unexpected_error_is_a_500_envelope_without_details(tiny):
    response = tiny.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "bug" not in response.text


def test_every_response_carries_a_request_id_and_keeps_a_valid_one(tiny):
    assert len(tiny.get("/api/v1/items/1/").headers["x-request-id"]) >= 16
    assert tiny.get("/api/v1/items/1/", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    forged = tiny.get("/api/v1/items/1/", headers={"X-Request-ID": "bad id\twith spaces"})
    assert forged.headers["x-request-id"] != "bad id\twith spaces"
