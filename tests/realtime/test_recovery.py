"""A client that reconnects with its last version gets exactly what it missed, in order, or ``resync``."""

import asyncio

import pytest

from services.kit import events as kit_events

from .harness import Replica

pytestmark = pytest.mark.anyio


async def _edit(crew, count: int) -> None:
    node = await crew.add_node(title="Moving")
    for step in range(count - 1):
        r = await crew.stack.http.patch(
            crew.path(f"nodes/{node['id']}/"), json={"x": step, "y": step}, headers=crew.host.headers
        )
        assert r.status_code == 200, r.text


async def test_a_reconnecting_client_gets_exactly_the_50_changes_it_missed_in_order(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel)
    await crew.add_node(title="Seen")
    seen = await peer.wait_for(lambda f: f["op"] == "event")
    await peer.close()

    await _edit(crew, 50)

    peer = await stack.connect(crew.alice)
    answer = await peer.subscribe(crew.channel, since=seen["version"])
    assert answer["version"] == seen["version"] + 50
    await peer.wait_for(lambda f: f.get("version") == seen["version"] + 50 and f["op"] == "event")
    await crew.add_node(title="Live")
    await peer.wait_for(lambda f: f["op"] == "event" and f["data"].get("title") == "Live")
    versions = [e["version"] for e in peer.events(crew.channel)]
    assert versions == list(range(seen["version"] + 1, seen["version"] + 52))
    assert not [f for f in peer.frames if f["op"] == "resync"]
    await peer.close()


async def test_replayed_and_live_events_rebuild_the_snapshot(stack, crew):
    replica = Replica.of(await stack.snapshot(crew.team["id"], crew.mindmap["id"], crew.alice))
    await _edit(crew, 5)
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel, since=replica.version)
    await _edit(crew, 5)
    await peer.wait_for(lambda f: f.get("version") == 10)
    for event in peer.events(crew.channel):
        replica.apply(event)
    assert replica.same_as(await stack.snapshot(crew.team["id"], crew.mindmap["id"], crew.alice))
    await peer.close()


async def test_a_gap_beyond_the_history_gets_resync(stack, crew, monkeypatch):
    monkeypatch.setattr(kit_events, "HISTORY_MAX_EVENTS", 20)
    await crew.add_node(title="First")
    await _edit(crew, 30)
    peer = await stack.connect(crew.alice)
    answer = await peer.subscribe(crew.channel, since=1)
    assert answer["version"] == 31
    await peer.wait_for(lambda f: f["op"] == "resync" and f["channel"] == crew.channel)
    assert peer.events(crew.channel) == []
    await crew.add_node(title="After resync")
    event = await peer.wait_for(lambda f: f["op"] == "event")
    assert event["version"] == 32
    await peer.close()


async def test_a_version_the_map_never_had_gets_resync(stack, crew):
    await crew.add_node()
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel, since=500)
    await peer.wait_for(lambda f: f["op"] == "resync")
    await crew.add_node()
    assert (await peer.wait_for(lambda f: f["op"] == "event"))["version"] == 2
    await peer.close()


async def test_an_event_that_was_never_published_is_detected_and_resynced(stack, crew, monkeypatch):
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel)
    bus = stack.apps["teams"].state.events
    publish = bus.publish

    async def lose_one(channel, type_, data, *, version=None):
        if version == 2:
            return False  # the broker was down for this one: committed, never published
        return await publish(channel, type_, data, version=version)

    monkeypatch.setattr(bus, "publish", lose_one)
    for _ in range(3):
        await crew.add_node()
    await peer.wait_for(lambda f: f["op"] == "resync", timeout=3)
    versions = [e["version"] for e in peer.events(crew.channel)]
    assert versions == [1]
    await crew.add_node()
    await peer.wait_for(lambda f: f.get("version") == 4)
    assert stack.realtime().stats["resyncs"] == 1
    await peer.close()


async def test_events_published_out_of_order_are_delivered_in_order(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel)
    bus = stack.apps["teams"].state.events
    for version in (3, 1, 2):  # concurrent writers can publish after commit in any order
        await bus.publish(crew.channel, "node.updated", {"n": version}, version=version)
    await peer.wait_for(lambda f: f.get("version") == 3)
    await asyncio.sleep(0.1)
    assert [e["version"] for e in peer.events(crew.channel)] == [1, 2, 3]
    await peer.close()
