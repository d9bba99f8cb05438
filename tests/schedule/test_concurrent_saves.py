"""Concurrent saves of a week cannot deadlock: no retry hides one, so every save must simply succeed.

Run on MariaDB (``TEAMMOA_TEST_DATABASE_URL``) this is the proof that matters: the old delete-then-
insert took gap locks that crossed between members of one team, and InnoDB picked victims (error
1213). ``replace_days`` has no retry, so a single deadlock fails the test. On SQLite it checks the
same outcome (every save lands, the last one of each member wins).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest

from services.kit import db as kit_db
from services.schedule.availability import read_days, read_team, replace_days

pytestmark = pytest.mark.anyio
TEAM = 42
MONDAY = dt.date(2026, 11, 30)
WEEK = [MONDAY + dt.timedelta(days=n) for n in range(7)]
MEMBERS = 24
ROUNDS = 6


def payload(rng: random.Random) -> dict[dt.date, int]:
    """A week with some days free (random masks) and the rest cleared."""
    return {day: rng.getrandbits(48) for day in WEEK if rng.random() < 0.6}


async def test_many_members_saving_overlapping_weeks_at_once_never_deadlock(environ):
    database = await kit_db.connect(
        environ.get("TEAMMOA_SCHEDULE_DATABASE_URL", f"sqlite:///{environ['TEAMMOA_DATA_DIR']}/schedule.db"),
        script_location=None,
        auto_migrate=False,
        pool_max=12,
    )
    rng = random.Random(1213)
    try:
        last: dict[int, dict[dt.date, int]] = {}
        for _ in range(ROUNDS):
            # Every member saves twice at once (two tabs), with different weeks, beside all the others.
            saves = [(member, payload(rng)) for member in range(1, MEMBERS + 1) for _ in range(2)]
            rng.shuffle(saves)
            results = await asyncio.gather(
                *(replace_days(db=database, team_id=TEAM, user_id=m, dates=WEEK, days=days) for m, days in saves),
                return_exceptions=True,
            )
            failures = [r for r in results if isinstance(r, BaseException)]
            assert failures == [], failures[:3]
            for member in range(1, MEMBERS + 1):
                stored = await read_days(db=database, team_id=TEAM, user_id=member, start=WEEK[0], end=WEEK[-1])
                candidates = [days for m, days in saves if m == member]
                assert stored in candidates, (member, stored)  # one of the two saves, whole: never a mix
                last[member] = stored
        team = await read_team(db=database, team_id=TEAM, members=set(last), start=WEEK[0], end=WEEK[-1])
        assert {m: dict(days) for m, days in team.items()} == {m: days for m, days in last.items() if days}
    finally:
        await kit_db.disconnect(database)
