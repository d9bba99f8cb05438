"""Properties of the team view: counts, shares, who and the everyone flag."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from services.schedule.aggregate import team_view
from services.schedule.slots import SLOTS_PER_DAY

from .strategies import teams


@given(teams())
def test_each_slot_lists_exactly_the_members_free_in_it(team):
    members, dates, masks = team
    days = team_view(dates=dates, members=members, masks=masks)
    assert [d.date for d in days] == dates
    for day in days:
        assert len(day.slots) == SLOTS_PER_DAY
        for k, slot in enumerate(day.slots):
            expected = sorted(uid for uid in members if masks.get(uid, {}).get(day.date, 0) >> k & 1)
            assert slot.who == expected
            assert slot.count == len(expected)
            assert slot.everyone == (bool(members) and len(expected) == len(members))
            assert slot.share == (round(len(expected) / len(members), 4) if members else 0.0)
            assert 0.0 <= slot.share <= 1.0


@given(teams(), st.randoms(use_true_random=False))
def test_shuffling_the_members_changes_nothing(team, rnd):
    members, dates, masks = team
    shuffled = list(members)
    rnd.shuffle(shuffled)
    reordered = {uid: masks[uid] for uid in reversed(list(masks))}
    assert team_view(dates=dates, members=shuffled, masks=reordered) == team_view(dates=dates, members=members, masks=masks)


@given(teams(), st.integers(20_000, 30_000))
def test_availability_of_someone_no_longer_a_member_is_ignored(team, former):
    members, dates, masks = team
    with_former = {**masks, former: dict.fromkeys(dates, (1 << SLOTS_PER_DAY) - 1)}
    assert team_view(dates=dates, members=members, masks=with_former) == team_view(dates=dates, members=members, masks=masks)


def test_a_slot_where_all_members_are_free_is_flagged():
    day = dt.date(2026, 11, 30)
    masks = {1: {day: 0b1100}, 2: {day: 0b0100}}
    slots = team_view(dates=[day], members=[2, 1], masks=masks)[0].slots
    assert (slots[2].count, slots[2].share, slots[2].who, slots[2].everyone) == (2, 1.0, [1, 2], True)
    assert (slots[3].count, slots[3].share, slots[3].who, slots[3].everyone) == (1, 0.5, [1], False)
    assert (slots[4].count, slots[4].everyone) == (0, False)


def test_a_team_without_members_has_empty_slots_and_no_everyone_flag():
    day = dt.date(2026, 11, 30)
    slots = team_view(dates=[day], members=[], masks={}).pop().slots
    assert all(s.count == 0 and s.share == 0.0 and not s.everyone for s in slots)
