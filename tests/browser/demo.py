"""A seeded demo team, made through the public API with a browser context's own cookies — fast set-up for
browser tests that are about one page, and the data `make screenshots` photographs.

    user = api_sign_up(context, "alice", "Alice Kim")     # register → outbox → verify → login (API only)
    call(context, "POST", "teams/", {...})                # any API call as that context's user
    demo = seed_demo_team(host_context, member_context)   # a team with todos, milestones, posts, a mind map
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

PASSWORD = "Correct-Horse-42"
JOIN_PASSWORD = "open-sesame"


def _csrf(context: Any) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == "teammoa_csrf"), None)


def call(context: Any, method: str, path: str, body: Any = None, *, ok: bool = True) -> Any:
    """Call /api/v1/<path> as the context's signed-in user (its cookies, with the CSRF header)."""
    headers = {}
    csrf = _csrf(context)
    if csrf:
        headers["X-CSRF-Token"] = csrf
    response = context.request.fetch(f"/api/v1/{path}", method=method, data=body, headers=headers)
    if ok:
        assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    if response.status == 204 or not response.body():
        return None
    return response.json()


@dataclass(frozen=True)
class DemoUser:
    username: str
    nickname: str
    email: str
    password: str = PASSWORD


def api_sign_up(context: Any, username: str, nickname: str) -> DemoUser:
    """Register, verify through the development outbox and log in — all through the API, in this context."""
    user = DemoUser(username=username, nickname=nickname, email=f"{username}@example.com")
    call(
        context,
        "POST",
        "users/register/",
        {"username": username, "email": user.email, "nickname": nickname, "password": PASSWORD},
    )
    mails = call(context, "GET", "users/dev/outbox/")["items"]
    link = next(
        link
        for mail in reversed(mails)
        if mail["to"] == user.email
        for link in mail.get("links", [])
        if "verify-email?token=" in link
    )
    token = re.search(r"token=([\w-]+)", link).group(1)  # type: ignore[union-attr]
    call(context, "POST", "users/verify-email/", {"token": token})
    call(context, "POST", "users/login/", {"login": username, "password": PASSWORD})
    return user


@dataclass
class Demo:
    team_id: int
    code: str
    map_id: int
    post_id: int
    image_post_id: int
    nodes: dict[str, int] = field(default_factory=dict)
    milestones: dict[str, int] = field(default_factory=dict)


def png(width: int = 160, height: int = 90) -> bytes:
    """A small valid PNG (a two-colour gradient) to attach as an image."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"".join(bytes((40 + x, 90 + y, 200)) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def seed_demo_team(host: Any, member: Any, *, today: dt.date | None = None, name: str = "Capstone Crew") -> Demo:
    """A team of two with milestones around today, todos on the board, posts and a small mind map."""
    today = today or dt.date.today()
    team = call(
        host,
        "POST",
        "teams/",
        {
            "name": name,
            "description": "Our capstone: an app for study groups.",
            "capacity": 6,
            "join_password": JOIN_PASSWORD,
            "time_zone": "Asia/Seoul",
        },
    )
    tid = team["id"]
    call(member, "POST", "teams/join/", {"invite_code": team["invite_code"], "password": JOIN_PASSWORD})
    day = lambda n: (today + dt.timedelta(days=n)).isoformat()  # noqa: E731
    milestones = {}
    for title, start, end, priority, progress in [
        ("Research and interviews", -40, -20, "low", 100),
        ("Design the prototype", -14, 6, "high", 60),
        ("Usability testing round", -3, 12, "medium", 20),
        ("Final report and demo day", 14, 30, "critical", 0),
    ]:
        body = {"title": title, "start_date": day(start), "end_date": day(end), "priority": priority}
        body |= {"progress_mode": "manual", "progress": progress}
        milestones[title] = call(host, "POST", f"teams/{tid}/milestones/", body)["id"]
    me_host = call(host, "GET", "users/me/")["id"]
    me_member = call(member, "GET", "users/me/")["id"]
    todos = [
        ("Write the interview guide", None, False),
        ("Collect feedback from the pilot group", None, False),
        ("Sketch the onboarding screens", me_host, False),
        ("Set up the CI pipeline", me_host, False),
        ("Draft the survey questions", me_member, False),
        ("Book a room for demo day", None, True),
    ]
    for content, assignee, done in todos:
        todo = call(host, "POST", f"teams/{tid}/todos/", {"content": content})
        if assignee:
            call(host, "POST", f"teams/{tid}/todos/{todo['id']}/assign/", {"user_id": assignee})
        if done:
            call(host, "POST", f"teams/{tid}/todos/{todo['id']}/move-to-done/", {})
    post = call(
        host,
        "POST",
        f"teams/{tid}/posts/",
        {
            "title": "Kick-off notes",
            "body": "## Decisions\n\n- **Ship** the prototype by Friday\n- Notes live at https://example.com/notes\n",
        },
    )
    image_post = call(member, "POST", f"teams/{tid}/posts/", {"title": "Whiteboard photo", "body": "From today."})
    member.request.post(
        f"/api/v1/teams/{tid}/posts/{image_post['id']}/files/",
        multipart={"file": {"name": "whiteboard.png", "mimeType": "image/png", "buffer": png()}},
        headers={"X-CSRF-Token": _csrf(member) or ""},
    )
    mindmap = call(host, "POST", f"teams/{tid}/mindmaps/", {"title": "Product ideas"})
    mid = mindmap["id"]
    nodes = {}
    for title, x, y in [
        ("Study groups app", 1000, 1000),
        ("Shared calendar", 760, 860),
        ("Flash cards", 1240, 860),
        ("Group chat", 1000, 1180),
    ]:
        nodes[title] = call(host, "POST", f"teams/{tid}/mindmaps/{mid}/nodes/", {"title": title, "x": x, "y": y})["id"]
    root = nodes["Study groups app"]
    for title in ("Shared calendar", "Flash cards", "Group chat"):
        call(host, "POST", f"teams/{tid}/mindmaps/{mid}/links/", {"source_id": root, "target_id": nodes[title]})
    call(member, "PUT", f"teams/{tid}/mindmaps/{mid}/nodes/{nodes['Flash cards']}/vote/")
    call(member, "POST", f"teams/{tid}/mindmaps/{mid}/nodes/{nodes['Flash cards']}/comments/", {"body": "Love it!"})
    return Demo(
        team_id=tid,
        code=team["invite_code"],
        map_id=mid,
        post_id=post["id"],
        image_post_id=image_post["id"],
        nodes=nodes,
        milestones=milestones,
    )


def paint_week(context: Any, team_id: int, monday: dt.date, slots: dict[int, list[int]]) -> None:
    """Save my free slots for a week: {weekday index 0–6: [slot numbers 0–47]}."""
    body = {
        "week_start": monday.isoformat(),
        "slots": {(monday + dt.timedelta(days=d)).isoformat(): s for d, s in slots.items()},
    }
    call(context, "PUT", f"teams/{team_id}/schedules/me/", body)
