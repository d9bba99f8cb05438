"""Meeting suggestions: the best windows of a given length in a range of dates.

The range is one timeline of consecutive half-hour slots (day after day, so a window may run past
midnight). A window's attendees are the members free in *every* slot of it, so a window never covers
a slot lacking the attendance asked for. Windows are ranked by attendance (everyone first), then by
earliest start, and chosen greedily so that no two overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from .aggregate import Masks
from .slots import SLOTS_PER_DAY


class Window(NamedTuple):
    start: int  # index on the timeline: date index × 48 + slot
    length: int  # in slots
    attendees: tuple[int, ...]  # ascending user ids

    @property
    def end(self) -> int:
        return self.start + self.length


def free_sets(
    *, dates: Sequence[dt.date], members: Sequence[int], masks: Masks, closed: Mapping[dt.date, Iterable[int]] | None = None
) -> list[int]:
    """For each timeline slot, a bit set of the free members (bit i = ``members[i]``).

    ``closed`` names slots nobody can attend (local times that do not exist on a date).
    """
    free = [0] * (len(dates) * SLOTS_PER_DAY)
    for index, user_id in enumerate(members):
        bit = 1 << index
        days = masks.get(user_id, {})
        for position, day in enumerate(dates):
            mask = days.get(day, 0)
            base = position * SLOTS_PER_DAY
            while mask:
                low = mask & -mask
                free[base + low.bit_length() - 1] |= bit
                mask ^= low
    for position, day in enumerate(dates):
        for slot in (closed or {}).get(day, ()):
            free[position * SLOTS_PER_DAY + slot] = 0
    return free


def window_intersections(free: Sequence[int], length: int) -> list[int]:
    """AND of every run of ``length`` consecutive sets, in linear time (van Herk / Gil-Werman)."""
    total = len(free)
    if length <= 0 or length > total:
        return []
    prefix, suffix = list(free), list(free)
    for i in range(1, total):
        if i % length:
            prefix[i] &= prefix[i - 1]
    for i in range(total - 2, -1, -1):
        if (i + 1) % length:
            suffix[i] &= suffix[i + 1]
    return [suffix[i] & prefix[i + length - 1] for i in range(total - length + 1)]


def _bits(value: int) -> list[int]:
    out = []
    while value:
        low = value & -value
        out.append(low.bit_length() - 1)
        value ^= low
    return out


def suggest(
    *,
    dates: Sequence[dt.date],
    members: Collection[int],
    masks: Masks,
    length: int,
    min_attendance: int = 1,
    limit: int = 10,
    closed: Mapping[dt.date, Iterable[int]] | None = None,
) -> list[Window]:
    """Rank non-overlapping windows of ``length`` slots by attendance, then by start."""
    ordered = sorted(set(members))
    floor = max(1, min_attendance)
    free = free_sets(dates=dates, members=ordered, masks=masks, closed=closed)
    candidates = [
        (-together.bit_count(), start, together)
        for start, together in enumerate(window_intersections(free, length))
        if together.bit_count() >= floor
    ]
    candidates.sort()
    taken = bytearray(len(free))
    chosen: list[Window] = []
    for _, start, together in candidates:
        if len(chosen) >= limit:
            break
        if any(taken[start : start + length]):
            continue
        taken[start : start + length] = b"\x01" * length
        chosen.append(Window(start, length, tuple(ordered[i] for i in _bits(together))))
    return chosen
