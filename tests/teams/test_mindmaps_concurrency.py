"""Mind maps under concurrent requests: no lost votes, one version per change, one link per pair."""

import asyncio

import httpx

from .test_mindmaps import add_node, snapshot, url


def concurrently(client, requests: list[tuple[str, str, dict, dict | None]]) -> list[httpx.Response]:
    """Send every (method, path, headers, json) at once into the running app; the responses in order."""

    async def send_all():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(
                *(http.request(method, path, headers=headers, json=body) for method, path, headers, body in requests)
            )

    return client.portal.call(send_all)


def test_concurrent_votes_are_all_counted(client, signup, make_team, join):
    host = signup("host")
    team = make_team(host, capacity=20)
    voters = [host] + [signup(f"voter{n}") for n in range(9)]
    for voter in voters[1:]:
        assert join(voter, team).status_code == 201
    mindmap = client.post(url(team), json={"title": "Vote"}, headers=host.headers).json()
    node = add_node(client, host, team, mindmap)
    vote = url(team, mindmap, f"nodes/{node['id']}/vote/")
    responses = concurrently(client, [("PUT", vote, v.headers, None) for v in voters] * 2)
    assert {r.status_code for r in responses} == {200}
    after = snapshot(client, host, team, mindmap)
    assert after["nodes"][0]["vote_count"] == 10
    assert after["version"] == 2 + 9  # node created, then exactly one change per voter
    responses = concurrently(client, [("DELETE", vote, v.headers, None) for v in voters[:5]])
    assert sorted(r.json()["vote_count"] for r in responses) == [5, 6, 7, 8, 9]
    assert snapshot(client, host, team, mindmap)["nodes"][0]["vote_count"] == 5


def test_concurrent_edits_get_one_version_each_without_gaps(client, crew):
    team, host, alice, bob = crew
    mindmap = client.post(url(team), json={"title": "Race"}, headers=host.headers).json()
    node = add_node(client, host, team, mindmap)
    path = url(team, mindmap, f"nodes/{node['id']}/")
    users = [host, alice, bob] * 4
    responses = concurrently(client, [("PATCH", path, u.headers, {"x": n}) for n, u in enumerate(users)])
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["map_version"] for r in responses) == list(range(2, 14))
    assert sorted(r.json()["version"] for r in responses) == list(range(2, 14))
    assert snapshot(client, host, team, mindmap)["version"] == 13


def test_concurrent_edits_with_the_same_node_version_let_exactly_one_win(client, crew):
    team, host, alice, bob = crew
    mindmap = client.post(url(team), json={"title": "Stale"}, headers=host.headers).json()
    node = add_node(client, host, team, mindmap)
    path = url(team, mindmap, f"nodes/{node['id']}/")
    responses = concurrently(
        client, [("PATCH", path, u.headers, {"title": u.username, "version": 1}) for u in (host, alice, bob)]
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    winner = next(r.json() for r in responses if r.status_code == 200)
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.json()["error"]["details"][0]["node"]["title"] == winner["title"]


def test_concurrent_links_between_the_same_pair_make_one_link(client, crew):
    team, host, _alice, _bob = crew
    mindmap = client.post(url(team), json={"title": "Links"}, headers=host.headers).json()
    a, b = add_node(client, host, team, mindmap), add_node(client, host, team, mindmap)
    links = url(team, mindmap, "links/")
    pairs = [(a, b), (b, a)] * 3
    responses = concurrently(
        client, [("POST", links, host.headers, {"source_id": s["id"], "target_id": t["id"]}) for s, t in pairs]
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409, 409]
    assert len(snapshot(client, host, team, mindmap)["links"]) == 1


def test_concurrent_maps_with_the_same_title_make_one_map(client, crew):
    team, host, alice, bob = crew
    responses = concurrently(client, [("POST", url(team), u.headers, {"title": "Same"}) for u in (host, alice, bob)])
    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    assert client.get(url(team), headers=host.headers).json()["total"] == 1
