"""No N+1: a list costs the same number of database statements (and auth calls) whatever its length."""

from __future__ import annotations

import pytest

from services.kit.responses import utcnow
from services.teams.tables import memberships, post_files, posts, teams, todos

from .conftest import API, in_app, teams_app


def add_rows(client, table, rows: list[dict]) -> None:
    """Insert rows behind the service's back, counting their teams' data version up as every write does."""

    async def insert(state):
        for row in rows:
            await state.db.execute(table.insert().values(**row))
        for team_id in {row["team_id"] for row in rows}:
            await state.db.execute(teams.update().where(teams.c.id == team_id).values(data_version=teams.c.data_version + 1))

    in_app(client, insert)


def statements_for(client, queries, url: str, user) -> int:
    client.get(url, headers=user.headers)  # warm-up: caches and the member's last-seen stamp
    with queries() as counter:
        response = client.get(url, headers=user.headers)
    assert response.status_code == 200
    return counter.count


@pytest.fixture(name="auth_calls")
def fx_auth_calls(client, monkeypatch) -> list[str]:
    """Paths of every call the teams service makes to the auth service."""
    peers = teams_app(client).state.peers
    calls: list[str] = []
    original = peers.request

    async def request(service, method, path, **kwargs):
        if service == "auth":
            calls.append(path)
        return await original(service, method, path, **kwargs)

    monkeypatch.setattr(peers, "request", request)
    return calls


def test_listing_100_todos_costs_as_many_statements_as_listing_10(client, signup, make_team, queries):
    host = signup("host")
    tid = make_team(host)["id"]
    now = utcnow()

    def todo(i):
        return {
            "team_id": tid,
            "content": f"t{i}",
            "assignee_id": None,
            "is_completed": i % 3 == 0,
            "completed_at": None,
            "milestone_id": None,
            "position": i,
            "created_by": host.id,
            "created_at": now,
        }

    add_rows(client, todos, [todo(i) for i in range(10)])
    ten = statements_for(client, queries, f"{API}{tid}/todos/", host)
    add_rows(client, todos, [todo(i) for i in range(10, 100)])
    hundred = statements_for(client, queries, f"{API}{tid}/todos/", host)
    assert client.get(f"{API}{tid}/todos/", headers=host.headers).json()["total"] == 100
    assert ten == hundred <= 4


def test_listing_50_members_costs_constant_statements_and_one_batched_auth_call(
    client, signup, make_team, queries, auth_calls
):
    host = signup("host")
    tid = make_team(host, capacity=100)["id"]
    now = utcnow()
    add_rows(client, memberships, [{"team_id": tid, "user_id": 10_000 + i, "joined_at": now} for i in range(4)])
    auth_calls.clear()
    five = statements_for(client, queries, f"{API}{tid}/members/", host)
    assert auth_calls == ["/internal/users/batch"]
    add_rows(client, memberships, [{"team_id": tid, "user_id": 20_000 + i, "joined_at": now} for i in range(45)])
    auth_calls.clear()
    fifty = statements_for(client, queries, f"{API}{tid}/members/", host)
    assert auth_calls == ["/internal/users/batch"]  # the 45 newcomers, fetched together; the rest was cached
    listed = client.get(f"{API}{tid}/members/", headers=host.headers).json()
    assert listed["total"] == 50 and auth_calls == ["/internal/users/batch"]
    assert {m["nickname"] for m in listed["items"][1:]} == {"Former member"}  # ids auth does not know
    assert five == fifty <= 4


def test_listing_posts_with_files_costs_constant_statements(client, signup, make_team, queries):
    host = signup("host")
    tid = make_team(host)["id"]
    now = utcnow()

    def fill(first, last):
        add_rows(
            client,
            posts,
            [
                {
                    "team_id": tid,
                    "author_id": host.id,
                    "title": f"p{i}",
                    "body": "b",
                    "body_html": "b",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(first, last)
            ],
        )

        async def post_ids(state):
            return [row.id for row in await state.db.fetch_all(posts.select().where(posts.c.team_id == tid))]

        add_rows(
            client,
            post_files,
            [
                {
                    "team_id": tid,
                    "post_id": pid,
                    "name": "f",
                    "size": 1,
                    "content_type": "x",
                    "storage_key": "k",
                    "uploaded_by": host.id,
                    "created_at": now,
                }
                for pid in in_app(client, post_ids)[first:last]
            ],
        )

    fill(0, 2)
    two = statements_for(client, queries, f"{API}{tid}/posts/?q=p", host)
    fill(2, 20)
    twenty = statements_for(client, queries, f"{API}{tid}/posts/?q=p", host)
    assert len(client.get(f"{API}{tid}/posts/", headers=host.headers).json()["items"][0]["files"]) == 1
    assert two == twenty <= 6
