"""Fault 4: the whole stack restarted instance by instance (tools/stack/rolling_restart.py) repeatedly under
load: 0 failed requests, no acknowledged write lost, and the mind-map clients, moved from instance to
instance with 1012, end equal to the database."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest

from .conftest import FULL, ROOT
from .faults import acknowledged, marker, report, rest_operations
from .load import Load, Operation
from .wsclient import Fleet, MapClient

pytestmark = [
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.skipif(
        not FULL, reason="full mode only: in CI tests/e2e/test_rolling_restart.py runs the same script under load once"
    ),
]
ROUNDS = 3 if FULL else 1
SCRIPT = ROOT / "tools" / "stack" / "rolling_restart.py"


def test_rolling_restarts_under_load_fail_no_request(rstack):
    if not SCRIPT.exists():
        pytest.fail("tools/stack/rolling_restart.py is missing")
    host, member = rstack.account("rollhost"), rstack.account("rollmember")
    team = rstack.team(host, member)
    with rstack.http() as http:
        mindmap = http.post(f"/api/v1/teams/{team['id']}/mindmaps/", json={"title": "Rolling"}, headers=host.headers).json()
    tag = marker()
    nodes = f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/nodes/"
    operations = [
        *rest_operations(team["id"], host.headers, member.headers, tag, idempotent_writes=True),
        Operation(
            "node.create",
            "POST",
            nodes,
            host.headers,
            body=lambda n: {"title": f"{tag}-{n}"[:64], "x": n % 900, "y": 80},
            retry_until_answered=True,
        ),
    ]
    fleet = Fleet(
        [
            MapClient(rstack.url, user.cookie_header, user.token, team["id"], mindmap["id"], rng=random.Random(seed))
            for seed, user in enumerate((host, member) * 3)
        ]
    )
    fleet.start()
    load = Load(rstack.url, operations, workers=4)
    durations = []
    try:
        assert fleet.wait_until(fleet.all_subscribed, 30)
        with load.running():
            time.sleep(2)
            for _ in range(ROUNDS):
                started = time.monotonic()
                result = subprocess.run(
                    [sys.executable, str(SCRIPT)], cwd=ROOT, env=rstack.env, capture_output=True, text=True, timeout=600
                )
                assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
                durations.append(time.monotonic() - started)
            time.sleep(2)
        assert fleet.wait_until(fleet.all_subscribed, 45), "the clients did not come back"
        time.sleep(2)
        with rstack.http() as http:
            snapshot = http.get(f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/", headers=host.headers).json()
    finally:
        fleet.stop()

    failed = [o for o in load.outcomes if not o.ok]
    assert not failed, [(o.operation, o.status, o.body[:200], o.error) for o in failed[:10]]
    stored = {row[0] for row in rstack.sql("teams", "SELECT content FROM todos WHERE team_id = :t", t=team["id"])}
    lost = [o.sent["content"] for o in acknowledged(load.outcomes, "todo.create") if o.sent["content"] not in stored]
    assert not lost, lost
    ids = {n["id"] for n in snapshot["nodes"]}
    diverged = [c for c in fleet.clients if c.version != snapshot["version"] or set(c.nodes) != ids]
    assert not diverged, [(c.version, snapshot["version"]) for c in diverged]
    rstack.state["processes"] = rstack.entries()
    resent = sum(1 for o in load.outcomes if o.method == "POST" and o.attempts > 1)
    report(
        f"rolling restart ×{ROUNDS}",
        load,
        failed=len(failed),
        lost=len(lost),
        recovery_s=None,
        notes=f"each round {', '.join(f'{d:.0f} s' for d in durations)}; {len(fleet.clients)} sockets moved "
        f"with 1012 and converged (map version {snapshot['version']}); {load.keepalive_retries} GETs resent "
        f"once after nginx closed their kept-alive connection on reload, {resent} POSTs resent with "
        f"their Idempotency-Key",
    )
