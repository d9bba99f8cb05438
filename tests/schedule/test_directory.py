"""The schedule service alone, its peers faked at the seam (httpx.MockTransport): team facts are
cached briefly, dropped by the team's member events, and peer failures never become a 500."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import jwt
import pytest
from broadcaster import Broadcast
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from starlette.testclient import TestClient

from services.kit.app import Shared
from services.kit.events import EventBus
from services.kit.settings import Settings
from services.kit.tokens import ISSUER
from services.schedule.app import create_app

TEAM = 7
WEEK = "2026-11-30"
MEMBERS_PATH = re.compile(r"^/internal/teams/(\d+)/members/$")


@dataclass
class FakePeers:
    """The teams and auth services as the schedule service sees them."""

    teams: dict[int, dict] = field(default_factory=dict)
    roster_calls: int = 0
    teams_down: bool = False
    auth_batch_down: bool = False
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def teams_handler(self, request: httpx.Request) -> httpx.Response:
        found = MEMBERS_PATH.match(request.url.path)
        if self.teams_down:
            return httpx.Response(503, json={"error": {"code": "unavailable"}})
        if found is None or int(found.group(1)) not in self.teams:
            return httpx.Response(404, json={"error": {"code": "not_found"}})
        self.roster_calls += 1
        team = self.teams[int(found.group(1))]
        return httpx.Response(
            200,
            json={
                "team_id": int(found.group(1)),
                "time_zone": team["time_zone"],
                "members": [{"user_id": uid, "role": "member", "joined_at": None} for uid in team["members"]],
            },
        )

    def auth_handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/jwks.json":
            jwk = json.loads(OKPAlgorithm.to_jwk(self.private.public_key())) | {"kid": "k1", "alg": "EdDSA"}
            return httpx.Response(200, json={"keys": [jwk]})
        if request.url.path == "/internal/users/batch" and not self.auth_batch_down:
            ids = json.loads(request.content)["ids"]
            return httpx.Response(
                200,
                json={"users": [{"id": i, "username": f"u{i}", "nickname": f"Nick {i}", "is_active": True} for i in ids]},
            )
        return httpx.Response(500)

    def headers(self, user_id: int) -> dict[str, str]:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "name": f"Nick {user_id}",
            "aud": ["teammoa:schedule"],
            "iss": ISSUER,
            "iat": now,
            "exp": now + 300,
            "typ": "access",
        }
        return {"Authorization": "Bearer " + jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": "k1"})}


@pytest.fixture(name="peers")
def fx_peers() -> FakePeers:
    return FakePeers(teams={TEAM: {"time_zone": "Asia/Seoul", "members": [1, 2]}})


@pytest.fixture(name="schedule")
def fx_schedule(environ, peers) -> Iterator[TestClient]:
    """The schedule app alone: peers faked, events on an in-memory bus the test can publish to."""
    transports = {"teams": httpx.MockTransport(peers.teams_handler), "auth": httpx.MockTransport(peers.auth_handler)}
    bus = EventBus(Broadcast("memory://"))
    app = create_app(Settings("schedule", environ), Shared(events=bus, transports=transports))
    with TestClient(app, base_url="http://testserver") as client:
        client.portal.call(bus.connect)
        yield client
        client.portal.call(bus.disconnect)


def _view(client: TestClient, peers: FakePeers, user_id: int) -> httpx.Response:
    return client.get(f"/api/v1/teams/{TEAM}/schedules/?start={WEEK}&end=2026-12-06", headers=peers.headers(user_id))


def _paint(client: TestClient, peers: FakePeers, user_id: int) -> None:
    r = client.put(
        f"/api/v1/teams/{TEAM}/schedules/me/",
        headers=peers.headers(user_id),
        json={"week_start": WEEK, "slots": {WEEK: [18, 19]}},
    )
    assert r.status_code == 200, r.text


def _publish(client: TestClient, type_: str, data: dict) -> None:
    client.portal.call(client.app.state.events.publish, f"team.{TEAM}", type_, data)


def test_team_facts_are_asked_of_the_teams_service_once_while_cached(schedule, peers):
    _paint(schedule, peers, 1)
    assert _view(schedule, peers, 2).status_code == 200
    assert _view(schedule, peers, 1).status_code == 200
    assert peers.roster_calls == 1


def test_a_member_left_event_makes_the_leaver_stop_counting_at_once(schedule, peers):
    _paint(schedule, peers, 1)
    _paint(schedule, peers, 2)
    assert _view(schedule, peers, 1).json()["days"][0]["slots"][18]["who"] == [1, 2]
    peers.teams[TEAM]["members"] = [1]  # the teams service has already committed the departure
    _publish(schedule, "member.left", {"user_id": 2})
    slot = _view(schedule, peers, 1).json()["days"][0]["slots"][18]
    assert (slot["who"], slot["count"], slot["everyone"]) == ([1], 1, True)
    assert _view(schedule, peers, 2).status_code == 404
    assert peers.roster_calls == 2


def test_a_member_joined_event_makes_the_newcomer_count_at_once(schedule, peers):
    assert _view(schedule, peers, 1).json()["member_count"] == 2
    peers.teams[TEAM]["members"] = [1, 2, 3]
    _publish(schedule, "member.joined", {"user_id": 3})
    assert _view(schedule, peers, 3).json()["member_count"] == 3


def test_a_time_zone_change_is_seen_at_once(schedule, peers):
    assert _view(schedule, peers, 1).json()["time_zone"] == "Asia/Seoul"
    peers.teams[TEAM]["time_zone"] = "Europe/Berlin"
    _publish(schedule, "team.updated", {"id": TEAM, "time_zone": "Europe/Berlin"})
    assert _view(schedule, peers, 1).json()["time_zone"] == "Europe/Berlin"


def test_unrelated_events_keep_the_cache(schedule, peers):
    _view(schedule, peers, 1)
    _publish(schedule, "todo.created", {"id": 1})
    _view(schedule, peers, 1)
    assert peers.roster_calls == 1


def test_an_unknown_team_is_a_404_and_a_failing_teams_service_a_503(schedule, peers):
    r = schedule.get("/api/v1/teams/99/schedules/", headers=peers.headers(1))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    peers.teams_down = True
    r = _view(schedule, peers, 1)
    assert (r.status_code, r.json()["error"]["code"]) == (503, "unavailable")


def test_names_are_left_out_when_auth_cannot_give_them(schedule, peers):
    peers.auth_batch_down = True
    body = _view(schedule, peers, 1).json()
    assert body["members"] == [{"user_id": 1, "nickname": None}, {"user_id": 2, "nickname": None}]
