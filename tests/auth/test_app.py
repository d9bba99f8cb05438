"""The auth app as a whole: health, OpenAPI, the error envelope, the development outbox, what the
embedded gateway hides, and a small fuzz proving no input produces a 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.auth.conftest import API, call_auth, register
from tests.conftest import PASSWORD


def test_health_of_the_whole_and_of_auth_is_ok(client):
    whole = client.get("/health/")
    auth = client.get("/health/auth/")

    assert whole.status_code == 200, whole.text
    assert whole.json()["status"] == "ok"
    assert auth.status_code == 200
    assert auth.json()["service"] == "auth" and auth.json()["checks"]["database"]["ok"] is True


@pytest.mark.parametrize("path", ["/internal/users/batch", "/internal/", "/metrics", "/metrics/"])
def test_the_gateway_hides_internal_endpoints_and_metrics(client, path):
    for method in ("GET", "POST"):
        response = client.request(method, path, json={"ids": [1]})
        assert response.status_code == 404, (method, response.text)
        assert "users" not in response.text


def test_the_openapi_document_lists_the_public_endpoints_only(client):
    response = client.get(f"{API}/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {f"{API}/register/", f"{API}/login/", f"{API}/me/", "/.well-known/jwks.json"} <= set(paths)
    assert set(paths[f"{API}/me/"]) == {"get", "patch", "delete"}
    assert "requestBody" in paths[f"{API}/register/"]["post"]
    assert not any(path.startswith("/internal") for path in paths)


def test_an_unknown_path_is_a_404_in_the_error_envelope(client):
    response = client.get(f"{API}/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "details": []}}


def test_a_wrong_method_is_a_405_in_the_error_envelope(client):
    response = client.get(f"{API}/login/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_validation_errors_name_each_field(client):
    response = client.post(f"{API}/register/", json={"username": "a", "email": "b"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert {d["field"] for d in error["details"]} == {"username", "email", "nickname", "password"}
    assert all(set(d) == {"field", "message", "type"} for d in error["details"])


def test_an_oversized_body_is_a_413(client):
    response = client.post(
        f"{API}/register/", content=b"{" + b" " * (1024 * 1024 + 1) + b"}", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413


def test_the_development_outbox_lists_mails_newest_first_with_their_links(client, data_dir):
    register(client, "alice")
    register(client, "bob")

    response = client.get(f"{API}/dev/outbox/")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["to"] for item in items] == ["bob@example.com", "alice@example.com"]
    assert items[0]["subject"] and items[0]["sent_at"]
    [link] = items[0]["links"]
    assert link.startswith("http://testserver/verify-email?token=")


def test_the_development_outbox_is_hidden_outside_embedded_mode(client, app):
    app.apps["auth"].state.outbox_visible = False

    assert client.get(f"{API}/dev/outbox/").status_code == 404


# --- no input of any shape produces a 5xx -----------------------------------------------------------------

FIELDS = {
    "register/": ["username", "email", "nickname", "password", "profile"],
    "verify-email/": ["token"],
    "resend-verification/": ["email"],
    "login/": ["login", "password"],
    "refresh/": ["refresh_token"],
    "logout/": ["refresh_token"],
    "password-reset/": ["email"],
    "password-reset/confirm/": ["token", "new_password"],
    "me/": ["nickname", "profile", "password"],
    "change_password/": ["current_password", "new_password"],
    "batch": ["ids"],
}
PLAUSIBLE = [
    "alice",
    "alice@example.com",
    "ALICE@EXAMPLE.COM",
    PASSWORD,
    "",
    " ",
    "a" * 300,
    "\x00",
    "İİİİ",
    "😀😀",
    "former:1",
    "1",
    "1e309",
]
huge = st.integers(min_value=2**62, max_value=2**80) | st.integers(min_value=-(2**80), max_value=-(2**62))
encodable = st.text(max_size=300) | st.sampled_from(PLAUSIBLE)  # what a URL or a form can carry
texts = encodable | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(), max_size=10)
scalars = st.none() | st.booleans() | st.integers() | huge | st.floats() | texts
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
anything = scalars | st.lists(scalars, max_size=4) | values


def bodies(endpoint: str) -> st.SearchStrategy[str]:
    """JSON texts aimed at one endpoint: its own fields, well typed or not, other keys, any JSON, non-JSON."""
    well_typed = st.lists(st.integers() | huge, max_size=5) if endpoint == "batch" else texts
    own = st.fixed_dictionaries({}, optional={name: well_typed | anything for name in FIELDS[endpoint]})
    any_keys = st.dictionaries(
        st.sampled_from([f for names in FIELDS.values() for f in names]) | st.text(max_size=12), values, max_size=6
    )
    return (own | own | any_keys | values).map(json.dumps) | st.binary(max_size=64).map(lambda raw: raw.decode("latin-1"))


FUZZ = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SIGNED_IN = [("PATCH", "me/"), ("DELETE", "me/"), ("POST", "change_password/")]


def _assert_handled(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}


def _json(body: str) -> dict:
    return {"content": body.encode("utf-8", "surrogatepass"), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize("endpoint", [name for name in FIELDS if name not in ("me/", "change_password/", "batch")])
def test_no_body_makes_an_anonymous_endpoint_fail(client, endpoint):
    @FUZZ
    @given(body=bodies(endpoint))
    def post(body: str) -> None:
        _assert_handled(client.post(f"{API}/{endpoint}", **_json(body)))

    post()


@pytest.mark.parametrize(("method", "endpoint"), SIGNED_IN)
def test_no_body_makes_a_signed_in_endpoint_fail(client, signup, method, endpoint):
    alice = signup("alice")

    @FUZZ
    @given(body=bodies(endpoint))
    def send(body: str) -> None:
        request = _json(body)
        request["headers"].update(alice.headers)
        _assert_handled(client.request(method, f"{API}/{endpoint}", **request))

    send()


def test_no_form_body_makes_login_fail(client):
    @FUZZ
    @given(form=st.dictionaries(st.sampled_from(["login", "password"]) | st.text(max_size=8), encodable, max_size=4))
    def post(form: dict) -> None:
        _assert_handled(client.post(f"{API}/login/", data=form))

    post()


def test_no_query_makes_the_availability_check_fail(client):
    @FUZZ
    @given(
        query=st.dictionaries(
            st.sampled_from(["username", "email", "nickname"]) | st.text(max_size=8), encodable, max_size=4
        )
    )
    def get(query: dict) -> None:
        _assert_handled(client.get(f"{API}/check_availability/", params=query))

    get()


def test_no_body_makes_the_internal_batch_fail(client, app):
    @FUZZ
    @given(body=bodies("batch"))
    def post(body: str) -> None:
        _assert_handled(call_auth(client, app, "POST", "/internal/users/batch", **_json(body)))

    post()
