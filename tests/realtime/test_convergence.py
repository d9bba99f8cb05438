"""Five clients editing one map at once through the API all end with the same map as the snapshot."""

import asyncio
import random

import pytest

from .harness import Follower

pytestmark = pytest.mark.anyio

EDITS = 200
CLIENTS = 5


async def _random_edit(crew, user, rng: random.Random, replica) -> None:
    """One random change by ``user`` on the map as its client sees it; refusals caused by the others' edits
    (a node just deleted, a link just made) are fine."""
    http, path = crew.stack.http, crew.path
    nodes, links = sorted(replica.nodes), sorted(replica.links)
    choice = rng.random() if len(nodes) >= 2 else 0.0
    if choice < 0.25:
        r = await http.post(
            path("nodes/"),
            json={"title": f"n{rng.randrange(1000)}", "x": rng.randrange(10_000), "y": rng.randrange(10_000)},
            headers=user.headers,
        )
    elif choice < 0.45:
        r = await http.patch(
            path(f"nodes/{rng.choice(nodes)}/"),
            json={"x": rng.randrange(10_000), "y": rng.randrange(10_000)},
            headers=user.headers,
        )
    elif choice < 0.55:
        r = await http.patch(
            path(f"nodes/{rng.choice(nodes)}/"),
            json={"title": f"t{rng.randrange(1000)}", "color": f"#{rng.randrange(2**24):06x}"},
            headers=user.headers,
        )
    elif choice < 0.65:
        source, target = rng.sample(nodes, 2)
        r = await http.post(path("links/"), json={"source_id": source, "target_id": target}, headers=user.headers)
    elif choice < 0.72 and links:
        r = await http.delete(path(f"links/{rng.choice(links)}/"), headers=user.headers)
    elif choice < 0.82:
        r = await http.post(path(f"nodes/{rng.choice(nodes)}/comments/"), json={"body": "hm"}, headers=user.headers)
    elif choice < 0.94:
        method = rng.choice([http.put, http.delete])
        r = await method(path(f"nodes/{rng.choice(nodes)}/vote/"), headers=user.headers)
    else:
        r = await http.delete(path(f"nodes/{rng.choice(nodes)}/"), headers=user.headers)
    assert r.status_code in (200, 201, 204, 404, 409, 422), r.text


async def test_five_clients_making_200_concurrent_edits_all_converge_on_the_snapshot(stack, crew):
    others = [await stack.signup(f"user{n}") for n in range(CLIENTS - 2)]
    for user in others:
        r = await stack.http.post(
            "/api/v1/teams/join/",
            json={"invite_code": crew.team["invite_code"], "password": "team-pass-1"},
            headers=user.headers,
        )
        assert r.status_code == 201
    users = [crew.host, crew.alice, *others]
    followers = [await Follower(stack, user, team_id=crew.team["id"], map_id=crew.mindmap["id"]).start() for user in users]

    async def edits(follower, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(EDITS // CLIENTS):
            await _random_edit(crew, follower.user, rng, follower.replica)

    await asyncio.gather(*(edits(follower, seed) for seed, follower in enumerate(followers)))
    final = await stack.snapshot(crew.team["id"], crew.mindmap["id"], crew.host)
    assert final["version"] > EDITS // 2
    for follower in followers:
        await follower.reaches(final["version"])
        assert follower.replica.same_as(final)
        assert follower.replica.resyncs == 0
        await follower.stop()
