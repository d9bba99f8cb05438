"""kit.responses.json renders the same JSON as Starlette's JSONResponse, only faster."""

import json as stdjson

import pytest
from starlette.responses import JSONResponse

from services.kit.responses import json


@pytest.mark.parametrize(
    "data",
    [
        {"items": [{"id": 1, "title": "Café ☕ 회의", "done": True, "at": None, "share": 0.25}], "page": 1, "total": 1},
        {"quote": 'say "hi"\n\tand\\leave', "control": "\u0001", "slash": "a/b", "emoji": "🙂"},
        [],
        {"big": 2**62, "negative": -3, "float": 12.5, "nested": {"empty": {}, "list": [[], [1, [2]]]}},
    ],
)
def test_json_responses_carry_the_same_bytes_as_the_standard_encoding(data):
    assert json(data).body == JSONResponse(data).body


def test_floats_read_back_as_the_same_numbers():
    data = {"tiny": 1e-7, "third": 1 / 3, "large": 1.5e300}
    assert stdjson.loads(json(data).body) == data


def test_integer_keys_become_strings_as_in_the_standard_encoding():
    assert json({1: "a", 2: "b"}).body == b'{"1":"a","2":"b"}'


def test_status_and_headers_are_kept():
    response = json({"ok": True}, status=201, headers={"Cache-Control": "no-store"})
    assert (response.status_code, response.headers["cache-control"], response.headers["content-type"]) == (
        201,
        "no-store",
        "application/json",
    )
