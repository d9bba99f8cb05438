"""Helpers of the schedule suite: teams made through the real teams API, and Hypothesis settings.

No example database and no storage in the project root: a ``.hypothesis`` folder there makes pytest's
collection warn, which fails the run under warnings-as-errors (pyproject's ``norecursedirs`` replaces
the defaults). No per-example deadline on a busy two-core CI machine.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from tests.conftest import User

TEAM_PASSWORD = "moa-join-42"

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "teammoa-hypothesis")
settings.register_profile("teammoa-schedule", database=None, deadline=None, max_examples=100)
settings.load_profile("teammoa-schedule")


@dataclass
class TeamHandle:
    """A team made through the real teams API, and the path of its schedules."""

    id: int
    invite_code: str
    host: User

    @property
    def api(self) -> str:
        return f"/api/v1/teams/{self.id}/schedules"


@pytest.fixture(name="make_team")
def fx_make_team(client, signup):
    """Create a team through the teams API with a host and members who join by invite code."""

    def make(host: User, *members: User, time_zone: str = "Asia/Seoul", name: str = "Moa crew") -> TeamHandle:
        r = client.post(
            "/api/v1/teams/",
            headers=host.headers,
            json={"name": name, "description": "", "capacity": 20, "join_password": TEAM_PASSWORD, "time_zone": time_zone},
        )
        assert r.status_code == 201, r.text
        team = r.json()
        for member in members:
            r = client.post(
                "/api/v1/teams/join/",
                headers=member.headers,
                json={"invite_code": team["invite_code"], "password": TEAM_PASSWORD},
            )
            assert r.status_code in (200, 201), r.text
        return TeamHandle(team["id"], team["invite_code"], host)

    return make
