"""Issue 14, item 8 (realtime): per-user socket and subscribe budgets, and every refused frame — binary,
or a publish on a channel the socket is not subscribed to — counts toward the bad-frame close."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from services.realtime.connection import MAX_BAD_FRAMES
from services.realtime.settings import SOCKETS_PER_USER, SUBSCRIBE_BURST

from .conftest import Crew

pytestmark = pytest.mark.anyio
POLICY_VIOLATION = 1008


async def test_a_user_holds_at_most_the_per_user_socket_budget(crew: Crew):
    peers = [await crew.stack.connect(crew.alice) for _ in range(SOCKETS_PER_USER)]
    try:
        for peer in peers:
            assert (await peer.subscribe(crew.team_channel))["op"] == "subscribed"
        extra = await crew.stack.connect(crew.alice)
        assert await extra.wait_closed() == POLICY_VIOLATION
        other = await crew.stack.connect(crew.host)  # someone else is not affected
        assert (await other.subscribe(crew.team_channel))["op"] == "subscribed"
        await other.close()
    finally:
        await asyncio.gather(*(peer.close() for peer in peers))


async def test_subscribes_share_one_budget_per_user_so_lookups_stay_bounded(crew: Crew):
    """25 sockets × 40 subscribes to random map ids used to cost 1,000 membership lookups in teams."""
    peers = [await crew.stack.connect(crew.alice) for _ in range(8)]
    try:
        rng = random.Random(7)
        for peer in peers:
            for _ in range(40):
                await peer.send(op="subscribe", channel=f"mindmap.{rng.randrange(10_000, 10**9)}")
        for peer in peers:  # a ping answered after the subscribes means they were all handled
            start = len(peer.frames)
            await peer.send(op="ping")
            with contextlib.suppress(AssertionError, TimeoutError):
                await peer.wait_for(lambda f: f["op"] == "pong", start=start, timeout=10)
        answered = sum(1 for peer in peers for f in peer.frames if f.get("code") == "forbidden")
        assert answered <= SUBSCRIBE_BURST + 40, answered  # 320 before: every subscribe was looked up
        assert any(f.get("code") == "rate_limited" for peer in peers for f in peer.frames)
        assert crew.stack.realtime().stats["subscribes_limited"] > 0
    finally:
        await asyncio.gather(*(peer.close() for peer in peers))


async def test_binary_frames_count_toward_the_bad_frame_close(crew: Crew):
    peer = await crew.stack.connect(crew.alice)
    for _ in range(MAX_BAD_FRAMES + 5):
        with contextlib.suppress(Exception):
            await peer.ws.send(b"\x00\x01binary")
    assert await peer.wait_closed() == POLICY_VIOLATION


async def test_publishes_to_unsubscribed_channels_count_toward_the_bad_frame_close(crew: Crew):
    peer = await crew.stack.connect(crew.alice)
    for _ in range(MAX_BAD_FRAMES + 5):
        with contextlib.suppress(Exception):
            await peer.send(op="publish", channel=crew.channel, type="cursor", data={"x": 1})
    assert await peer.wait_closed() == POLICY_VIOLATION
