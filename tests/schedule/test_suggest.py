"""Properties of meeting suggestions: inside everyone's availability, ranked, non-overlapping, complete."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from services.schedule.slots import SLOTS_PER_DAY
from services.schedule.suggest import suggest, window_intersections

from .strategies import teams

lengths = st.integers(1, 8)
floors = st.integers(1, 4)


def _free(masks, uid, dates, index):
    day, slot = divmod(index, SLOTS_PER_DAY)
    return bool(masks.get(uid, {}).get(dates[day], 0) >> slot & 1)


def _attendees(members, masks, dates, start, length):
    return tuple(sorted(uid for uid in members if all(_free(masks, uid, dates, i) for i in range(start, start + length))))


@given(teams(), lengths, floors)
def test_every_window_lies_inside_the_availability_of_every_member_it_counts(team, length, floor):
    members, dates, masks = team
    for window in suggest(dates=dates, members=members, masks=masks, length=length, min_attendance=floor):
        assert window.length == length
        assert window.start >= 0 and window.end <= len(dates) * SLOTS_PER_DAY
        assert len(window.attendees) >= floor
        for uid in window.attendees:
            assert uid in members
            assert all(_free(masks, uid, dates, i) for i in range(window.start, window.end))
        assert window.attendees == _attendees(members, masks, dates, window.start, length)  # nobody left out


@given(teams(), lengths, floors)
def test_windows_are_sorted_by_attendance_then_start_and_never_overlap(team, length, floor):
    members, dates, masks = team
    windows = suggest(dates=dates, members=members, masks=masks, length=length, min_attendance=floor, limit=50)
    keys = [(-len(w.attendees), w.start) for w in windows]
    assert keys == sorted(keys)
    spans = sorted((w.start, w.end) for w in windows)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


@given(teams(), lengths, floors)
def test_when_fewer_than_the_limit_come_back_no_qualifying_window_was_left_out(team, length, floor):
    members, dates, masks = team
    windows = suggest(dates=dates, members=members, masks=masks, length=length, min_attendance=floor, limit=1000)
    taken = set()
    for w in windows:
        taken.update(range(w.start, w.end))
    for start in range(len(dates) * SLOTS_PER_DAY - length + 1):
        if len(_attendees(members, masks, dates, start, length)) >= floor:
            assert taken & set(range(start, start + length)), f"window at {start} was free to suggest"


@given(teams(), lengths, floors, st.randoms(use_true_random=False))
def test_shuffling_the_members_changes_nothing(team, length, floor, rnd):
    members, dates, masks = team
    shuffled = list(members)
    rnd.shuffle(shuffled)
    reordered = {uid: masks[uid] for uid in reversed(list(masks))}
    expected = suggest(dates=dates, members=members, masks=masks, length=length, min_attendance=floor)
    assert suggest(dates=dates, members=shuffled, masks=reordered, length=length, min_attendance=floor) == expected


@given(teams(), lengths)
def test_the_first_window_has_the_best_attendance_anywhere(team, length):
    members, dates, masks = team
    windows = suggest(dates=dates, members=members, masks=masks, length=length)
    best = max(
        (len(_attendees(members, masks, dates, s, length)) for s in range(len(dates) * SLOTS_PER_DAY - length + 1)),
        default=0,
    )
    if best == 0:
        assert windows == []
    else:
        assert len(windows[0].attendees) == best


@given(st.lists(st.integers(0, 255), min_size=1, max_size=60), st.integers(1, 12))
def test_sliding_intersections_equal_the_naive_and(sets, length):
    expected = []
    for start in range(len(sets) - length + 1):
        value = -1
        for item in sets[start : start + length]:
            value &= item
        expected.append(value)
    assert window_intersections(sets, length) == expected


@given(teams(max_days=3), lengths)
def test_closed_slots_are_never_suggested(team, length):
    members, dates, masks = team
    closed = {dates[0]: [4, 5]}
    for window in suggest(dates=dates, members=members, masks=masks, length=length, closed=closed, limit=100):
        assert not {4, 5} & set(range(window.start, window.end))


def test_a_window_may_run_past_midnight_into_the_next_date():
    days = [dt.date(2026, 11, 30), dt.date(2026, 12, 1)]
    masks = {1: {days[0]: 1 << 47, days[1]: 1}, 2: {days[0]: 1 << 47, days[1]: 1}}
    [window] = suggest(dates=days, members=[1, 2], masks=masks, length=2)
    assert (window.start, window.end, window.attendees) == (47, 49, (1, 2))


def test_everyone_comes_first_even_when_a_smaller_group_is_free_earlier():
    day = dt.date(2026, 11, 30)
    masks = {1: {day: 0b0011_1111}, 2: {day: 0b0011_0000}, 3: {day: 0b0011_0011}}
    windows = suggest(dates=[day], members=[1, 2, 3], masks=masks, length=2, limit=3)
    assert [(w.start, w.attendees) for w in windows] == [(4, (1, 2, 3)), (0, (1, 3)), (2, (1,))]


def test_a_window_that_would_cross_a_slot_below_the_minimum_is_not_offered():
    day = dt.date(2026, 11, 30)
    masks = {1: {day: 0b1101}, 2: {day: 0b1101}}
    assert suggest(dates=[day], members=[1, 2], masks=masks, length=3, min_attendance=2) == []
    assert [w.start for w in suggest(dates=[day], members=[1, 2], masks=masks, length=2, min_attendance=2)] == [2]
