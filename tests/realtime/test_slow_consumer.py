"""A client that stops reading is disconnected (4008) without slowing anyone else down."""

import asyncio
import base64
import json
import os
import statistics
import time

import pytest
from websockets.exceptions import ConnectionClosed

from .harness import Peer, eventually

pytestmark = pytest.mark.anyio
OUTBOX = 64  # frames queued for one connection before it counts as too slow (production: 1024)
NOISE = base64.b64encode(os.urandom(12_000)).decode()  # incompressible: permessage-deflate must not shrink it


@pytest.fixture(name="stack")
async def fx_stack(environ):
    from .harness import running_stack

    async with running_stack(environ, env={"TEAMMOA_REALTIME_OUTBOX_MAX": str(OUTBOX)}) as stack:
        yield stack


class Publisher:
    """Publishes map events straight onto the bus, as the teams service does after commit."""

    def __init__(self, stack, channel: str) -> None:
        self.bus, self.channel, self.version = stack.apps["teams"].state.events, channel, 0

    async def send(self, *, big: bool = False) -> None:
        self.version += 1
        await self.bus.publish(
            self.channel, "node.updated", {"sent": time.perf_counter(), "pad": NOISE if big else ""}, version=self.version
        )


async def _latency_p50(publisher: Publisher, peers: list[Peer], count: int = 40) -> float:
    """Median publish-to-delivery latency of small events at the given peers."""
    first = publisher.version + 1
    for _ in range(count):
        await publisher.send()
        await asyncio.sleep(0.005)
    samples = []
    for peer in peers:
        await peer.wait_for(lambda f: f.get("version") == publisher.version)
        for frame, arrived in zip(peer.frames, peer.arrivals, strict=True):
            if frame["op"] == "event" and frame["version"] >= first:
                samples.append(arrived - frame["data"]["sent"])
    return statistics.median(samples)


async def test_a_client_that_stops_reading_is_closed_and_the_others_keep_their_latency(stack, crew):
    fast = [await stack.connect(user) for user in (crew.host, crew.alice, crew.host)]
    for peer in fast:
        await peer.subscribe(crew.channel)
    publisher = Publisher(stack, crew.channel)
    normal = await _latency_p50(publisher, fast)

    slowpoke = await stack.signup("slowpoke")
    r = await stack.http.post(
        "/api/v1/teams/join/",
        json={"invite_code": crew.team["invite_code"], "password": "team-pass-1"},
        headers=slowpoke.headers,
    )
    assert r.status_code == 201
    slow_ws = await Peer.open(stack.socket_hosts[0], slowpoke, read=False, rcvbuf=4096, max_queue=1)
    await slow_ws.send(json.dumps({"op": "subscribe", "channel": crew.channel}))
    rt = stack.realtime()
    [slow] = await eventually(lambda: rt.by_user.get(slowpoke.id))

    async with asyncio.timeout(20):  # fill the kernel buffers until frames wait in the slow one's queue
        while slow.queued < 5:
            await publisher.send(big=True)
            await asyncio.sleep(0)
    assert slow.open
    stalled = await _latency_p50(publisher, fast)
    assert stalled <= 2 * normal + 0.002, (normal, stalled)

    async with asyncio.timeout(20):
        while slow.open:
            await publisher.send(big=True)
            await asyncio.sleep(0)
    assert slow.close_code == 4008
    assert slow.queued <= OUTBOX
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await slow_ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
    await eventually(lambda: slow.id not in rt.connections)
    assert rt.stats["slow_closed"] == 1 and slow.queued == 0
    for peer in fast:
        assert peer.events(crew.channel)[-1]["version"] == publisher.version
        assert peer.close_code is None
        await peer.close()
