"""Fault 2: Redis stopped for 10 s under load (the suite's private Redis, never the shared one).

REST keeps serving; login rate limiting keeps limiting (counted in the process meanwhile); realtime
instances report unhealthy and close their sockets with 1012; after Redis returns the clients reconnect,
recover (replay or resync) and every replica equals the database.
"""

from __future__ import annotations

import random
import time

import httpx
import pytest

from .conftest import FULL
from .faults import acknowledged, marker, poll_health, report, rest_operations
from .load import Load, Operation
from .wsclient import RESTART, Fleet, MapClient

pytestmark = [pytest.mark.stack, pytest.mark.slow]
OUTAGE_S = 10.0
CLIENTS = 24 if FULL else 12
CONVERGE_S = 45.0  # the slowest client's backoff after a 10 s outage is at most 16 s, plus resync


def _wrong_logins(url: str, login: str, count: int) -> list[int]:
    with httpx.Client(base_url=url, timeout=10) as http:
        return [
            http.post("/api/v1/users/login/", json={"login": login, "password": "not-the-password"}).status_code
            for _ in range(count)
        ]


def test_a_redis_outage_keeps_rest_and_limits_and_realtime_clients_converge(rstack):
    host, member, victim = rstack.account("rdhost"), rstack.account("rdmember"), rstack.account("rdvictim")
    team = rstack.team(host, member)
    with rstack.http() as http:
        r = http.post(f"/api/v1/teams/{team['id']}/mindmaps/", json={"title": "Outage"}, headers=host.headers)
        assert r.status_code == 201, r.text
        mindmap = r.json()
        first = http.post(
            f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/nodes/",
            json={"title": "root", "x": 10, "y": 10},
            headers=host.headers,
        ).json()
    tag = marker()
    nodes = f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/nodes/"
    operations = [
        *rest_operations(team["id"], host.headers, member.headers, tag),
        Operation(
            "node.create", "POST", nodes, host.headers, body=lambda n: {"title": f"{tag}-{n}"[:64], "x": n % 900, "y": 40}
        ),
        Operation("node.update", "PATCH", f"{nodes}{first['id']}/", member.headers, body=lambda n: {"x": n % 900}),
    ]
    rng = random.Random(7)
    fleet = Fleet(
        [
            MapClient(rstack.url, user.cookie_header, user.token, team["id"], mindmap["id"], rng=random.Random(rng.random()))
            for user in (host, member) * (CLIENTS // 2)
        ]
    )
    fleet.start()
    load = Load(rstack.url, operations, workers=5)
    try:
        assert fleet.wait_until(fleet.all_subscribed, 30), "the clients did not subscribe"
        with load.running():
            time.sleep(3)
            down_at = time.monotonic()
            rstack.redis.stop()
            logins = _wrong_logins(rstack.url, victim.username, 7)
            health = poll_health(rstack.url, ["/health/realtime/"], until=down_at + OUTAGE_S)
            rstack.redis.start()
            back_at = time.monotonic()
            assert fleet.wait_until(fleet.all_subscribed, CONVERGE_S), "the clients did not come back"
            time.sleep(3)
        time.sleep(2)  # the last writes' events reach every client
        with rstack.http() as http:
            snapshot = http.get(f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/", headers=host.headers).json()
            after = _wrong_logins(rstack.url, victim.username, 1)
    finally:
        fleet.stop()

    failed = [o for o in load.outcomes if not o.ok]
    assert not failed, [(o.operation, o.status, o.body[:200]) for o in failed[:10]]
    assert logins[:5] == [401] * 5 and logins[5:] == [429, 429], logins
    assert after == [429], "the limit counted during the outage was forgotten"
    assert 503 in health["/health/realtime/"], health
    assert all(RESTART in client.close_codes for client in fleet.clients), [c.close_codes for c in fleet.clients]
    expected = {n["id"]: {k: n.get(k) for k in ("id", "title", "content", "x", "y", "color")} for n in snapshot["nodes"]}
    diverged = [client for client in fleet.clients if client.nodes != expected or client.version != snapshot["version"]]
    assert not diverged, [(c.version, snapshot["version"], len(c.nodes), len(expected)) for c in diverged[:5]]
    stored = {row[0] for row in rstack.sql("teams", "SELECT content FROM todos WHERE team_id = :t", t=team["id"])}
    lost = [o.sent["content"] for o in acknowledged(load.outcomes, "todo.create") if o.sent["content"] not in stored]
    assert not lost, lost
    reconnected = [max(c.connects) - back_at for c in fleet.clients]
    report(
        "Redis stopped 10 s",
        load,
        failed=len(failed),
        lost=len(lost),
        recovery_s=max(reconnected),
        notes=f"{len(fleet.clients)} sockets closed with 1012, all back and equal to the database (map version "
        f"{snapshot['version']}, {sum(c.resyncs for c in fleet.clients)} resyncs); logins during the "
        f"outage {logins}",
    )
