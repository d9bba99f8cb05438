"""Helpers for the teams suite: teams made through the API, joins, and a database query counter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import httpx
import pytest

from services.kit.peers import SERVICE_TOKEN_HEADER
from tests.conftest import spy_on_events

TEAM_PASSWORD = "team-pass-1"
API = "/api/v1/teams/"


def teams_app(client):
    """The teams service inside the embedded gateway (its state holds db, storage, users...)."""
    return client.app.apps["teams"]


@pytest.fixture(name="make_team")
def fx_make_team(client):
    """Create a team through the API as ``host``; return its JSON."""

    def make(host, *, name: str = "Team", capacity: int = 10, password: str = TEAM_PASSWORD, **fields) -> dict:
        body = {"name": name, "capacity": capacity, "join_password": password, **fields}
        response = client.post(API, json=body, headers=host.headers)
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture(name="join")
def fx_join(client):
    """Join a team as ``user`` with its invite code; return the response."""

    def join(user, team: dict, *, password: str = TEAM_PASSWORD):
        return client.post(
            API + "join/", json={"invite_code": team["invite_code"], "password": password}, headers=user.headers
        )

    return join


@pytest.fixture(name="crew")
def fx_crew(signup, make_team, join):
    """A team with a host and two members: (team, host, alice, bob)."""
    host, alice, bob = signup("host"), signup("alice"), signup("bob")
    team = make_team(host, name="Crew")
    for user in (alice, bob):
        assert join(user, team).status_code == 201
    return team, host, alice, bob


class QueryCounter:
    """Counts the statements the teams service sends to its database for requests (the health
    monitor's background ``SELECT 1`` probe, kit.health, may land in any block and is not counted)."""

    METHODS = ("fetch_all", "fetch_one", "fetch_val", "execute", "execute_many", "iterate")
    PROBE = "SELECT 1"

    def __init__(self, db) -> None:
        self.db, self.count = db, 0

    @contextlib.contextmanager
    def counting(self) -> Iterator[QueryCounter]:
        originals = {name: getattr(self.db, name) for name in self.METHODS}

        def wrap(method):
            def counted(*args, **kwargs):
                if not (args and args[0] == self.PROBE):
                    self.count += 1
                return method(*args, **kwargs)

            return counted

        for name, method in originals.items():
            setattr(self.db, name, wrap(method))
        try:
            yield self
        finally:
            for name in originals:
                delattr(self.db, name)


@pytest.fixture(name="queries")
def fx_queries(client):
    """``with queries() as q: ...; q.count`` — statements run by the teams service in the block."""

    def start():
        return QueryCounter(teams_app(client).state.db).counting()

    return start


@pytest.fixture(name="events")
def fx_events(client, monkeypatch) -> list[tuple[str, str, dict]]:
    """Every event the teams service publishes from now on, as (channel, type, data)."""
    return spy_on_events(teams_app(client), monkeypatch)


def types_of(events: list[tuple[str, str, dict]]) -> list[str]:
    return [type_ for _channel, type_, _data in events]


def at_once(client, calls: list[tuple[str, str, dict]]) -> list:
    """Send requests concurrently inside the app's own event loop; return the responses in order.

    The TestClient runs the app's lifespan in a portal thread; an ``httpx.AsyncClient`` over the ASGI
    transport, started in that same loop, issues every request at once (true interleaving, one loop).
    """

    async def run():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(*(http.request(method, url, **kwargs) for method, url, kwargs in calls))

    return client.portal.call(run)


def in_app(client, work):
    """Run ``await work(state)`` in the app's event loop with the teams service's state (db, storage...)."""

    async def run():
        return await work(teams_app(client).state)

    return client.portal.call(run)


def internal(client, method: str, path: str, *, credential: bool | str = True, **kwargs):
    """Call an internal endpoint of the teams service directly, as a peer service would.

    ``credential``: True sends the real service token, False none, a string that string.
    """
    real = str(teams_app(client).state.settings.service_token)
    token = real if credential is True else credential or None
    headers = {SERVICE_TOKEN_HEADER: token} if token else {}

    async def run():
        transport = httpx.ASGITransport(app=teams_app(client))
        async with httpx.AsyncClient(transport=transport, base_url="http://teams") as http:
            return await http.request(method, path, headers=headers, **kwargs)

    return client.portal.call(run)
