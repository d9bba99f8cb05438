"""sequencing.Subscription on its own: the ordering rule of mind-map subscriptions, with a socket that
only records what it is sent (the thing under test is the subscription, not the socket)."""

from __future__ import annotations

import json
import time

from services.realtime import protocol
from services.realtime.sequencing import GAP_WAIT_S, MAX_PENDING, Subscription

CHANNEL = "mindmap.7"


class Socket:
    """Records the frames a subscription sends."""

    def __init__(self) -> None:
        self.id = "instance:1"
        self.frames: list[str] = []

    def send(self, frame: str, *, droppable: bool = False) -> bool:
        self.frames.append(frame)
        return True

    def versions(self) -> list[int | None]:
        return [json.loads(f).get("version") for f in self.frames if json.loads(f)["op"] == "event"]

    def ops(self) -> list[str]:
        return [json.loads(f)["op"] for f in self.frames]


def event(version: int) -> str:
    return protocol.event(CHANNEL, "node.updated", {"id": 1}, version)


def subscription(*, ready_at: int | None = 0) -> tuple[Subscription[Socket], Socket]:
    socket = Socket()
    sub = Subscription(socket, CHANNEL, team_id=3, versioned=True)
    if ready_at is not None:
        sub.start(version=ready_at, known=ready_at)
    return sub, socket


def test_events_in_order_go_out_at_once():
    sub, socket = subscription()
    for version in (1, 2, 3):
        sub.offer(version, event(version))
    assert socket.versions() == [1, 2, 3] and sub.version == 3 and not sub.gapped


def test_an_early_event_waits_for_the_ones_before_it():
    sub, socket = subscription()
    sub.offer(3, event(3))
    assert socket.versions() == [] and sub.gapped
    sub.offer(2, event(2))
    assert socket.versions() == []
    sub.offer(1, event(1))
    assert socket.versions() == [1, 2, 3] and not sub.gapped and sub.pending == {}


def test_duplicates_and_old_versions_are_dropped():
    sub, socket = subscription(ready_at=5)
    sub.offer(4, event(4))
    sub.offer(5, event(5))
    sub.offer(6, event(6))
    sub.offer(6, event(6))
    assert socket.versions() == [6]


def test_before_it_is_ready_everything_waits_then_replay_and_live_events_merge_by_version():
    sub, socket = subscription(ready_at=None)
    sub.offer(12, event(12))  # live, while the history is being read
    sub.offer(11, event(11))
    assert socket.frames == [] and not sub.ready
    sub.start(version=10, known=12)  # the client had 10
    assert socket.versions() == [11, 12] and sub.version == 12 and not sub.gapped


def test_a_gap_is_noticed_and_ages():
    sub, _socket = subscription()
    sub.offer(2, event(2))
    assert sub.gapped and sub.gap_older_than(0) and not sub.gap_older_than(GAP_WAIT_S * 100)
    sub.gap_since = time.monotonic() - GAP_WAIT_S
    assert sub.gap_older_than(GAP_WAIT_S)


def test_resync_tells_the_client_and_carries_on_from_the_newest_version():
    sub, socket = subscription()
    sub.offer(4, event(4))
    sub.resync()
    assert socket.ops() == ["resync"] and sub.version == 4 and sub.pending == {} and not sub.gapped
    sub.offer(5, event(5))
    assert socket.versions() == [5]


def test_too_many_waiting_events_turn_into_a_resync():
    sub, socket = subscription()
    for version in range(2, MAX_PENDING + 3):
        sub.offer(version, event(version))
    assert "resync" in socket.ops() and len(sub.pending) <= MAX_PENDING


def test_unversioned_frames_are_sent_only_once_ready():
    sub, socket = subscription(ready_at=None)
    sub.deliver(protocol.PONG)
    assert socket.frames == []
    sub.start(version=0, known=0)
    sub.deliver(protocol.PONG)
    assert socket.frames == [protocol.PONG]


def test_once_subscribed_is_sent_cursors_go_out_while_the_history_replays():
    sub, socket = subscription(ready_at=None)
    cursor = protocol.message(CHANNEL, "cursor", {"user_id": 2, "nickname": "bo"}, {"x": 1})
    sub.deliver(cursor, droppable=True)
    assert socket.frames == []  # not subscribed yet: nothing of the channel goes out
    sub.announce(protocol.subscribed(CHANNEL, 4))
    sub.offer(5, event(5))  # live, during the replay: waits for the replayed ones
    sub.deliver(cursor, droppable=True)  # before: dropped until the replay ended
    assert socket.ops() == ["subscribed", "message"]
    sub.start(version=3, known=4)
    sub.offer(4, event(4))
    assert socket.versions() == [4, 5]
