"""Two teams instances and two schedule instances on one database and one broker, as in production.

Both services cache answers (the todo list, the board, the team, my teams, the team's availability view) and
schedule caches team facts; every cache is checked per request against versions the writer bumps
after its commit and before its answer. So, from any instance, on the first request after a write is
acknowledged: a removed member is refused everywhere, and the writer reads its write back.

With ``TEAMMOA_TEST_REDIS_URL`` every instance has its own Redis connection (the production broker);
without it they share one in-memory bus, which stands for it. The schedule instances are made deaf
to the team's events (which arrive a moment after the answer, or never when the broker hiccups): only
the synchronous version check may make them forget.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from broadcaster import Broadcast

from services.auth.app import create_app as create_auth
from services.kit.app import Shared
from services.kit.events import EventBus
from services.kit.settings import Settings
from services.schedule.app import create_app as create_schedule
from services.schedule.directory import TeamDirectory
from services.teams.app import create_app as create_teams
from tests.conftest import PASSWORD, TEST_REDIS_URL, token_from_mail

from .conftest import TEAM_PASSWORD

pytestmark = pytest.mark.anyio
WEEK = "2026-11-30"
VIEW = f"?start={WEEK}&end=2026-12-06"


@dataclass
class Cluster:
    auth: httpx.AsyncClient
    teams: list[httpx.AsyncClient]
    schedule: list[httpx.AsyncClient]


@pytest.fixture(name="deaf_schedule", autouse=True)
def fx_deaf_schedule(monkeypatch) -> None:
    monkeypatch.setattr(TeamDirectory, "heard", lambda self, team_id, message: None)


@contextlib.asynccontextmanager
async def cluster(environ: dict[str, str]) -> AsyncIterator[Cluster]:
    """auth, teams ×2 and schedule ×2, every lifespan running, each reachable through its own client."""
    memory = None if TEST_REDIS_URL else EventBus(Broadcast("memory://"))
    transports: dict[str, httpx.AsyncBaseTransport] = {}

    def shared() -> Shared:
        return Shared(events=memory, transports=transports)  # events None: the instance opens its own Redis bus

    auth = create_auth(Settings("auth", environ), shared())
    teams = [create_teams(Settings("teams", environ), shared()) for _ in range(2)]
    schedule = [create_schedule(Settings("schedule", environ), shared()) for _ in range(2)]
    transports.update({"auth": httpx.ASGITransport(app=auth), "teams": httpx.ASGITransport(app=teams[0])})
    async with contextlib.AsyncExitStack() as stack:
        if memory is not None:
            await memory.connect()
            stack.push_async_callback(memory.disconnect)
        clients = []
        for app in (auth, *teams, *schedule):
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://t")))
        yield Cluster(auth=clients[0], teams=clients[1:3], schedule=clients[3:5])


async def signup(auth: httpx.AsyncClient, environ: dict[str, str], name: str) -> tuple[int, dict[str, str]]:
    email = f"{name}@example.com"
    body = {"username": name, "email": email, "nickname": name, "password": PASSWORD}
    assert (await auth.post("/api/v1/users/register/", json=body)).status_code == 201
    token = token_from_mail(environ["TEAMMOA_DATA_DIR"], email)
    assert (await auth.post("/api/v1/users/verify-email/", json={"token": token})).status_code == 200
    r = await auth.post("/api/v1/users/login/", json={"login": name, "password": PASSWORD})
    auth.cookies.clear()
    return r.json()["user"]["id"], {"Authorization": f"Bearer {r.json()['access_token']}"}


def reads(team_id: int) -> list[str]:
    base = f"/api/v1/teams/{team_id}"
    return [f"{base}/", f"{base}/todos/?page=1&page_size=100", f"{base}/todos/?state=backlog", f"{base}/posts/"]


async def test_a_removed_member_is_refused_by_every_instance_on_the_first_request(environ):
    async with cluster(environ) as c:
        _, host = await signup(c.auth, environ, "host")
        member_id, member = await signup(c.auth, environ, "member")
        r = await c.teams[0].post(
            "/api/v1/teams/", headers=host, json={"name": "Crew", "capacity": 5, "join_password": TEAM_PASSWORD}
        )
        team = r.json()
        join = {"invite_code": team["invite_code"], "password": TEAM_PASSWORD}
        assert (await c.teams[0].post("/api/v1/teams/join/", headers=member, json=join)).status_code == 201
        # Every instance has served the member, so every cache holds the team for them.
        for _ in range(2):
            for instance in c.teams:
                for path in reads(team["id"]):
                    assert (await instance.get(path, headers=member)).status_code == 200, path
                mine = (await instance.get("/api/v1/teams/", headers=member)).json()
                assert [t["id"] for t in mine["items"]] == [team["id"]]
            for instance in c.schedule:
                assert (
                    await instance.get(f"/api/v1/teams/{team['id']}/schedules/{VIEW}", headers=member)
                ).status_code == 200

        removed = await c.teams[0].delete(f"/api/v1/teams/{team['id']}/members/{member_id}/", headers=host)
        assert removed.status_code == 204, removed.text

        for instance in reversed(c.teams):  # the instance that did not handle the removal first
            for path in reads(team["id"]):
                assert (await instance.get(path, headers=member)).status_code == 404, path
            assert (await instance.get("/api/v1/teams/", headers=member)).json()["items"] == []
        for instance in reversed(c.schedule):
            r = await instance.get(f"/api/v1/teams/{team['id']}/schedules/{VIEW}", headers=member)
            assert r.status_code == 404, r.text
            view = (await instance.get(f"/api/v1/teams/{team['id']}/schedules/{VIEW}", headers=host)).json()
            assert view["member_count"] == 1


async def test_a_write_on_one_instance_is_read_back_from_the_other_at_once(environ):
    async with cluster(environ) as c:
        host_id, host = await signup(c.auth, environ, "host")
        r = await c.teams[0].post(
            "/api/v1/teams/", headers=host, json={"name": "Crew", "capacity": 5, "join_password": TEAM_PASSWORD}
        )
        team_id = r.json()["id"]
        todos = f"/api/v1/teams/{team_id}/todos/?page=1&page_size=100"
        view = f"/api/v1/teams/{team_id}/schedules/{VIEW}"
        for round_ in range(3):
            for instance in (*c.teams, *c.schedule):  # warm every cache
                path = view if instance in c.schedule else todos
                assert (await instance.get(path, headers=host)).status_code == 200
            writer, reader = c.teams[round_ % 2], c.teams[(round_ + 1) % 2]
            created = await writer.post(f"/api/v1/teams/{team_id}/todos/", headers=host, json={"content": f"todo {round_}"})
            assert created.status_code == 201, created.text
            listed = (await reader.get(todos, headers=host)).json()
            assert [t["content"] for t in listed["items"]] == [f"todo {n}" for n in range(round_ + 1)]
            board = f"/api/v1/teams/{team_id}/posts/?page=1&page_size=10"
            for instance in c.teams:
                assert (await instance.get(board, headers=host)).status_code == 200
            posted = await writer.post(
                f"/api/v1/teams/{team_id}/posts/", headers=host, json={"title": f"post {round_}", "body": "hello"}
            )
            assert posted.status_code == 201, posted.text
            titles = [p["title"] for p in (await reader.get(board, headers=host)).json()["items"]]
            assert titles == [f"post {round_}"] + [f"edited {n}" for n in range(round_ - 1, -1, -1)]  # newest first
            edited = await writer.patch(
                f"/api/v1/teams/{team_id}/posts/{posted.json()['id']}/", headers=host, json={"title": f"edited {round_}"}
            )
            assert edited.status_code == 200, edited.text
            assert (await reader.get(board, headers=host)).json()["items"][0]["title"] == f"edited {round_}"
            renamed = await writer.patch(f"/api/v1/teams/{team_id}/", headers=host, json={"name": f"Crew {round_}"})
            assert renamed.status_code == 200, renamed.text
            assert (await reader.get(f"/api/v1/teams/{team_id}/", headers=host)).json()["name"] == f"Crew {round_}"
            assert (await reader.get("/api/v1/teams/", headers=host)).json()["items"][0]["name"] == f"Crew {round_}"

            writer, reader = c.schedule[round_ % 2], c.schedule[(round_ + 1) % 2]
            week = {"week_start": WEEK, "slots": {WEEK: [10 + round_]}}
            assert (await writer.put(f"/api/v1/teams/{team_id}/schedules/me/", headers=host, json=week)).status_code == 200
            slots = (await reader.get(view, headers=host)).json()["days"][0]["slots"]
            assert [k for k, slot in enumerate(slots) if slot["who"] == [host_id]] == [10 + round_]
