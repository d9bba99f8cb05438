"""Fault 1: MariaDB stopped for 10 s under load (the suite's private MariaDB, never the shared one).

While it is down, every request that needs it is answered 503 in the error envelope within the
configured timeout (never a 500, never a hang) and the health endpoints say 503; within 5 s of its
return everything answers again, with no service restarted. Every write that was acknowledged is in
the database; none that was refused is half-written.
"""

from __future__ import annotations

import time

import pytest

from .conftest import DB_PREFIX, FULL
from .faults import acknowledged, marker, poll_health, recovery_after, refused, report, rest_operations
from .load import Load

pytestmark = [pytest.mark.stack, pytest.mark.slow]
OUTAGE_S = 10.0
RECOVERY_LIMIT_S = 5.0
ANSWER_WITHIN_S = 7.0  # the pool's connect timeout (5 s, kit.db) and a margin: a refused request never hangs
WARM_UP_S = 3.0
AFTER_S = 10.0 if FULL else 8.0


def test_a_database_outage_is_503_then_recovers_without_losing_acknowledged_writes(rstack):
    host, member = rstack.account("dbhost"), rstack.account("dbmember")
    team = rstack.team(host, member)
    tag = marker()
    load = Load(rstack.url, rest_operations(team["id"], host.headers, member.headers, tag), workers=6)
    pids_before = rstack.pids()
    with load.running():
        time.sleep(WARM_UP_S)
        rstack.mariadb.stop()  # returns once mariadbd has exited: the outage starts here
        down_at = time.monotonic()
        health = poll_health(
            rstack.url, ["/health/teams/", "/health/auth/", "/health/schedule/", "/health/"], until=down_at + OUTAGE_S
        )
        restart_at = time.monotonic()
        rstack.mariadb.start()  # returns once it listens again
        back_at = time.monotonic()
        time.sleep(AFTER_S)
    outcomes = load.outcomes

    wrong = [o for o in outcomes if not o.ok and (o.status != 503 or o.envelope() is None)]
    assert not wrong, [(o.operation, o.status, o.body[:200], o.error) for o in wrong[:10]]
    slow = [o for o in outcomes if o.seconds > ANSWER_WITHIN_S]
    assert not slow, [(o.operation, round(o.seconds, 1), o.status) for o in slow[:10]]
    during = [o for o in outcomes if down_at + 1 <= o.started < restart_at]
    served = [(o.operation, o.status) for o in during if o.status != 503]
    assert during and not served, f"answered without the database: {served[:10]}"
    for path in ("/health/teams/", "/health/auth/", "/health/schedule/", "/health/"):
        assert 503 in health[path], (path, health[path])
    recovery = recovery_after(outcomes, back_at)
    assert recovery.seconds <= RECOVERY_LIMIT_S, recovery
    assert rstack.wait_healthy(timeout_s=10) <= 10
    assert rstack.pids() == pids_before, "a service was restarted"

    todos = {row[0] for row in rstack.sql("teams", "SELECT content FROM todos WHERE team_id = :t", t=team["id"])}
    acked = [o.sent["content"] for o in acknowledged(outcomes, "todo.create")]
    lost = [content for content in acked if content not in todos]
    assert not lost, lost
    created = rstack.sql(
        "teams",
        "SELECT t.id, t.name, COUNT(m.id) FROM teams t LEFT JOIN memberships m "
        "ON m.team_id = t.id AND m.user_id = t.host_id WHERE t.name LIKE :p GROUP BY t.id, t.name",
        p=f"{tag}-%",
    )
    half_written = [row for row in created if row[2] != 1]
    assert not half_written, half_written  # a team without its host's membership
    acked_teams = {o.sent["name"] for o in acknowledged(outcomes, "team.create")}
    assert acked_teams <= {row[1] for row in created}
    refused_writes = refused(outcomes, "todo.create") + refused(outcomes, "team.create")
    failed = sum(1 for o in outcomes if not o.ok)
    report(
        "MariaDB stopped 10 s",
        load,
        failed=failed,
        lost=len(lost),
        recovery_s=recovery.seconds,
        notes=f"{len(acked)} todos + {len(acked_teams)} teams acknowledged, all stored; {len(refused_writes)} "
        f"writes refused with 503 (none half-written); database {DB_PREFIX}teams",
    )
