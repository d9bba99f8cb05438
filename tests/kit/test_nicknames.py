"""The kit's nickname lookup (services/kit/nicknames.py), the one teams and schedule use: one batched call
for the uncached ids, a 30 s cache, every id answered (None while auth cannot answer)."""

from __future__ import annotations

import asyncio
import json

import httpx

from services.kit.channels import mindmap_channel, team_channel
from services.kit.nicknames import FORMER_MEMBER, NICKNAME_TTL_S, Nicknames
from services.kit.peers import Peers
from services.kit.settings import Settings
from services.schedule.directory import TeamDirectory


def directory(handler) -> tuple[Nicknames, list[list[int]]]:
    """A lookup whose auth service is faked at the network seam; also the id lists it asked for."""
    asked: list[list[int]] = []

    def record(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["ids"]
        asked.append(ids)
        return handler(ids)

    peers = Peers(Settings("teams", {}), {"auth": httpx.MockTransport(record)})
    return Nicknames(peers), asked


def known(ids):
    return httpx.Response(
        200, json={"users": [{"id": i, "username": f"u{i}", "nickname": f"N{i}", "is_active": True} for i in ids if i < 100]}
    )


def test_many_ids_cost_one_call_and_cached_ids_none():
    users, asked = directory(known)
    names = asyncio.run(users.nicknames(range(1, 51)))
    assert names == {i: f"N{i}" for i in range(1, 51)} and asked == [list(range(1, 51))]
    more = asyncio.run(users.nicknames([10, 20, 60]))
    assert more == {10: "N10", 20: "N20", 60: "N60"} and asked[1:] == [[60]]


def test_ids_auth_does_not_know_read_as_former_members():
    users, _asked = directory(known)
    assert asyncio.run(users.nicknames([5, 500])) == {5: "N5", 500: FORMER_MEMBER}


def test_an_unreachable_auth_gives_no_names_and_caches_nothing():
    failing = {"on": True}

    def handler(ids):
        return httpx.Response(503) if failing["on"] else known(ids)

    users, asked = directory(handler)
    assert asyncio.run(users.nicknames([1, 2])) == {1: None, 2: None}
    failing["on"] = False
    assert asyncio.run(users.nicknames([1, 2])) == {1: "N1", 2: "N2"} and len(asked) == 2


def test_forgetting_a_user_refetches_their_name():
    users, asked = directory(known)
    asyncio.run(users.nicknames([7]))
    users.forget(7)
    asyncio.run(users.nicknames([7]))
    assert asked == [[7], [7]]


def test_deactivated_users_read_as_former_members():
    def handler(ids):
        return httpx.Response(200, json={"users": [{"id": 3, "nickname": "Gone", "is_active": False}]})

    users, _asked = directory(handler)
    assert asyncio.run(users.nicknames([3])) == {3: FORMER_MEMBER}


def test_the_cache_keeps_a_name_for_half_a_minute():
    assert NICKNAME_TTL_S == 30


def test_schedule_uses_the_same_lookup_and_gets_none_while_auth_is_down():
    asked: list[list[int]] = []

    def record(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content)["ids"])
        return httpx.Response(503)

    peers = Peers(Settings("schedule", {}), {"auth": httpx.MockTransport(record)})
    teams = TeamDirectory(peers=peers, events=None)  # type: ignore[arg-type]  # the lookup never touches events
    assert asyncio.run(teams.nicknames([4, 5])) == {4: None, 5: None} and asked == [[4, 5]]


def test_channel_names_are_built_in_one_place():
    assert (team_channel(3), mindmap_channel(7)) == ("team.3", "mindmap.7")
