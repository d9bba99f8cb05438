"""Every team-scoped route, called by anonymous, non-member, member and host — and across teams.

Anonymous → 401; a non-member → 404; a member or host → the route's status; a member on a host action
→ 403; team A's id with team B's object id → 404 for everyone. Each route is walked in a fresh team, and
the host's call gets fresh objects, so that one call's effect cannot hide another's answer (the member's
calls that succeed never touch the team itself, the members or the host role).
"""

from __future__ import annotations

import re

from services.teams.routes import routes

from .conftest import API, TEAM_PASSWORD

MILESTONE = {"title": "M", "start_date": "2026-01-01", "end_date": "2026-12-31"}
UPLOAD = "multipart upload"

# method, path under /api/v1/teams/{t}/, body, status for a plain member, status for the host.
# The todo is assigned to another member; the post and its file are another member's.
MATRIX = [
    ("GET", "", None, 200, 200),
    ("PATCH", "", {"description": "d"}, 403, 200),
    ("DELETE", "", None, 403, 204),
    ("GET", "statistics/", None, 200, 200),
    ("POST", "invite-code/", None, 403, 200),
    ("PUT", "password/", {"password": "new-pass-1"}, 403, 204),
    ("GET", "members/", None, 200, 200),
    ("DELETE", "members/{other}/", None, 403, 204),
    ("PUT", "host/", {"user_id": "{other}"}, 403, 200),
    ("GET", "milestones/", None, 200, 200),
    ("POST", "milestones/", MILESTONE, 201, 201),
    ("GET", "milestones/{milestone}/", None, 200, 200),
    ("PATCH", "milestones/{milestone}/", {"title": "T"}, 200, 200),
    ("DELETE", "milestones/{milestone}/", None, 204, 204),
    ("GET", "todos/", None, 200, 200),
    ("POST", "todos/", {"content": "c"}, 201, 201),
    ("GET", "todos/{todo}/", None, 200, 200),
    ("PATCH", "todos/{todo}/", {"content": "c"}, 403, 200),
    ("DELETE", "todos/{todo}/", None, 403, 204),
    ("POST", "todos/{todo}/assign/", {"user_id": "{me}"}, 403, 200),
    ("POST", "todos/{todo}/complete/", {"completed": True}, 403, 200),
    ("POST", "todos/{todo}/move-to-todo/", None, 403, 200),
    ("POST", "todos/{todo}/move-to-done/", None, 403, 200),
    ("POST", "todos/{todo}/reorder/", {"position": 0}, 403, 200),
    ("POST", "todos/{todo}/assign-milestone/", {"milestone_id": "{milestone}"}, 200, 200),
    ("GET", "posts/", None, 200, 200),
    ("POST", "posts/", {"title": "P"}, 201, 201),
    ("GET", "posts/{post}/", None, 200, 200),
    ("PATCH", "posts/{post}/", {"title": "P"}, 403, 403),
    ("DELETE", "posts/{post}/", None, 403, 204),
    ("POST", "posts/{post}/files/", UPLOAD, 403, 403),
    ("DELETE", "posts/{post}/files/{file}/", None, 403, 403),
    ("GET", "files/{file}/", None, 200, 200),
]
PLACEHOLDER = re.compile(r"{(\w+)}")


class World:
    """One team (host, member, other member) whose objects are made on first use."""

    def __init__(self, client, host, member, other, *, name: str) -> None:
        self.client, self.host, self.member, self.other = client, host, member, other
        response = client.post(
            API, json={"name": name, "capacity": 10, "join_password": TEAM_PASSWORD}, headers=host.headers
        )
        self.team = response.json()
        for user in (member, other):
            assert (
                client.post(
                    API + "join/",
                    json={"invite_code": self.team["invite_code"], "password": TEAM_PASSWORD},
                    headers=user.headers,
                ).status_code
                == 201
            )
        self.made: dict[str, int] = {}

    def url(self, path: str = "") -> str:
        return f"{API}{self.team['id']}/{path}"

    def _create(self, name: str) -> int:
        post = self.client.post
        if name == "milestone":
            return post(self.url("milestones/"), json=MILESTONE, headers=self.host.headers).json()["id"]
        if name == "todo":
            todo = post(self.url("todos/"), json={"content": "t"}, headers=self.host.headers).json()
            post(self.url(f"todos/{todo['id']}/assign/"), json={"user_id": self.other.id}, headers=self.host.headers)
            return todo["id"]
        if name == "post":
            return post(self.url("posts/"), json={"title": "theirs"}, headers=self.other.headers).json()["id"]
        if name == "file":
            uploaded = post(
                self.url(f"posts/{self.value('post')}/files/"), files={"file": ("a.txt", b"a")}, headers=self.other.headers
            )
            return uploaded.json()["files"][0]["id"]
        if name == "other":
            return self.other.id
        raise KeyError(name)

    def value(self, name: str) -> int:
        if name not in self.made:
            self.made[name] = self._create(name)
        return self.made[name]

    def fill(self, text: str, me, source: World | None = None) -> str:
        source = source or self
        return PLACEHOLDER.sub(lambda m: str((me.id if me else 1) if m[1] == "me" else source.value(m[1])), text)

    def call(self, user, method: str, path: str, body, *, objects_from: World | None = None):
        headers = user.headers if user is not None else {}
        url = self.url(self.fill(path, user, objects_from))
        if body == UPLOAD:
            return self.client.request(method, url, files={"file": ("b.txt", b"b")}, headers=headers)
        json_body = None
        if body is not None:
            json_body = {
                key: int(self.fill(value, user)) if isinstance(value, str) and "{" in value else value
                for key, value in body.items()
            }
        return self.client.request(method, url, json=json_body, headers=headers)


def test_every_team_route_answers_each_kind_of_caller_as_the_rules_say(client, signup):
    host, member, other, outsider = signup("host"), signup("member"), signup("other"), signup("outsider")
    helper_b = signup("helperb")
    team_b = World(client, outsider, helper_b, signup("otherb"), name="B")
    mismatches = []

    def expect(who, method, path, status, response):
        if response.status_code != status:
            mismatches.append(f"{who}: {method} {path} → {response.status_code}, expected {status}")

    for method, path, body, member_status, host_status in MATRIX:
        shared = World(client, host, member, other, name="A")
        anonymous = shared.call(None, method, path, body)
        expect("anonymous", method, path, 401, anonymous)
        expect("non-member", method, path, 404, shared.call(outsider, method, path, body))
        if PLACEHOLDER.search(path) and "{me}" not in path:
            for caller, who in ((member, "member"), (host, "host")):
                crossed = shared.call(caller, method, path, body, objects_from=team_b)
                expect(f"{who} with team B's object", method, path, 404, crossed)
        expect("member", method, path, member_status, shared.call(member, method, path, body))
        shared.made.clear()  # the host acts on objects of its own, whatever the member's call did
        expect("host", method, path, host_status, shared.call(host, method, path, body))
    assert mismatches == []


def test_the_matrix_covers_every_public_team_route():
    declared = {
        (method, route.path)
        for route in routes
        if route.path.startswith("/api/v1/teams/{team_id}")
        for method in route.methods - {"HEAD"}
    }
    walked = {
        (
            method,
            "/api/v1/teams/{team_id}/"
            + re.sub(
                r"{(\w+)}",
                lambda m: (
                    "{"
                    + {
                        "other": "user_id",
                        "milestone": "milestone_id",
                        "todo": "todo_id",
                        "post": "post_id",
                        "file": "file_id",
                    }[m[1]]
                    + "}"
                ),
                path,
            ),
        )
        for method, path, *_ in MATRIX
    }
    assert declared == walked


def test_unknown_or_malformed_team_ids_are_not_found(client, signup, subtests):
    user = signup("someone")
    for path in ("", "todos/", "members/", "posts/", "milestones/", "statistics/"):
        for team_id in ("999999", "abc", "0", "-1", "1.5", "9" * 30):
            with subtests.test(path=path, team_id=team_id):
                assert client.get(f"{API}{team_id}/{path}", headers=user.headers).status_code == 404


def test_unknown_object_ids_are_not_found(client, crew):
    team, host, _alice, _bob = crew
    for path in (
        "todos/999999/",
        "milestones/999999/",
        "posts/999999/",
        "files/999999/",
        "todos/x/",
        "todos/999999/complete/",
    ):
        method = "POST" if path.endswith("complete/") else "GET"
        response = client.request(method, f"{API}{team['id']}/{path}", json={"completed": True}, headers=host.headers)
        assert response.status_code == 404, path


def test_routes_outside_a_team_require_sign_in(client):
    assert client.get(API).status_code == 401
    assert client.post(API, json={}).status_code == 401
    assert client.post(API + "join/", json={}).status_code == 401
    assert client.post(API + "join/preview/", json={}).status_code == 401


def test_a_cookie_session_must_send_the_csrf_token_on_writes(client, signup, make_team):
    user = signup("cookie")
    team = make_team(user)
    url = f"{API}{team['id']}/todos/"
    assert client.post("/api/v1/users/login/", json={"login": user.username, "password": user.password}).status_code == 200
    token = client.cookies.get("teammoa_csrf")
    try:
        assert client.get(url).status_code == 200
        missing = client.post(url, json={"content": "x"})
        assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
        wrong = client.post(url, json={"content": "x"}, headers={"X-CSRF-Token": "abc"})
        assert wrong.status_code == 403  # the token is the session's, not any value the cookie holds
        assert client.post(url, json={"content": "x"}, headers={"X-CSRF-Token": token}).status_code == 201
    finally:
        client.cookies.clear()
