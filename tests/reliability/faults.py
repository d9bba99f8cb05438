"""What the fault tests share: the standard REST load on a team, the checks every outage ends with,
and the report line each fault prints (collected into docs/reliability.md's table)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import httpx

from .load import Load, Operation, Outcome, summary

REPORT = []  # one dict per fault, printed at the end of each test (pytest -s shows them)


def rest_operations(
    team_id: int, host_headers: dict, member_headers: dict, marker: str, *, idempotent_writes: bool = False
) -> list[Operation]:
    """Reads and writes on every database-backed service; each write's content carries ``marker``."""
    base = f"/api/v1/teams/{team_id}/"
    return [
        Operation("teams.read", "GET", base, member_headers),
        Operation("todos.list", "GET", base + "todos/?page_size=5", member_headers),
        Operation(
            "todo.create",
            "POST",
            base + "todos/",
            member_headers,
            body=lambda n: {"content": f"{marker}-{n}"},
            retry_until_answered=idempotent_writes,
        ),
        Operation("auth.me", "GET", "/api/v1/users/me/", member_headers),
        Operation("schedule.week", "GET", base + "schedules/me/", member_headers),
        Operation("milestones.list", "GET", base + "milestones/", host_headers),
        Operation(
            "team.create",
            "POST",
            "/api/v1/teams/",
            host_headers,
            body=lambda n: {"name": f"{marker}-{n}"[:64], "capacity": 5, "join_password": "team-pass-42"},
            retry_until_answered=idempotent_writes,
        ),
    ]


def marker() -> str:
    return "rel" + uuid.uuid4().hex[:8]


@dataclass
class Recovery:
    seconds: float  # from the dependency's return to the first request of an all-2xx tail
    tail: int  # requests in that tail


def recovery_after(outcomes: list[Outcome], back_at: float) -> Recovery:
    """When the load became healthy for good after ``back_at`` (every later request answered 2xx)."""
    after = sorted((o for o in outcomes if o.started >= back_at), key=lambda o: o.started)
    last_bad = max((i for i, o in enumerate(after) if not o.ok), default=-1)
    tail = after[last_bad + 1 :]
    assert tail, "no request succeeded after the dependency came back"
    return Recovery(seconds=max(0.0, tail[0].started - back_at), tail=len(tail))


def acknowledged(outcomes: list[Outcome], operation: str) -> list[Outcome]:
    return [o for o in outcomes if o.operation == operation and o.ok]


def refused(outcomes: list[Outcome], operation: str) -> list[Outcome]:
    return [o for o in outcomes if o.operation == operation and not o.ok]


def poll_health(url: str, paths: list[str], until: float) -> dict[str, set[int]]:
    """The statuses each health path answered while polling until ``until``."""
    seen: dict[str, set[int]] = {path: set() for path in paths}
    with httpx.Client(base_url=url, timeout=5) as http:
        while time.monotonic() < until:
            for path in paths:
                try:
                    seen[path].add(http.get(path).status_code)
                except httpx.HTTPError:
                    seen[path].add(0)
            time.sleep(0.3)
    return seen


def report(fault: str, load: Load, *, failed: int, lost: int, recovery_s: float | None, notes: str = "") -> None:
    line = {
        "fault": fault,
        "requests": len(load.outcomes),
        "failed": failed,
        "lost_acknowledged_writes": lost,
        "recovery_s": None if recovery_s is None else round(recovery_s, 2),
        "statuses": summary(load.outcomes),
        "notes": notes,
    }
    REPORT.append(line)
    print("\nRELIABILITY " + json.dumps(line))
