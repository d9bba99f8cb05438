"""Fixtures of the realtime suite: a running stack with a team, two members and a mind map."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from .harness import Member, Stack, running_stack


def need_redis() -> str:
    """The shared test Redis; skipped when it is not configured (a failure on CI)."""
    url = os.environ.get("TEAMMOA_TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("TEAMMOA_TEST_REDIS_URL is required in CI")
        pytest.skip("TEAMMOA_TEST_REDIS_URL not set: multi-instance tests need a real Redis")
    return url


@dataclass
class Crew:
    stack: Stack
    team: dict
    host: Member
    alice: Member
    mindmap: dict

    @property
    def channel(self) -> str:
        return f"mindmap.{self.mindmap['id']}"

    @property
    def team_channel(self) -> str:
        return f"team.{self.team['id']}"

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/teams/{self.team['id']}/mindmaps/{self.mindmap['id']}/{suffix}"

    async def add_node(self, user: Member | None = None, **fields) -> dict:
        r = await self.stack.http.post(
            self.path("nodes/"), json={"title": "Node", **fields}, headers=(user or self.host).headers
        )
        assert r.status_code == 201, r.text
        return r.json()


async def make_crew(stack: Stack) -> Crew:
    host, alice = await stack.signup("host"), await stack.signup("alice")
    team = await stack.team(host, alice)
    return Crew(stack=stack, team=team, host=host, alice=alice, mindmap=await stack.mindmap(team, host))


@pytest.fixture(name="stack")
async def fx_stack(environ):
    """One TeamMoa (one realtime instance) served on a free port."""
    async with running_stack(environ) as stack:
        yield stack


@pytest.fixture(name="crew")
async def fx_crew(stack) -> Crew:
    """A team with its host and alice, and a mind map made by the host."""
    return await make_crew(stack)
