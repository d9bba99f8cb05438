"""Two realtime instances on one Redis share events, ephemeral messages and presence."""

import asyncio

import pytest

from .conftest import make_crew, need_redis
from .harness import running_stack

pytestmark = pytest.mark.anyio


@pytest.fixture(name="pair")
async def fx_pair(environ):
    """Two realtime instances (A inside the gateway, B on its own port), each with its own Redis bus."""
    environ = {**environ, "TEAMMOA_REDIS_URL": need_redis(), "TEAMMOA_PRESENCE_TTL_S": "1.5"}
    async with running_stack(environ, instances=2) as stack:
        yield stack


async def test_a_client_on_one_instance_sees_a_node_made_by_a_client_of_the_other(pair):
    crew = await make_crew(pair)
    on_a, on_b = await pair.connect(crew.alice, instance=0), await pair.connect(crew.host, instance=1)
    for peer in (on_a, on_b):
        await peer.subscribe(crew.channel)
    node = await crew.add_node(crew.host, title="From B")
    event = await on_a.wait_for(lambda f: f["op"] == "event")
    assert (event["type"], event["data"]["id"], event["version"]) == ("node.created", node["id"], 1)
    await on_b.wait_for(lambda f: f["op"] == "event")
    for peer in (on_a, on_b):
        await peer.presence(crew.channel, {crew.host.id, crew.alice.id})
    await on_b.send(op="publish", channel=crew.channel, type="cursor", data={"x": 1, "y": 2})
    cursor = await on_a.wait_for(lambda f: f["op"] == "message")
    assert cursor["from"]["user_id"] == crew.host.id and cursor["data"] == {"x": 1, "y": 2}
    assert pair.realtime(0).hubs.get(crew.channel) is not pair.realtime(1).hubs.get(crew.channel)
    for peer in (on_a, on_b):
        await peer.close()


async def test_a_member_removed_while_on_the_other_instance_is_cut_off(pair):
    crew = await make_crew(pair)
    peer = await pair.connect(crew.alice, instance=1)
    await peer.subscribe(crew.channel)
    r = await pair.http.delete(f"/api/v1/teams/{crew.team['id']}/members/{crew.alice.id}/", headers=crew.host.headers)
    assert r.status_code == 204
    ended = await peer.wait_for(lambda f: f["op"] == "unsubscribed", timeout=1.0)
    assert ended["reason"] == "membership_ended"
    await peer.close()


async def test_the_presence_of_a_dead_instance_expires_on_the_others(pair):
    crew = await make_crew(pair)
    on_a, on_b = await pair.connect(crew.host, instance=0), await pair.connect(crew.alice, instance=1)
    for peer in (on_a, on_b):
        await peer.subscribe(crew.channel)
    await on_a.presence(crew.channel, {crew.host.id, crew.alice.id})
    dying = pair.realtime(1)
    for task in list(dying._tasks):  # the instance freezes: no more heartbeats, no goodbyes
        task.cancel()

    async def vanish(channel, conn_id):
        return None

    dying.presence.remove = vanish
    await on_b.close()
    await asyncio.sleep(0.3)
    still_listed = await on_a.wait_for(lambda f: f["op"] == "presence", start=len(on_a.frames) - 1)
    assert {m["user_id"] for m in still_listed["members"]} == {crew.host.id, crew.alice.id}  # not yet expired
    await on_a.presence(crew.channel, {crew.host.id}, timeout=4.0)
    await on_a.close()
