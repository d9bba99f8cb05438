"""One socket's subscription to one channel, and the ordering rule for mind maps.

A mind-map subscription delivers versions strictly one after another: ``version`` is the last one the
client was sent. An event at ``version + 1`` goes out at once; a later one waits in ``pending`` (events of
concurrent writers can be published out of order); an earlier one is a duplicate and is dropped. A gap
that does not fill by itself within ``GAP_WAIT_S`` is looked up in the history; if the history cannot fill
it either, the client is told to ``resync`` and delivery continues from the newest version known.

Until the subscription is ``ready`` (its ``subscribed`` frame sent and the history replayed) every live
event only waits in ``pending``: subscribe to live first, buffer, replay, then drop duplicates by version.
Unversioned frames (cursors, presence) go out as soon as the ``subscribed`` frame has: the client is
subscribed from then on, whatever the replay still has to send.
"""

from __future__ import annotations

import time
from typing import Any, Generic, Protocol, TypeVar

from . import protocol

GAP_WAIT_S = 1.0  # how long an out-of-order event may wait for the ones before it
MAX_PENDING = 1000  # more waiting events than this and the client is better off refetching the snapshot


class Outlet(Protocol):
    """What a subscription needs of its socket (connection.Connection is one): an id and a way to send."""

    @property
    def id(self) -> str: ...

    def send(self, frame: str, *, droppable: bool = False) -> bool: ...


ConnT = TypeVar("ConnT", bound=Outlet)


class Subscription(Generic[ConnT]):
    """A connection's subscription to a channel (``team_id`` is the team that owns the channel)."""

    __slots__ = (
        "announced",
        "channel",
        "conn",
        "gap_since",
        "hubs",
        "pending",
        "ready",
        "team_id",
        "version",
        "versioned",
        "want",
    )

    def __init__(self, conn: ConnT, channel: str, *, team_id: int, versioned: bool, hubs: tuple[Any, ...] = ()) -> None:
        self.conn, self.channel, self.team_id, self.versioned = conn, channel, team_id, versioned
        self.hubs = hubs  # the hubs.Hub objects it holds (its channel's, its team's): opaque here, no import of hubs
        self.announced = False  # the ``subscribed`` frame went out
        self.ready = False
        self.version = 0
        self.want = 0  # the newest version known to exist
        self.pending: dict[int, str] = {}
        self.gap_since: float | None = None

    def announce(self, frame: str) -> None:
        """Send the ``subscribed`` frame: from now on the client hears the channel's unversioned frames."""
        self.conn.send(frame)
        self.announced = True

    def deliver(self, frame: str, *, droppable: bool = False) -> None:
        """Send an unversioned frame (team events, presence, ephemeral messages) once announced."""
        if self.announced:
            self.conn.send(frame, droppable=droppable)

    def offer(self, version: int, frame: str) -> None:
        """Take a versioned event: send it in order, hold it until its predecessors arrive, or drop a duplicate."""
        if not self.ready:
            self._hold(version, frame)
            return
        if version <= self.version:
            return
        if version == self.version + 1:
            self.conn.send(frame)
            self.version = version
            self._drain()
        else:
            self._hold(version, frame)
        self._note_gap()

    def start(self, *, version: int, known: int) -> None:
        """Become ready at ``version`` (the client has everything up to it); ``known`` exists upstream."""
        self.announced, self.ready, self.version = True, True, version
        self.want = max(self.want, known)
        self._drain()
        self._note_gap()

    def resync(self) -> None:
        """Tell the client to refetch the snapshot; carry on from the newest version known."""
        self.conn.send(protocol.resync(self.channel))
        self.version = max([self.version, self.want, *self.pending])
        self.pending.clear()
        self.gap_since = None

    @property
    def gapped(self) -> bool:
        return self.ready and self.want > self.version

    def gap_older_than(self, seconds: float) -> bool:
        return self.gap_since is not None and time.monotonic() - self.gap_since >= seconds

    def _hold(self, version: int, frame: str) -> None:
        self.pending[version] = frame
        self.want = max(self.want, version)
        if len(self.pending) > MAX_PENDING and self.ready:
            self.resync()

    def _drain(self) -> None:
        while (following := self.version + 1) in self.pending:
            self.conn.send(self.pending.pop(following))
            self.version = following
        if self.pending and min(self.pending) <= self.version:
            self.pending = {v: f for v, f in self.pending.items() if v > self.version}

    def _note_gap(self) -> None:
        if self.want > self.version:
            if self.gap_since is None:
                self.gap_since = time.monotonic()
        else:
            self.gap_since = None
