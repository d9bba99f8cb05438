"""Ephemeral messages (cursors, drag previews): relayed to the channel's other subscribers, stamped with
the sender, never stored, at most 1 KB and 30 per second per connection."""

import asyncio

import pytest

pytestmark = pytest.mark.anyio


async def test_a_cursor_reaches_the_other_subscribers_stamped_with_the_sender(stack, crew):
    host, alice = await stack.connect(crew.host), await stack.connect(crew.alice)
    for peer in (host, alice):
        await peer.subscribe(crew.channel)
    await host.send(op="publish", channel=crew.channel, type="cursor", data={"x": 10, "y": 20, "from": {"user_id": 999}})
    message = await alice.wait_for(lambda f: f["op"] == "message")
    assert message["type"] == "cursor" and message["channel"] == crew.channel
    assert message["data"] == {"x": 10, "y": 20, "from": {"user_id": 999}}
    assert (message["from"]["user_id"], message["from"]["nickname"]) == (crew.host.id, crew.host.nickname)
    await asyncio.sleep(0.1)
    assert not [f for f in host.frames if f["op"] == "message"]  # never echoed to the sender
    assert await stack.http.get(crew.path(), headers=crew.host.headers) is not None
    assert (await stack.snapshot(crew.team["id"], crew.mindmap["id"], crew.host))["version"] == 0  # not stored
    for peer in (host, alice):
        await peer.close()


async def test_a_message_over_1_kb_is_refused(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel)
    await peer.send(op="publish", channel=crew.channel, type="drag", data={"pad": "x" * 1100})
    error = await peer.wait_for(lambda f: f["op"] == "error")
    assert error["code"] == "too_large"
    await peer.close()


async def test_only_30_messages_a_second_are_relayed_and_the_rest_are_counted(stack, crew):
    host, alice = await stack.connect(crew.host), await stack.connect(crew.alice)
    for peer in (host, alice):
        await peer.subscribe(crew.channel)
    for n in range(100):
        await host.send(op="publish", channel=crew.channel, type="cursor", data={"n": n})
    await host.wait_for(lambda f: f["op"] == "error" and f["code"] == "rate_limited")
    await asyncio.sleep(0.3)
    relayed = [f for f in alice.frames if f["op"] == "message"]
    assert 30 <= len(relayed) <= 45  # the burst of 30, plus what the bucket refilled meanwhile
    assert stack.realtime().stats["ephemeral_dropped"] == 100 - len(relayed)
    for peer in (host, alice):
        await peer.close()
