"""Nicknames from auth: one batched call for the uncached ids, a short cache, graceful degradation."""

from __future__ import annotations

import asyncio
import json

import httpx

from services.kit.peers import Peers
from services.kit.settings import Settings
from services.teams.users import FORMER_MEMBER, Directory


def directory(handler) -> tuple[Directory, list[list[int]]]:
    """A Directory whose auth service is faked at the network seam; also the id lists it asked for."""
    asked: list[list[int]] = []

    def record(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["ids"]
        asked.append(ids)
        return handler(ids)

    peers = Peers(Settings("teams", {}), {"auth": httpx.MockTransport(record)})
    return Directory(peers), asked


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
