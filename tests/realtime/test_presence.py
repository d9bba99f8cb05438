"""Presence: who is on a map or team page, per connection, pushed as it changes."""

import pytest

pytestmark = pytest.mark.anyio


async def test_presence_lists_everyone_on_the_map_with_their_connections(stack, crew):
    host = await stack.connect(crew.host)
    await host.subscribe(crew.channel)
    await host.presence(crew.channel, {crew.host.id})
    alice_tabs = [await stack.connect(crew.alice) for _ in range(2)]
    for tab in alice_tabs:
        await tab.subscribe(crew.channel)
    frame = await host.wait_for(
        lambda f: f["op"] == "presence" and len(f["members"]) == 2 and sum(m["connections"] for m in f["members"]) == 3
    )
    assert {(m["user_id"], m["nickname"], m["connections"]) for m in frame["members"]} == {
        (crew.host.id, crew.host.nickname, 1),
        (crew.alice.id, crew.alice.nickname, 2),
    }
    for tab in alice_tabs:
        await tab.close()
    await host.presence(crew.channel, {crew.host.id})
    await host.close()


async def test_presence_of_a_team_page_is_its_own(stack, crew):
    host, alice = await stack.connect(crew.host), await stack.connect(crew.alice)
    await host.subscribe(crew.team_channel)
    await alice.subscribe(crew.channel)
    await host.presence(crew.team_channel, {crew.host.id})
    await alice.presence(crew.channel, {crew.alice.id})
    await alice.subscribe(crew.team_channel)
    await host.presence(crew.team_channel, {crew.host.id, crew.alice.id})
    for peer in (host, alice):
        await peer.close()
