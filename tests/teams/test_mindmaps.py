"""Mind maps: who may do what, the limits of each field, versions and events, and team isolation."""

import httpx
import pytest

from .conftest import types_of


@pytest.fixture(name="board")
def fx_board(client, crew):
    """The crew's team with a map made by alice: (team, host, alice, bob, map)."""
    team, host, alice, bob = crew
    r = client.post(f"/api/v1/teams/{team['id']}/mindmaps/", json={"title": "Ideas"}, headers=alice.headers)
    assert r.status_code == 201, r.text
    return team, host, alice, bob, r.json()


def url(team, mindmap=None, suffix: str = "") -> str:
    base = f"/api/v1/teams/{team['id']}/mindmaps/"
    return base if mindmap is None else f"{base}{mindmap['id']}/{suffix}"


def add_node(client, user, team, mindmap, **fields) -> dict:
    r = client.post(url(team, mindmap, "nodes/"), json={"title": "Node", **fields}, headers=user.headers)
    assert r.status_code == 201, r.text
    return r.json()


def snapshot(client, user, team, mindmap) -> dict:
    r = client.get(url(team, mindmap), headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_any_member_creates_a_map_and_every_member_lists_it(client, board):
    team, host, alice, bob, mindmap = board
    assert (mindmap["title"], mindmap["version"], mindmap["created_by"]) == ("Ideas", 0, alice.id)
    listed = client.get(url(team), headers=bob.headers).json()
    assert (listed["total"], [m["id"] for m in listed["items"]]) == (1, [mindmap["id"]])
    assert listed["items"][0]["can_delete"] is False
    assert client.get(url(team), headers=host.headers).json()["items"][0]["can_delete"] is True


def test_map_titles_are_unique_within_a_team_ignoring_case_but_not_across_teams(client, board, signup, make_team):
    team, _host, _alice, bob, _mindmap = board
    r = client.post(url(team), json={"title": "  IDEAS "}, headers=bob.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "title_taken")
    carol = signup("carol")
    other = make_team(carol, name="Other")
    assert client.post(url(other), json={"title": "Ideas"}, headers=carol.headers).status_code == 201


@pytest.mark.parametrize("title", ["", "   ", "x" * 65])
def test_a_map_title_has_1_to_64_characters(client, board, title):
    team, host, *_ = board
    r = client.post(url(team), json={"title": title}, headers=host.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "title"


def test_the_host_or_the_creator_deletes_a_map_and_other_members_cannot(client, board, events):
    team, host, alice, bob, mindmap = board
    add_node(client, alice, team, mindmap)
    r = client.delete(url(team, mindmap), headers=bob.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "permission_denied")
    assert client.delete(url(team, mindmap), headers=alice.headers).status_code == 204
    assert client.get(url(team, mindmap), headers=alice.headers).status_code == 404
    deleted = [(channel, data) for channel, type_, data in events if type_ == "mindmap.deleted"]
    assert deleted == [(f"mindmap.{mindmap['id']}", {"id": mindmap["id"]}), (f"team.{team['id']}", {"id": mindmap["id"]})]
    r = client.post(url(team), json={"title": "Host's"}, headers=alice.headers)
    assert client.delete(url(team, r.json()), headers=host.headers).status_code == 204


def test_nodes_are_validated_and_positions_clamped_to_the_canvas(client, board):
    team, _host, _alice, bob, mindmap = board
    node = add_node(client, bob, team, mindmap, title="Far", x=-40, y=10_000_000.6, color="#A1B2C3")
    assert (node["x"], node["y"], node["color"], node["version"]) == (0, 10_000, "#a1b2c3", 1)
    for body, field in [
        ({"title": ""}, "title"),
        ({"title": "x" * 65}, "title"),
        ({"title": "ok", "content": "x" * 2001}, "content"),
        ({"title": "ok", "color": "red"}, "color"),
        ({"title": "ok", "x": "left"}, "x"),
        ({"title": "ok", "y": None}, "y"),
        ({"title": "ok", "owner": 1}, "owner"),
    ]:
        r = client.post(url(team, mindmap, "nodes/"), json=body, headers=bob.headers)
        assert r.status_code == 422, body
        assert r.json()["error"]["details"][0]["field"] == field, body
    assert add_node(client, bob, team, mindmap, content="x" * 2000)["content"] == "x" * 2000


def test_every_change_bumps_the_map_version_by_one_and_publishes_it(client, board, events):
    team, host, alice, bob, mindmap = board
    a = add_node(client, alice, team, mindmap)
    b = add_node(client, bob, team, mindmap)
    client.patch(url(team, mindmap, f"nodes/{a['id']}/"), json={"x": 5}, headers=bob.headers)
    link = client.post(
        url(team, mindmap, "links/"), json={"source_id": a["id"], "target_id": b["id"]}, headers=host.headers
    ).json()
    comment = client.post(
        url(team, mindmap, f"nodes/{a['id']}/comments/"), json={"body": "Nice"}, headers=bob.headers
    ).json()
    client.patch(
        url(team, mindmap, f"nodes/{a['id']}/comments/{comment['id']}/"), json={"body": "Nicer"}, headers=bob.headers
    )
    client.put(url(team, mindmap, f"nodes/{b['id']}/vote/"), headers=alice.headers)
    client.delete(url(team, mindmap, f"links/{link['id']}/"), headers=alice.headers)
    client.delete(url(team, mindmap, f"nodes/{a['id']}/comments/{comment['id']}/"), headers=bob.headers)
    client.delete(url(team, mindmap, f"nodes/{b['id']}/vote/"), headers=alice.headers)
    client.delete(url(team, mindmap, f"nodes/{b['id']}/"), headers=alice.headers)
    channel = f"mindmap.{mindmap['id']}"
    mine = [(type_, data) for c, type_, data in events if c == channel]
    assert [t for t, _ in mine] == [
        "node.created",
        "node.created",
        "node.updated",
        "link.created",
        "comment.created",
        "comment.updated",
        "vote.changed",
        "link.deleted",
        "comment.deleted",
        "vote.changed",
        "node.deleted",
    ]
    assert snapshot(client, alice, team, mindmap)["version"] == 11


def test_events_carry_the_map_version_after_the_change(client, board, monkeypatch):
    team, _host, alice, _bob, mindmap = board
    bus = client.app.apps["teams"].state.events
    versions = []
    original = bus.publish

    async def publish(channel, type_, data, *, version=None):
        versions.append((channel, type_, version))
        return await original(channel, type_, data, version=version)

    monkeypatch.setattr(bus, "publish", publish)
    node = add_node(client, alice, team, mindmap)
    client.patch(url(team, mindmap, f"nodes/{node['id']}/"), json={"title": "Renamed"}, headers=alice.headers)
    channel = f"mindmap.{mindmap['id']}"
    assert [(t, v) for c, t, v in versions if c == channel] == [("node.created", 1), ("node.updated", 2)]
    assert node["map_version"] == 1


def test_an_edit_with_a_stale_node_version_is_refused_with_the_current_node(client, board):
    team, _host, alice, bob, mindmap = board
    node = add_node(client, alice, team, mindmap, title="Draft")
    path = url(team, mindmap, f"nodes/{node['id']}/")
    r = client.patch(path, json={"title": "Alice's", "version": 1}, headers=alice.headers)
    assert (r.status_code, r.json()["version"], r.json()["title"]) == (200, 2, "Alice's")
    r = client.patch(path, json={"title": "Bob's", "version": 1}, headers=bob.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "stale_version")
    current = r.json()["error"]["details"][0]["node"]
    assert (current["id"], current["title"], current["version"]) == (node["id"], "Alice's", 2)
    assert client.get(path, headers=bob.headers).json()["title"] == "Alice's"
    assert snapshot(client, bob, team, mindmap)["version"] == 2  # the refused edit left no trace
    assert client.patch(path, json={"x": 1}, headers=bob.headers).status_code == 200  # no version: no check


def test_links_join_two_nodes_of_the_map_once_in_either_direction(client, board):
    team, _host, alice, bob, mindmap = board
    a, b = add_node(client, alice, team, mindmap), add_node(client, alice, team, mindmap)
    links = url(team, mindmap, "links/")
    r = client.post(links, json={"source_id": a["id"], "target_id": a["id"]}, headers=bob.headers)
    assert (r.status_code, r.json()["error"]["details"][0]["type"]) == (422, "self_link")
    assert client.post(links, json={"source_id": a["id"], "target_id": b["id"]}, headers=bob.headers).status_code == 201
    for source, target in ((a, b), (b, a)):
        r = client.post(links, json={"source_id": source["id"], "target_id": target["id"]}, headers=bob.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "duplicate_link")
    other = client.post(url(team), json={"title": "Other"}, headers=alice.headers).json()
    elsewhere = add_node(client, alice, team, other)
    r = client.post(links, json={"source_id": a["id"], "target_id": elsewhere["id"]}, headers=bob.headers)
    assert (r.status_code, r.json()["error"]["details"][0]["field"]) == (422, "target_id")
    assert [(link["source_id"], link["target_id"]) for link in snapshot(client, bob, team, mindmap)["links"]] == [
        (a["id"], b["id"])
    ]


def test_deleting_a_node_removes_its_links_comments_and_votes(client, board, events):
    team, _host, alice, bob, mindmap = board
    a, b, c = (add_node(client, alice, team, mindmap) for _ in range(3))
    for source, target in ((a, b), (c, a), (b, c)):
        client.post(
            url(team, mindmap, "links/"), json={"source_id": source["id"], "target_id": target["id"]}, headers=alice.headers
        )
    client.post(url(team, mindmap, f"nodes/{a['id']}/comments/"), json={"body": "hm"}, headers=bob.headers)
    client.put(url(team, mindmap, f"nodes/{a['id']}/vote/"), headers=bob.headers)
    assert client.delete(url(team, mindmap, f"nodes/{a['id']}/"), headers=bob.headers).status_code == 204
    after = snapshot(client, alice, team, mindmap)
    assert [n["id"] for n in after["nodes"]] == [b["id"], c["id"]]
    assert [(link["source_id"], link["target_id"]) for link in after["links"]] == [(b["id"], c["id"])]
    assert client.get(url(team, mindmap, f"nodes/{a['id']}/comments/"), headers=bob.headers).status_code == 404
    deleted = [data for _c, type_, data in events if type_ == "node.deleted"]
    assert deleted[0]["id"] == a["id"] and len(deleted[0]["link_ids"]) == 2
    from services.teams.mindmaps.tables import mindmap_comments, mindmap_votes

    db = client.app.apps["teams"].state.db
    for table in (mindmap_comments, mindmap_votes):
        rows = client.portal.call(db.fetch_all, table.select().where(table.c.node_id == a["id"]))
        assert rows == []


def test_comments_are_edited_by_their_author_and_deleted_by_the_author_or_the_host(client, board):
    team, host, alice, bob, mindmap = board
    node = add_node(client, alice, team, mindmap)
    comments = url(team, mindmap, f"nodes/{node['id']}/comments/")
    first = client.post(comments, json={"body": "First!"}, headers=bob.headers).json()
    second = client.post(comments, json={"body": "Second"}, headers=bob.headers).json()
    assert (first["author_id"], first["author_nickname"]) == (bob.id, bob.nickname)
    r = client.patch(f"{comments}{first['id']}/", json={"body": "Hijacked"}, headers=alice.headers)
    assert r.status_code == 403
    assert client.delete(f"{comments}{first['id']}/", headers=alice.headers).status_code == 403
    r = client.patch(f"{comments}{first['id']}/", json={"body": "Edited"}, headers=bob.headers)
    assert (r.status_code, r.json()["body"]) == (200, "Edited")
    assert client.delete(f"{comments}{second['id']}/", headers=host.headers).status_code == 204
    listed = client.get(comments, headers=alice.headers).json()
    assert (listed["total"], [c["body"] for c in listed["items"]]) == (1, ["Edited"])
    assert snapshot(client, alice, team, mindmap)["nodes"][0]["comment_count"] == 1
    for body in ("", "x" * 1001):
        assert client.post(comments, json={"body": body}, headers=bob.headers).status_code == 422


def test_a_member_votes_once_per_node_and_may_withdraw(client, board, events):
    team, host, alice, bob, mindmap = board
    node = add_node(client, alice, team, mindmap)
    vote = url(team, mindmap, f"nodes/{node['id']}/vote/")
    for _ in range(2):
        r = client.put(vote, headers=bob.headers)
        assert (r.status_code, r.json()["vote_count"], r.json()["voted"]) == (200, 1, True)
    client.put(vote, headers=alice.headers)
    nodes = [snapshot(client, user, team, mindmap)["nodes"][0] for user in (alice, bob, host)]
    assert [(n["vote_count"], n["voted"]) for n in nodes] == [(2, True), (2, True), (2, False)]
    for _ in range(2):
        r = client.delete(vote, headers=bob.headers)
        assert (r.status_code, r.json()["vote_count"], r.json()["voted"]) == (200, 1, False)
    assert types_of(events).count("vote.changed") == 3  # the repeated PUT and DELETE changed nothing
    assert snapshot(client, bob, team, mindmap)["version"] == 4


def test_outsiders_get_404_and_anonymous_callers_401(client, board, signup, make_team):
    team, _host, alice, _bob, mindmap = board
    node = add_node(client, alice, team, mindmap)
    mallory = signup("mallory")
    theirs = make_team(mallory, name="Theirs")
    their_map = client.post(url(theirs), json={"title": "Theirs"}, headers=mallory.headers).json()
    their_node = add_node(client, mallory, theirs, their_map)
    probes = [
        ("GET", url(team)),
        ("GET", url(team, mindmap)),
        ("POST", url(team, mindmap, "nodes/")),
        ("PATCH", url(team, mindmap, f"nodes/{node['id']}/")),
        ("DELETE", url(team, mindmap)),
        ("PUT", url(team, mindmap, f"nodes/{node['id']}/vote/")),
        ("GET", url(team, mindmap, f"nodes/{node['id']}/comments/")),
    ]
    for method, path in probes:
        body = {"title": "x"} if method in ("POST", "PATCH") else None
        assert client.request(method, path, json=body, headers=mallory.headers).status_code == 404, path
        assert client.request(method, path, json=body).status_code == 401, path
    # the same ids through mallory's own team: still nothing of alice's team
    for method, path in [
        ("GET", url(theirs, mindmap)),
        ("GET", url(theirs, their_map, f"nodes/{node['id']}/")),
        ("DELETE", url(theirs, their_map, f"nodes/{node['id']}/")),
    ]:
        assert client.request(method, path, headers=mallory.headers).status_code == 404, path
    # and alice cannot reach mallory's node through her own map
    r = client.patch(url(team, mindmap, f"nodes/{their_node['id']}/"), json={"title": "x"}, headers=alice.headers)
    assert r.status_code == 404
    r = client.post(
        url(team, mindmap, "links/"), json={"source_id": node["id"], "target_id": their_node["id"]}, headers=alice.headers
    )
    assert r.status_code == 422
    assert snapshot(client, mallory, theirs, their_map)["nodes"][0]["title"] == "Node"


def test_the_internal_lookup_needs_the_service_credential(client, board):
    team, _host, _alice, _bob, mindmap = board
    teams = client.app.apps["teams"]

    def inner(path: str, headers: dict | None = None) -> httpx.Response:
        """Call the teams app directly, as a peer service does (the gateway never routes /internal)."""

        async def get():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=teams), base_url="http://teams") as http:
                return await http.get(path, headers=headers)

        return client.portal.call(get)

    path = f"/internal/mindmaps/{mindmap['id']}/"
    assert inner(path).status_code == 401
    token = {"x-teammoa-service-token": str(teams.state.settings.service_token)}
    assert inner(path, token).json() == {"id": mindmap["id"], "team_id": team["id"], "version": 0}
    assert inner(path.rstrip("/"), token).status_code == 200
    assert inner("/internal/mindmaps/999999/", token).status_code == 404
    assert client.get(path, headers=token).status_code == 404


def test_disbanding_a_team_removes_its_maps_with_everything_on_them(client, board):
    team, host, alice, bob, mindmap = board
    a, b = add_node(client, alice, team, mindmap), add_node(client, alice, team, mindmap)
    client.post(url(team, mindmap, "links/"), json={"source_id": a["id"], "target_id": b["id"]}, headers=bob.headers)
    client.post(url(team, mindmap, f"nodes/{a['id']}/comments/"), json={"body": "hm"}, headers=bob.headers)
    client.put(url(team, mindmap, f"nodes/{a['id']}/vote/"), headers=bob.headers)
    assert client.delete(f"/api/v1/teams/{team['id']}/", headers=host.headers).status_code == 204
    from services.teams.mindmaps import tables

    db = client.app.apps["teams"].state.db
    for table in (
        tables.mindmaps,
        tables.mindmap_nodes,
        tables.mindmap_links,
        tables.mindmap_comments,
        tables.mindmap_votes,
    ):
        assert client.portal.call(db.fetch_all, table.select()) == [], table.name


def test_the_team_channel_hears_maps_come_and_go(client, crew, events):
    team, _host, _alice, bob = crew
    made = client.post(url(team), json={"title": "Plans"}, headers=bob.headers).json()
    client.delete(url(team, made), headers=bob.headers)
    on_team = [(type_, data["id"]) for channel, type_, data in events if channel == f"team.{team['id']}"]
    assert on_team == [("mindmap.created", made["id"]), ("mindmap.deleted", made["id"])]
