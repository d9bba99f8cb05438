"""The team view: per date and slot, who of the current members is free.

Pure functions over masks (``{user_id: {date: mask}}``); nothing here knows about HTTP or storage.
Only the members passed in count, so availability left behind by a former member is ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .slots import SLOTS_PER_DAY

Masks = Mapping[int, Mapping[dt.date, int]]


@dataclass(frozen=True, slots=True)
class Slot:  # not a NamedTuple: the ``count`` field would shadow tuple.count
    count: int
    share: float
    who: list[int]
    everyone: bool


class Day(NamedTuple):
    date: dt.date
    slots: list[Slot]


def who_is_free(*, day: dt.date, members: Sequence[int], masks: Masks) -> list[list[int]]:
    """For each slot of a date, the members free in it (ascending ids)."""
    who: list[list[int]] = [[] for _ in range(SLOTS_PER_DAY)]
    for user_id in members:
        mask = masks.get(user_id, {}).get(day, 0)
        while mask:
            low = mask & -mask
            who[low.bit_length() - 1].append(user_id)
            mask ^= low
    return who


def team_view(*, dates: Sequence[dt.date], members: Collection[int], masks: Masks) -> list[Day]:
    """Count, share and names of the free members for every slot of every date."""
    ordered = sorted(set(members))
    size = len(ordered)
    days = []
    for day in dates:
        slots = [
            Slot(len(who), round(len(who) / size, 4) if size else 0.0, who, size > 0 and len(who) == size)
            for who in who_is_free(day=day, members=ordered, masks=masks)
        ]
        days.append(Day(day, slots))
    return days
