"""Hostile input 8: the authorization matrix of every public route of every service.

Each route is called as anonymous, an outsider (signed in, not in the team), a plain member and the host,
and — where its path names objects — by the member and the host with another team's object ids under
their own team id. Every cell must equal the table; a route added to any app without a row here fails
``test_the_matrix_has_a_row_for_every_public_route``. (tests/teams/test_access.py proves the teams core
in more depth; this table spans auth, teams, mind maps, schedule and realtime.)

Objects named in a path belong to another member ("other"): the plain member is neither their author nor
their assignee, so author- and assignee-only rules show as 403. Each row gets fresh objects.
"""

from __future__ import annotations

import json
import re

import pytest
from starlette.routing import Route, WebSocketRoute
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

TEAM_PASSWORD = "team-pass-1"
T = "/api/v1/teams/{team_id}/"
M = T + "mindmaps/{map_id}/"
N = M + "nodes/{node_id}/"
S = T + "schedules/"
U = "/api/v1/users/"
MILESTONE = {"title": "M", "start_date": "2026-01-01", "end_date": "2026-12-31"}
WEEK = {"week_start": "2026-11-30", "slots": {"2026-12-01": [18, 19]}}
MEETING = {"title": "Sync", "start": "2030-01-07T10:00:00", "duration_minutes": 30}
CSV = ("csv", "2026-12-01,09:00,10:00\n")
UPLOAD = ("upload", None)
ANY = "any"  # an answer to a request body that is deliberately wrong: anything but 401/403/404/5xx

# (method, path template, body) → expected status for anonymous, outsider, member, host; cross: the status
# for member and host using team B's object ids under team A (None when the path names no object).
TEAMS = [
    ("GET", "/api/v1/teams/", None, 401, 200, 200, 200, None),
    ("POST", "/api/v1/teams/", {"name": "N", "capacity": 3, "join_password": TEAM_PASSWORD}, 401, 201, 201, 201, None),
    ("POST", "/api/v1/teams/join/preview/", {"invite_code": "{invite}"}, 401, 200, 200, 200, None),
    ("POST", "/api/v1/teams/join/", {"invite_code": "{invite}", "password": TEAM_PASSWORD}, 401, 201, 409, 409, None),
    ("GET", T, None, 401, 404, 200, 200, None),
    ("PATCH", T, {"description": "d"}, 401, 404, 403, 200, None),
    ("DELETE", T, None, 401, 404, 403, 204, None),
    ("GET", T + "statistics/", None, 401, 404, 200, 200, None),
    ("POST", T + "invite-code/", None, 401, 404, 403, 200, None),
    ("PUT", T + "password/", {"password": "new-pass-1"}, 401, 404, 403, 204, None),
    ("GET", T + "members/", None, 401, 404, 200, 200, None),
    ("DELETE", T + "members/{user_id}/", None, 401, 404, 403, 204, None),
    ("PUT", T + "host/", {"user_id": "{user_id}"}, 401, 404, 403, 200, None),
    ("GET", T + "milestones/", None, 401, 404, 200, 200, None),
    ("POST", T + "milestones/", MILESTONE, 401, 404, 201, 201, None),
    ("GET", T + "milestones/{milestone_id}/", None, 401, 404, 200, 200, 404),
    ("PATCH", T + "milestones/{milestone_id}/", {"title": "T"}, 401, 404, 200, 200, 404),
    ("DELETE", T + "milestones/{milestone_id}/", None, 401, 404, 204, 204, 404),
    ("GET", T + "todos/", None, 401, 404, 200, 200, None),
    ("POST", T + "todos/", {"content": "c"}, 401, 404, 201, 201, None),
    ("GET", T + "todos/{todo_id}/", None, 401, 404, 200, 200, 404),
    ("PATCH", T + "todos/{todo_id}/", {"content": "c"}, 401, 404, 403, 200, 404),
    ("DELETE", T + "todos/{todo_id}/", None, 401, 404, 403, 204, 404),
    ("POST", T + "todos/{todo_id}/assign/", {"user_id": "{me}"}, 401, 404, 403, 200, 404),
    ("POST", T + "todos/{todo_id}/complete/", {"completed": True}, 401, 404, 403, 200, 404),
    ("POST", T + "todos/{todo_id}/move-to-todo/", None, 401, 404, 403, 200, 404),
    ("POST", T + "todos/{todo_id}/move-to-done/", None, 401, 404, 403, 200, 404),
    ("POST", T + "todos/{todo_id}/reorder/", {"position": 0}, 401, 404, 403, 200, 404),
    ("POST", T + "todos/{todo_id}/assign-milestone/", {"milestone_id": "{milestone_id}"}, 401, 404, 200, 200, 404),
    ("GET", T + "posts/", None, 401, 404, 200, 200, None),
    ("POST", T + "posts/", {"title": "P"}, 401, 404, 201, 201, None),
    ("GET", T + "posts/{post_id}/", None, 401, 404, 200, 200, 404),
    ("PATCH", T + "posts/{post_id}/", {"title": "P"}, 401, 404, 403, 403, 404),
    ("DELETE", T + "posts/{post_id}/", None, 401, 404, 403, 204, 404),
    ("POST", T + "posts/{post_id}/files/", UPLOAD, 401, 404, 403, 403, 404),
    ("DELETE", T + "posts/{post_id}/files/{file_id}/", None, 401, 404, 403, 403, 404),
    ("GET", T + "files/{file_id}/", None, 401, 404, 200, 200, 404),
]
MINDMAPS = [
    ("GET", T + "mindmaps/", None, 401, 404, 200, 200, None),
    ("POST", T + "mindmaps/", {"title": "{unique}"}, 401, 404, 201, 201, None),
    ("GET", M, None, 401, 404, 200, 200, 404),
    ("DELETE", M, None, 401, 404, 403, 204, 404),
    ("POST", M + "nodes/", {"title": "n"}, 401, 404, 201, 201, 404),
    ("GET", N, None, 401, 404, 200, 200, 404),
    ("PATCH", N, {"title": "t"}, 401, 404, 200, 200, 404),
    ("DELETE", N, None, 401, 404, 204, 204, 404),
    ("POST", M + "links/", {"source_id": "{node_id}", "target_id": "{node2_id}"}, 401, 404, 201, 201, 404),
    ("DELETE", M + "links/{link_id}/", None, 401, 404, 204, 204, 404),
    ("GET", N + "comments/", None, 401, 404, 200, 200, 404),
    ("POST", N + "comments/", {"body": "c"}, 401, 404, 201, 201, 404),
    ("PATCH", N + "comments/{comment_id}/", {"body": "e"}, 401, 404, 403, 403, 404),
    ("DELETE", N + "comments/{comment_id}/", None, 401, 404, 403, 204, 404),
    ("PUT", N + "vote/", None, 401, 404, 200, 200, 404),
    ("DELETE", N + "vote/", None, 401, 404, 200, 200, 404),
]
SCHEDULE = [
    ("GET", S, None, 401, 404, 200, 200, None),
    ("GET", S + "me/", None, 401, 404, 200, 200, None),
    ("PUT", S + "me/", WEEK, 401, 404, 200, 200, None),
    ("POST", S + "me/import/", CSV, 401, 404, 200, 200, None),
    ("GET", S + "me/export/", None, 401, 404, 200, 200, None),
    ("GET", S + "suggestions/?duration_minutes=60", None, 401, 404, 200, 200, None),
    ("GET", S + "ics/?start=2026-12-01T09:00:00Z&end=2026-12-01T10:00:00Z", None, 401, 404, 200, 200, None),
    # Meetings: "other" proposed the row's meeting, so the plain member may read and answer it, not change it.
    ("GET", S + "meetings/", None, 401, 404, 200, 200, None),
    ("POST", S + "meetings/", MEETING, 401, 404, 201, 201, None),
    ("GET", S + "meetings/conflicts/?start=2030-01-07T10:00:00", None, 401, 404, 200, 200, None),
    ("GET", S + "meetings/settings/", None, 401, 404, 200, 200, None),
    ("PUT", S + "meetings/settings/", {"reminder_minutes": 60}, 401, 404, 403, 200, None),
    ("GET", S + "meetings/{meeting_id}/", None, 401, 404, 200, 200, 404),
    ("PATCH", S + "meetings/{meeting_id}/", {"title": "T"}, 401, 404, 403, 200, 404),
    ("POST", S + "meetings/{meeting_id}/confirm/", None, 401, 404, 403, 200, 404),
    ("POST", S + "meetings/{meeting_id}/cancel/", None, 401, 404, 403, 200, 404),
    ("PUT", S + "meetings/{meeting_id}/answer/", {"answer": "going"}, 401, 404, 200, 200, 404),
    # The private calendar feed: managed by its signed-in owner; the .ics URL is its own secret ({token}: a
    # well-formed token nobody was given, which must reveal nothing to anyone).
    ("GET", "/api/v1/schedules/feed/", None, 401, 200, 200, 200, None),
    ("POST", "/api/v1/schedules/feed/", None, 401, 201, 201, 201, None),
    ("DELETE", "/api/v1/schedules/feed/", None, 401, 204, 204, 204, None),
    ("GET", "/api/v1/schedules/feed/{token}.ics", None, 404, 404, 404, 404, None),
]
# Accounts are not team-scoped: outsider, member and host are all just signed-in users.
AUTH = [
    ("POST", U + "register/", {}, 422, 422, 422, 422, None),
    ("GET", U + "check_availability/?username=someone", None, 200, 200, 200, 200, None),
    ("POST", U + "verify-email/", {"token": "forged-token"}, ANY, ANY, ANY, ANY, None),
    ("POST", U + "resend-verification/", {"email": "nobody@example.com"}, 202, 202, 202, 202, None),
    ("POST", U + "login/", {"login": "nobody", "password": "wrong-pass-1"}, 401, 401, 401, 401, None),
    ("POST", U + "refresh/", {}, 401, 401, 401, 401, None),
    ("POST", U + "logout/", {}, 204, 204, 204, 204, None),
    ("GET", U + "me/", None, 401, 200, 200, 200, None),
    ("PATCH", U + "me/", {"profile": "p"}, 401, 200, 200, 200, None),
    ("DELETE", U + "me/", {"password": "wrong-pass-1"}, 401, ANY, ANY, ANY, None),
    (
        "POST",
        U + "change_password/",
        {"current_password": "wrong-pass-1", "new_password": "Another-Pass-9"},
        401,
        ANY,
        ANY,
        ANY,
        None,
    ),
    ("POST", U + "password-reset/", {"email": "nobody@example.com"}, 202, 202, 202, 202, None),
    ("POST", U + "password-reset/confirm/", {"token": "forged", "new_password": "Another-Pass-9"}, ANY, ANY, ANY, ANY, None),
    ("GET", U + "dev/outbox/", None, 200, 200, 200, 200, None),  # embedded mode only (404 in production)
    # Provider sign-in (GitHub configured here, see fx_environ): going to the provider and coming back are a
    # browser's navigations, signed in or not; without this browser's flow cookie the callback is refused (303).
    ("GET", U + "oauth/providers/", None, 200, 200, 200, 200, None),
    ("GET", U + "oauth/{provider}/start/", None, 302, 302, 302, 302, None),
    ("GET", U + "oauth/{provider}/callback/?state=forged&code=forged", None, 303, 303, 303, 303, None),
    ("POST", U + "oauth/{provider}/connect/", None, 401, 200, 200, 200, None),
    ("GET", U + "oauth/signup/", None, 404, 404, 404, 404, None),  # no sign-up waiting in this browser
    ("POST", U + "oauth/signup/", {"username": "someone", "nickname": "Some"}, 404, 404, 404, 404, None),
    ("GET", U + "me/identities/", None, 401, 200, 200, 200, None),
    ("DELETE", U + "me/identities/{identity_id}/", None, 401, 404, 404, 404, None),  # another account's
    ("POST", U + "me/password/", {"new_password": "Another-Pass-9"}, 401, 409, 409, 409, None),  # they have one
    ("GET", "/.well-known/jwks.json", None, 200, 200, 200, 200, None),
    ("GET", U + "openapi.json", None, 200, 200, 200, 200, None),
    ("GET", "/api/v1/teams/openapi.json", None, 200, 200, 200, 200, None),
    ("GET", "/api/v1/schedules/openapi.json", None, 200, 200, 200, 200, None),
]
MATRIX = AUTH + TEAMS + MINDMAPS + SCHEDULE
SOCKET = ("WS", "/ws/")  # anonymous: refused at the handshake; outsider: "forbidden"; member, host: subscribed
PLACEHOLDER = re.compile(r"{(\w+)}")
OTHERS_IDENTITY = [0]  # the id of a provider identity connected to "other"
UNROUTED = ("/internal", "/health", "/livez", "/metrics")


@pytest.fixture(name="environ")
def fx_environ(environ):
    """The usual embedded TeamMoa, with GitHub as a configured sign-in provider (never reached: the rows
    stop at the redirect to it, or refuse before asking it)."""
    return {
        **environ,
        "TEAMMOA_GITHUB_CLIENT_ID": "matrix-client",
        "TEAMMOA_GITHUB_CLIENT_SECRET": "matrix-secret",
        "TEAMMOA_GITHUB_URL": "http://127.0.0.1:9",
        "TEAMMOA_GITHUB_API_URL": "http://127.0.0.1:9",
    }


class World:
    """A team whose host, member and other member act on objects made fresh for each row."""

    def __init__(self, client, host, member, other, name: str) -> None:
        self.client, self.host, self.member, self.other = client, host, member, other
        r = client.post(
            "/api/v1/teams/", json={"name": name, "capacity": 50, "join_password": TEAM_PASSWORD}, headers=host.headers
        )
        assert r.status_code == 201, r.text
        self.team = r.json()
        for user in (member, other):
            self.join(user)
        self.made: dict[str, int] = {}
        self.serial = 0

    def join(self, user) -> None:
        r = self.client.post(
            "/api/v1/teams/join/",
            json={"invite_code": self.team["invite_code"], "password": TEAM_PASSWORD},
            headers=user.headers,
        )
        assert r.status_code == 201, r.text

    def _post(self, path: str, body: dict, user=None) -> dict:
        r = self.client.post(f"/api/v1/teams/{self.team['id']}/{path}", json=body, headers=(user or self.other).headers)
        assert r.status_code == 201, (path, r.text)
        return r.json()

    def _make(self, name: str) -> int:
        if name == "team_id":
            return self.team["id"]
        if name == "user_id":
            return self.other.id
        if name == "milestone_id":
            return self._post("milestones/", MILESTONE)["id"]
        if name == "todo_id":
            todo = self._post("todos/", {"content": "t"}, self.host)
            self.client.post(
                f"/api/v1/teams/{self.team['id']}/todos/{todo['id']}/assign/",
                json={"user_id": self.other.id},
                headers=self.host.headers,
            )
            return todo["id"]
        if name == "post_id":
            return self._post("posts/", {"title": "theirs"})["id"]
        if name == "file_id":
            r = self.client.post(
                f"/api/v1/teams/{self.team['id']}/posts/{self.value('post_id')}/files/",
                files={"file": ("a.txt", b"a")},
                headers=self.other.headers,
            )
            return r.json()["files"][0]["id"]
        if name == "map_id":
            self.serial += 1
            return self._post("mindmaps/", {"title": f"map {self.serial}"})["id"]
        if name in ("node_id", "node2_id"):
            return self._post(f"mindmaps/{self.value('map_id')}/nodes/", {"title": name})["id"]
        if name == "link_id":
            return self._post(
                f"mindmaps/{self.value('map_id')}/links/",
                {"source_id": self.value("node_id"), "target_id": self.value("node2_id")},
            )["id"]
        if name == "meeting_id":
            return self._post("schedules/meetings/", MEETING)["id"]
        if name == "comment_id":
            return self._post(
                f"mindmaps/{self.value('map_id')}/nodes/{self.value('node_id')}/comments/", {"body": "theirs"}
            )["id"]
        raise KeyError(name)

    def value(self, name: str) -> int:
        if name not in self.made:
            self.made[name] = self._make(name)
        return self.made[name]


def _fill(template, own: World, objects: World, me, serial: list[int]):
    def one(match) -> str:
        name = match[1]
        if name == "me":
            return str(me.id if me else 1)
        if name == "invite":
            return own.team["invite_code"]
        if name == "provider":
            return "github"
        if name == "token":
            return "A" * 43
        if name == "identity_id":
            return str(OTHERS_IDENTITY[0])
        if name == "unique":
            serial[0] += 1
            return f"title {serial[0]}"
        return str(own.team["id"] if name == "team_id" else objects.value(name))

    if isinstance(template, str):
        return PLACEHOLDER.sub(one, template)
    return {
        key: _typed(_fill(value, own, objects, me, serial)) if isinstance(value, str) else value
        for key, value in template.items()
    }


def _typed(text: str):
    return int(text) if text.isdigit() else text


def _call(client, user, method: str, path: str, body, own: World, objects: World, serial: list[int]):
    headers = dict(user.headers) if user is not None else {}
    url = _fill(path, own, objects, user, serial)
    if body == UPLOAD:
        return client.request(method, url, files={"file": ("b.txt", b"b")}, headers=headers)
    if isinstance(body, tuple) and body[0] == "csv":
        return client.request(method, url, content=body[1], headers={**headers, "Content-Type": "text/csv"})
    json_body = None if body is None else _fill(body, own, own, user, serial)
    return client.request(method, url, json=json_body, headers=headers, follow_redirects=False)  # a 3xx is the answer


def _matches(expected, status: int) -> bool:
    if expected == ANY:
        return status < 500 and status not in (401, 404)
    return status == expected


def _connect_identity(environ, user_id: int) -> int:
    from services.auth.tables import identities
    from services.kit.responses import utcnow
    from tests.auth.conftest import AuthDatabase

    url = environ.get("TEAMMOA_AUTH_DATABASE_URL") or f"sqlite:///{environ['TEAMMOA_DATA_DIR']}/auth.db"
    database = AuthDatabase(url)
    try:
        row = {"user_id": user_id, "provider": "github", "issuer": "http://127.0.0.1:9", "subject": str(user_id)}
        database.execute(identities.insert().values(**row, created_at=utcnow()))
        return database.one(identities.select().where(identities.c.user_id == user_id))["id"]
    finally:
        database.engine.dispose()


def test_every_route_answers_every_kind_of_caller_as_the_table_says(client, signup, environ):
    host, member, other, outsider = signup("host"), signup("member"), signup("other"), signup("outsider")
    OTHERS_IDENTITY[0] = _connect_identity(environ, other.id)
    b_member, b_other = signup("bmember"), signup("bother")
    team_b = World(client, outsider, b_member, b_other, "B")
    mismatches, cells, serial = [], 0, [0]
    for method, path, body, *expected, cross in MATRIX:
        world = World(client, host, member, other, "A") if "{" in path or "{" in str(body) else None
        own = world or team_b
        callers = [("anonymous", None), ("outsider", outsider if world else member), ("member", member), ("host", host)]
        if cross is not None:  # refused calls change nothing: they go first, on the row's objects
            for who, user in (("member", member), ("host", host)):
                response = _call(client, user, method, path, body, own, team_b, serial)
                cells += 1
                if response.status_code != cross:
                    mismatches.append(f"{who} with team B's ids: {method} {path} → {response.status_code}, expected {cross}")
        for (who, user), want in zip(callers, expected, strict=True):
            if who == "outsider" and path.endswith("join/") and world is not None:
                user = signup(f"joiner{serial[0]}")  # joining changes who is an outsider: a new one each time
                serial[0] += 1
            if who == "host":
                own.made.clear()  # the host acts on objects of its own, whatever the member's call did
            response = _call(client, user, method, path, body, own, own, serial)
            cells += 1
            if not _matches(want, response.status_code):
                mismatches.append(f"{who}: {method} {path} → {response.status_code} {response.text[:120]}, expected {want}")
    print(f"\nRELIABILITY authorization matrix: {cells} cells over {len(MATRIX)} routes, {len(mismatches)} mismatches")
    assert mismatches == []


@pytest.mark.stack
def test_the_socket_admits_members_only(rstack):
    """The /ws/ row, through the stack: anonymous refused at the handshake, an outsider's subscription
    refused, members and the host subscribed."""
    host, member, outsider = rstack.account("wshost"), rstack.account("wsmember"), rstack.account("wsout")
    team = rstack.team(host, member)
    url = rstack.url.replace("http://", "ws://") + "/ws/"
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(url, additional_headers={"Origin": rstack.url}, open_timeout=10)
    assert refused.value.response.status_code == 403
    answers = {}
    for who, user in (("outsider", outsider), ("member", member), ("host", host)):
        with ws_connect(url, additional_headers={"Cookie": user.cookie_header, "Origin": rstack.url}, open_timeout=10) as ws:
            ws.send(json.dumps({"op": "subscribe", "channel": f"team.{team['id']}"}))
            frame = json.loads(ws.recv(timeout=10))
            while frame["op"] == "presence":
                frame = json.loads(ws.recv(timeout=10))
            answers[who] = frame["op"] if frame["op"] != "error" else frame["code"]
    assert answers == {"outsider": "forbidden", "member": "subscribed", "host": "subscribed"}


def test_the_matrix_has_a_row_for_every_public_route(client):
    declared = set()
    for app in client.app.apps.values():
        for route in app.routes:
            if route.path.startswith(UNROUTED):
                continue
            if isinstance(route, WebSocketRoute):
                declared.add(("WS", route.path))
            elif isinstance(route, Route):
                declared |= {(method, route.path) for method in route.methods - {"HEAD"}}
    rows = {(method, path.split("?")[0]) for method, path, *_ in MATRIX} | {SOCKET}
    assert declared - rows == set(), "routes without a row in the authorization matrix"
    assert rows - declared == set(), "rows for routes that do not exist"
