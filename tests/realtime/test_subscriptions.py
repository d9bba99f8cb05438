"""Subscriptions: members only, on their team's channels and maps; a removed member's end at once."""

import asyncio
import time

import pytest

from .harness import eventually

pytestmark = pytest.mark.anyio


async def test_a_member_subscribes_to_the_team_and_its_map_and_hears_changes(stack, crew):
    peer = await stack.connect(crew.alice)
    assert (await peer.subscribe(crew.team_channel)) == {"op": "subscribed", "channel": crew.team_channel, "version": None}
    assert (await peer.subscribe(crew.channel))["version"] == 0
    node = await crew.add_node(crew.host, title="Hello")
    event = await peer.wait_for(lambda f: f["op"] == "event" and f["channel"] == crew.channel)
    assert (event["type"], event["version"], event["data"]["id"], event["data"]["title"]) == (
        "node.created",
        1,
        node["id"],
        "Hello",
    )
    r = await stack.http.post(
        f"/api/v1/teams/{crew.team['id']}/todos/", json={"content": "Write it"}, headers=crew.host.headers
    )
    assert r.status_code == 201, r.text
    todo = await peer.wait_for(
        lambda f: f["op"] == "event" and f["channel"] == crew.team_channel and f["type"] == "todo.created"
    )
    assert todo["data"]["content"] == "Write it" and "version" not in todo
    await peer.close()


async def test_a_non_member_cannot_subscribe_to_a_team_or_its_maps(stack, crew):
    mallory = await stack.signup("mallory")
    peer = await stack.connect(mallory)
    for channel in (crew.team_channel, crew.channel, "mindmap.999999", "team.999999"):
        answer = await peer.subscribe(channel)
        assert (answer["op"], answer["code"]) == ("error", "forbidden"), channel
    await crew.add_node(crew.host)
    await asyncio.sleep(0.2)
    assert peer.events(crew.channel) == []
    await peer.close()


async def test_a_member_of_another_team_cannot_subscribe_to_this_teams_map(stack, crew):
    bob = await stack.signup("bob")
    other_team = await stack.team(bob, name="Other")
    await stack.mindmap(other_team, bob, title="Theirs")
    peer = await stack.connect(bob)
    assert (await peer.subscribe(f"team.{other_team['id']}"))["op"] == "subscribed"
    answer = await peer.subscribe(crew.channel)
    assert (answer["op"], answer["code"]) == ("error", "forbidden")
    await peer.close()


async def test_malformed_frames_get_errors_and_the_socket_stays_open(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.ws.send("not json")
    await peer.send(op="dance")
    await peer.send(op="subscribe", channel="users.1")
    await peer.send(op="subscribe", channel=crew.channel, since=-1)
    await peer.send(op="publish", channel=crew.channel, type="cursor", data={"x": 1})

    def errors() -> list[str]:
        codes = [f["code"] for f in peer.frames if f["op"] == "error"]
        return codes if len(codes) == 5 else []

    assert await eventually(errors) == ["bad_frame", "unknown_op", "bad_channel", "bad_frame", "not_subscribed"]
    await peer.send(op="ping")
    await peer.wait_for(lambda f: f["op"] == "pong")
    await peer.close()


async def test_a_removed_member_loses_the_team_and_map_subscriptions_within_a_second(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.team_channel)
    await peer.subscribe(crew.channel)
    started = time.monotonic()
    r = await stack.http.delete(f"/api/v1/teams/{crew.team['id']}/members/{crew.alice.id}/", headers=crew.host.headers)
    assert r.status_code == 204, r.text
    ended = {
        (await peer.wait_for(lambda f, c=c: f["op"] == "unsubscribed" and f["channel"] == c, timeout=1.0))["reason"]
        for c in (crew.team_channel, crew.channel)
    }
    assert ended == {"membership_ended"}
    assert time.monotonic() - started < 1.0
    await crew.add_node(crew.host, title="After")
    answer = await peer.subscribe(crew.channel)
    assert (answer["op"], answer["code"]) == ("error", "forbidden")
    assert [e["data"].get("title") for e in peer.events(crew.channel)] == []
    await peer.close()


async def test_a_member_who_leaves_loses_a_map_subscription_even_without_the_team_page(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel)
    r = await stack.http.delete(f"/api/v1/teams/{crew.team['id']}/members/{crew.alice.id}/", headers=crew.alice.headers)
    assert r.status_code == 204, r.text
    ended = await peer.wait_for(lambda f: f["op"] == "unsubscribed", timeout=1.0)
    assert (ended["channel"], ended["reason"]) == (crew.channel, "membership_ended")
    await peer.close()


async def test_deleting_a_map_announces_it_and_ends_its_subscriptions(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel)
    r = await stack.http.delete(crew.path(), headers=crew.host.headers)
    assert r.status_code == 204, r.text
    event = await peer.wait_for(lambda f: f["op"] == "event" and f["type"] == "mindmap.deleted")
    assert event["version"] == 1
    ended = await peer.wait_for(lambda f: f["op"] == "unsubscribed")
    assert ended["reason"] == "deleted"
    await peer.close()


async def test_unsubscribing_stops_the_events(stack, crew):
    peer = await stack.connect(crew.alice)
    await peer.subscribe(crew.channel)
    await peer.send(op="unsubscribe", channel=crew.channel)
    await peer.wait_for(lambda f: f["op"] == "unsubscribed" and f["reason"] == "requested")
    await crew.add_node(crew.host)
    await asyncio.sleep(0.2)
    assert peer.events(crew.channel) == []
    assert stack.realtime().hubs.get(crew.channel) is None
    await peer.close()
