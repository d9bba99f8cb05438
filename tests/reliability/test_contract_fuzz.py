"""Hostile input 7: contract fuzzing with schemathesis against every service's OpenAPI document.

In-process against the embedded TeamMoa (ASGI), authenticated as a plain member (Bearer) of a team that
holds one object of each kind, every operation of a service gets its share of generated cases — 1,000
per service in full mode (TEAMMOA_RELIABILITY_FULL=1), 150 in the CI subset — valid and invalid input
alike. No answer may be a 5xx, and every answer must conform to the document: a documented status
class, the error envelope's schema on 4xx and 503, the documented content type.

A missing schemathesis is an import error here: a failure, never a skip.
"""

from __future__ import annotations

import math
import random
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python.asgi import get_client
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import PASSWORD, token_from_mail

from .conftest import FULL

CASES_PER_SERVICE = 1000 if FULL else 150
DOCUMENTS = {
    "auth": "/api/v1/users/openapi.json",
    "teams": "/api/v1/teams/openapi.json",
    "schedule": "/api/v1/schedules/openapi.json",
}
STATUSES: dict[int, int] = {}  # answers by class, for the report
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SPARED = {
    ("POST", "/api/v1/users/logout/"),
    ("DELETE", "/api/v1/users/me/"),
    ("POST", "/api/v1/users/change_password/"),
}  # would end the member's own session: fuzzed anonymously


def _sign_up(client, data_dir: str, name: str) -> tuple[int, str]:
    email = f"{name}@example.com"
    r = client.post(
        "/api/v1/users/register/", json={"username": name, "email": email, "nickname": name[:20], "password": PASSWORD}
    )
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/users/verify-email/", json={"token": token_from_mail(data_dir, email)}).status_code == 200
    r = client.post("/api/v1/users/login/", json={"login": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return r.json()["user"]["id"], r.json()["access_token"]


def _world(client, data_dir: str) -> tuple[str, dict[str, int]]:
    """A member's token and the ids of a team and one object of each kind in it."""
    _, host_token = _sign_up(client, data_dir, "fuzzhost" + uuid.uuid4().hex[:6])
    member_id, member_token = _sign_up(client, data_dir, "fuzzmember" + uuid.uuid4().hex[:6])
    host, member = {"Authorization": f"Bearer {host_token}"}, {"Authorization": f"Bearer {member_token}"}
    team = client.post(
        "/api/v1/teams/", json={"name": "Fuzz", "capacity": 50, "join_password": "team-pass-1"}, headers=host
    ).json()
    assert (
        client.post(
            "/api/v1/teams/join/", json={"invite_code": team["invite_code"], "password": "team-pass-1"}, headers=member
        ).status_code
        == 201
    )
    base = f"/api/v1/teams/{team['id']}/"
    ids = {"team_id": team["id"], "user_id": member_id}
    ids["milestone_id"] = client.post(
        base + "milestones/", json={"title": "M", "start_date": "2026-01-01", "end_date": "2026-02-01"}, headers=member
    ).json()["id"]
    ids["todo_id"] = client.post(base + "todos/", json={"content": "t"}, headers=member).json()["id"]
    ids["post_id"] = client.post(base + "posts/", json={"title": "p", "body": "b"}, headers=member).json()["id"]
    ids["file_id"] = client.post(
        f"{base}posts/{ids['post_id']}/files/", files={"file": ("a.txt", b"a")}, headers=member
    ).json()["files"][0]["id"]
    ids["map_id"] = client.post(base + "mindmaps/", json={"title": "m"}, headers=member).json()["id"]
    nodes = f"{base}mindmaps/{ids['map_id']}/nodes/"
    ids["node_id"] = client.post(nodes, json={"title": "a"}, headers=member).json()["id"]
    second = client.post(nodes, json={"title": "b"}, headers=member).json()["id"]
    ids["link_id"] = client.post(
        f"{base}mindmaps/{ids['map_id']}/links/", json={"source_id": ids["node_id"], "target_id": second}, headers=member
    ).json()["id"]
    ids["comment_id"] = client.post(f"{nodes}{ids['node_id']}/comments/", json={"body": "c"}, headers=member).json()["id"]
    meeting = {"title": "Sync", "start": "2030-01-07T10:00:00", "duration_minutes": 30}
    ids["meeting_id"] = client.post(base + "schedules/meetings/", json=meeting, headers=member).json()["id"]
    return member_token, ids


@pytest.fixture(name="fuzz_app")
def fx_fuzz_app(environ):
    from gateway.embedded import create_app

    app = create_app(environ)
    yield app
    from schemathesis.python.asgi import shutdown_lifespans

    shutdown_lifespans()


@pytest.mark.slow
@pytest.mark.parametrize("service", list(DOCUMENTS))
def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_document(fuzz_app, environ, service):
    with get_client(fuzz_app) as client:
        token, ids = _world(client, environ["TEAMMOA_DATA_DIR"])
    schema = schemathesis.openapi.from_asgi(DOCUMENTS[service], fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the document lists no operation"
    per_operation = math.ceil(CASES_PER_SERVICE / len(operations))
    failures: list[str] = []
    sent = [0]
    STATUSES.clear()
    for operation in operations:
        _fuzzer(operation, per_operation, token, ids, sent, failures, round_=0)()
    rich = [op for op in operations if op.path_parameters or op.query or op.body]  # small inputs run dry early
    for round_ in range(1, 6):
        if sent[0] >= CASES_PER_SERVICE:
            break
        extra = math.ceil((CASES_PER_SERVICE - sent[0]) / len(rich))
        for operation in rich:
            _fuzzer(operation, extra, token, ids, sent, failures, round_=round_)()
    print(
        f"\nRELIABILITY fuzz {service}: {sent[0]} cases over {len(operations)} operations, {len(failures)} failures; "
        f"answers by class {dict(sorted(STATUSES.items()))}"
    )
    assert sent[0] >= CASES_PER_SERVICE, sent
    assert not failures, failures[:20]


def _fuzzer(operation, examples: int, token: str, ids: dict[str, int], sent: list[int], failures: list[str], *, round_: int):
    """A hypothesis test of one operation: valid and invalid cases, sent as the member, checked."""
    spared = (operation.method.upper(), operation.path) in SPARED
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @seed(round_)
    @settings(
        max_examples=examples, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy, pick=st.randoms(use_true_random=False))
    def fuzz(case, pick: random.Random) -> None:
        for name in list(case.path_parameters or {}):
            if name == "team_id" or (name in ids and pick.random() < 0.7):
                case.path_parameters[name] = ids[name]  # reach the handlers, not only the 404s
        headers = {} if spared else {"Authorization": f"Bearer {token}"}
        response = case.call(headers=headers)
        sent[0] += 1
        STATUSES[response.status_code // 100 * 100] = STATUSES.get(response.status_code // 100 * 100, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:  # schemathesis raises its check failures as one exception (group)
            failures.append(
                f"{operation.method.upper()} {operation.path} → {response.status_code}: "
                f"{' | '.join(str(exc).splitlines()[:3])[:300]}"
            )

    return fuzz
