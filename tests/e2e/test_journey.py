"""A user journey through the real Nginx in front of the multi-process stack: two people sign up and
verify through the stack's outbox, one creates a team and the other joins with its invite code, a todo
is assigned, a mind-map edit made over REST reaches sockets on both realtime instances, both mark their
availability and the suggestion is their overlap. Then the routes, and the health endpoints while one
service is stopped and after it is back.

The tests share one stack and build on each other, in file order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import uuid

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.e2e.accounts import Account, create_team, sign_up

pytestmark = pytest.mark.stack
TIMEOUT_S = 5


@pytest.fixture(name="http", scope="module")
def fx_http(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        yield client


@pytest.fixture(name="host", scope="module")
def fx_host(stack, http) -> Account:
    return sign_up(http, stack.data_dir, "host")


@pytest.fixture(name="mate", scope="module")
def fx_mate(stack, http) -> Account:
    return sign_up(http, stack.data_dir, "mate")


@pytest.fixture(name="team", scope="module")
def fx_team(http, host, mate) -> dict:
    return create_team(http, host, mate)


@pytest.fixture(name="week", scope="module")
def fx_week() -> dt.date:
    """A Monday at least a week ahead, so no slot of it has passed in any time zone."""
    today = dt.datetime.now(dt.UTC).date()
    return today + dt.timedelta(days=(7 - today.weekday()) % 7 + 7)


def _upstream_port(stack, request_id: str) -> int:
    """The instance port Nginx sent a request to, from its access log."""
    for _ in range(40):
        for entry in stack.access_log():
            if entry["request_id"] == request_id:
                return int(entry["upstream"].rsplit(":", 1)[1])
        time.sleep(0.05)
    raise AssertionError(f"request {request_id} not in the gateway's access log")


def _sockets_per_instance(stack) -> dict[int, int]:
    """How many sockets each realtime instance holds, asked of each instance directly."""
    headers = {"X-TeamMoa-Service-Token": stack.service_token}
    return {
        port: httpx.get(f"http://127.0.0.1:{port}/internal/realtime/stats/", headers=headers, timeout=5).json()[
            "connections"
        ]
        for port in stack.ports_of("realtime")
    }


def _open_socket(stack, account: Account, opened: contextlib.ExitStack, *, avoid: int | None = None):
    """A socket through the gateway, and the realtime port it landed on (not ``avoid``).

    Nginx balances sockets per worker, so a few tries may land on the same instance; those stay open
    until the test ends, so the counts only grow.
    """
    for _ in range(10):
        before = _sockets_per_instance(stack)
        ws = opened.enter_context(
            connect(
                stack.url.replace("http://", "ws://") + "/ws/",
                open_timeout=TIMEOUT_S,
                additional_headers={"Cookie": account.cookie_header, "Origin": stack.url},
            )
        )
        for _ in range(50):
            grown = [port for port, count in _sockets_per_instance(stack).items() if count > before[port]]
            if grown:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("no realtime instance counts the new socket")
        if grown[0] != avoid:
            return ws, grown[0]
    raise AssertionError(f"every socket landed on realtime port {avoid}")


def _next(ws: ClientConnection, op: str, channel: str) -> dict:
    """The next frame of an op on a channel (presence and the like are skipped)."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["op"] == op and frame.get("channel") == channel:
            return frame
        assert frame["op"] != "error", frame


def test_the_member_joined_with_the_invite_code_and_both_see_the_team(http, host, mate, team):
    for account in (host, mate):
        r = http.get(f"/api/v1/teams/{team['id']}/members/", headers=account.bearer)
        assert r.status_code == 200, r.text
        roles = {m["user_id"]: m["role"] for m in r.json()["items"]}
        assert roles == {host.id: "host", mate.id: "member"}
    r = http.get("/api/v1/teams/", headers=mate.bearer)
    assert [t["id"] for t in r.json()["items"]] == [team["id"]]


def test_an_unsafe_cookie_request_without_the_csrf_header_is_refused(http, host):
    r = http.post(
        "/api/v1/teams/",
        headers={"Cookie": host.cookie_header},
        json={"name": "No CSRF", "capacity": 2, "join_password": "join-pass-42"},
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"


def test_the_host_creates_a_todo_and_assigns_it_to_the_member(http, host, mate, team):
    todos = f"/api/v1/teams/{team['id']}/todos/"
    r = http.post(todos, headers=host.browser, json={"content": "Book the room"})
    assert r.status_code == 201, r.text
    todo = r.json()
    assert todo["assignee_id"] is None
    r = http.post(f"{todos}{todo['id']}/assign/", headers=host.browser, json={"user_id": mate.id})
    assert r.status_code == 200, r.text
    r = http.get(todos, headers=mate.bearer)
    assert r.status_code == 200, r.text
    [seen] = [t for t in r.json()["items"] if t["id"] == todo["id"]]
    assert seen["assignee_id"] == mate.id and seen["content"] == "Book the room"


def test_a_mind_map_edit_over_rest_reaches_a_socket_on_the_other_realtime_instance(stack, http, host, mate, team):
    team_channel = f"team.{team['id']}"
    with contextlib.ExitStack() as opened:
        mate_ws, mate_port = _open_socket(stack, mate, opened)
        host_ws, host_port = _open_socket(stack, host, opened, avoid=mate_port)
        assert {mate_port, host_port} == stack.ports_of("realtime")
        for ws in (mate_ws, host_ws):
            ws.send(json.dumps({"op": "subscribe", "channel": team_channel}))
            assert _next(ws, "subscribed", team_channel)["version"] is None

        r = http.post(f"/api/v1/teams/{team['id']}/mindmaps/", headers=host.browser, json={"title": "Launch plan"})
        assert r.status_code == 201, r.text
        mindmap = r.json()
        assert _next(mate_ws, "event", team_channel)["type"] == "mindmap.created"
        map_channel = f"mindmap.{mindmap['id']}"
        for ws in (mate_ws, host_ws):
            ws.send(json.dumps({"op": "subscribe", "channel": map_channel, "since": mindmap["version"]}))
            assert _next(ws, "subscribed", map_channel)["version"] == mindmap["version"]

        r = http.post(
            f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/nodes/",
            headers=host.browser,
            json={"title": "Venue", "x": 120, "y": 80},
        )
        assert r.status_code == 201, r.text
        node = r.json()
        for ws in (mate_ws, host_ws):
            event = _next(ws, "event", map_channel)
            assert event["type"] == "node.created" and event["version"] == mindmap["version"] + 1
            assert event["data"]["id"] == node["id"] and event["data"]["title"] == "Venue"
    r = http.get(f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/", headers=mate.bearer)
    assert r.json()["version"] == mindmap["version"] + 1
    assert [n["title"] for n in r.json()["nodes"]] == ["Venue"]


def test_the_suggestion_is_the_overlap_of_both_members_availability(http, host, mate, team, week):
    schedules = f"/api/v1/teams/{team['id']}/schedules"
    day = week.isoformat()
    for account, slots in ((host, list(range(18, 24))), (mate, list(range(20, 26)))):  # 9:00-12:00, 10:00-13:00
        r = http.put(f"{schedules}/me/?week={day}", headers=account.bearer, json={"week_start": day, "slots": {day: slots}})
        assert r.status_code == 200, r.text
        assert r.json()["slots"][day] == slots
    r = http.get(f"{schedules}/suggestions/", headers=mate.bearer, params={"start": day, "end": day, "duration_minutes": 60})
    assert r.status_code == 200, r.text
    best = r.json()["items"][0]
    assert best["everyone"] is True and best["attendance"] == 2
    assert best["start"] == f"{day}T10:00:00+09:00" and best["end"] == f"{day}T11:00:00+09:00"
    assert {a["user_id"] for a in best["attendees"]} == {host.id, mate.id}
    everyone = [item for item in r.json()["items"] if item["everyone"]]
    assert [item["start"][11:16] for item in everyone] == ["10:00", "11:00"]


def test_every_public_prefix_reaches_its_service(stack, http, host, team):
    t = team["id"]
    routes = [
        ("/api/v1/users/me/", "auth"),
        ("/api/v1/users/openapi.json", "auth"),
        ("/.well-known/jwks.json", "auth"),
        ("/api/v1/teams/", "teams"),
        (f"/api/v1/teams/{t}/", "teams"),
        (f"/api/v1/teams/{t}/todos/", "teams"),
        (f"/api/v1/teams/{t}/mindmaps/", "teams"),
        ("/api/v1/teams/openapi.json", "teams"),
        (f"/api/v1/teams/{t}/schedules/", "schedule"),
        (f"/api/v1/teams/{t}/schedules/me/", "schedule"),
        ("/api/v1/schedules/openapi.json", "schedule"),
    ]
    for path, service in routes:
        request_id = "route-" + uuid.uuid4().hex
        r = http.get(path, headers={"X-Request-ID": request_id, **host.bearer})
        assert r.status_code == 200, (path, r.text)
        assert _upstream_port(stack, request_id) in stack.ports_of(service), path
    for path in ("/api/v1/nothing/", "/internal/users/batch", "/metrics", "/internal/"):
        r = http.get(path, headers=host.bearer)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path


def _health(http) -> dict[str, int]:
    return {part: http.get(f"/health/{part}/").status_code for part in ("auth", "teams", "schedule", "realtime", "gateway")}


def _whole_health(http, expected: int) -> httpx.Response:
    """/health/ once it answers ``expected`` (the gateway reuses its answer for a second)."""
    deadline = time.monotonic() + 10
    while (r := http.get("/health/")).status_code != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return r


def test_a_stopped_service_fails_its_health_and_the_whole_until_it_is_back(stack, http, host, team):
    stopped = stack.run("stop", "schedule")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    try:
        assert _health(http) == {"auth": 200, "teams": 200, "schedule": 503, "realtime": 200, "gateway": 200}
        whole = _whole_health(http, 503)
        assert whole.status_code == 503
        assert {part for part, report in whole.json()["services"].items() if not report["ok"]} == {"schedule"}
        r = http.get(f"/api/v1/teams/{team['id']}/schedules/", headers=host.bearer)
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable" and r.headers["retry-after"]
        assert http.get(f"/api/v1/teams/{team['id']}/", headers=host.bearer).status_code == 200
    finally:
        started = stack.run("start", "schedule")
        stack.reload_state()
    assert started.returncode == 0, started.stdout + started.stderr
    assert _health(http) == dict.fromkeys(("auth", "teams", "schedule", "realtime", "gateway"), 200)
    assert _whole_health(http, 200).status_code == 200
    assert http.get(f"/api/v1/teams/{team['id']}/schedules/", headers=host.bearer).status_code == 200
