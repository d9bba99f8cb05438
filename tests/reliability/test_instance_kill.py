"""Fault 3: one teams instance killed with SIGKILL under load.

The gateway retries idempotent requests on the other instance (proxy_next_upstream: 0 failed GETs), and
a POST carrying an ``Idempotency-Key`` that the client resends until it gets an answer is applied at
most once — every acknowledged one exactly once. The killed instance is started again afterwards.
"""

from __future__ import annotations

import collections
import os
import signal
import time

import pytest

from .conftest import FULL
from .faults import acknowledged, marker, report, rest_operations
from .load import Load

pytestmark = [pytest.mark.stack, pytest.mark.slow]
VICTIM = "teams-1"
KILLS = 3 if FULL else 1


def test_a_killed_instance_fails_no_get_and_applies_no_post_twice(rstack):
    host, member = rstack.account("killhost"), rstack.account("killmember")
    team = rstack.team(host, member)
    tag = marker()
    load = Load(
        rstack.url, rest_operations(team["id"], host.headers, member.headers, tag, idempotent_writes=True), workers=8
    )
    with load.running():
        for _ in range(KILLS):
            time.sleep(3)
            os.killpg(rstack.pids()[VICTIM], signal.SIGKILL)
            time.sleep(4)
            rstack.restart_process(VICTIM)
        time.sleep(3)
    outcomes = load.outcomes

    failed_gets = [o for o in outcomes if o.method == "GET" and not o.ok]
    assert not failed_gets, [(o.operation, o.status, o.body[:200], o.error) for o in failed_gets[:10]]
    posts = [o for o in outcomes if o.method == "POST"]
    unanswered = [o for o in posts if not o.ok and b"idempotency_in_doubt" not in o.body]
    assert not unanswered, [(o.operation, o.status, o.body[:200], o.error) for o in unanswered[:10]]

    todos = collections.Counter(
        row[0] for row in rstack.sql("teams", "SELECT content FROM todos WHERE team_id = :t", t=team["id"])
    )
    teams = collections.Counter(
        row[0] for row in rstack.sql("teams", "SELECT name FROM teams WHERE name LIKE :p", p=f"{tag}-%")
    )
    twice = [content for content, count in (todos + teams).items() if count > 1]
    assert not twice, twice
    lost = [o.sent["content"] for o in acknowledged(outcomes, "todo.create") if o.sent["content"] not in todos]
    lost += [o.sent["name"] for o in acknowledged(outcomes, "team.create") if o.sent["name"] not in teams]
    assert not lost, lost
    retried = sum(1 for o in posts if o.attempts > 1)
    in_doubt = sum(1 for o in posts if b"idempotency_in_doubt" in o.body)
    report(
        f"{VICTIM} SIGKILL ×{KILLS}",
        load,
        failed=len(failed_gets) + len(unanswered),
        lost=len(lost),
        recovery_s=None,
        notes=f"0 failed GETs; {len(posts)} POSTs with Idempotency-Key, {retried} resent by the "
        f"client, 0 applied twice, {in_doubt} answered 409 in doubt",
    )
