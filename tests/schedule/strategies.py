"""Hypothesis strategies shared by the schedule service's property tests."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from services.schedule.slots import FULL_DAY


@st.composite
def teams(draw, *, max_members: int = 8, max_days: int = 5):
    """A team's members, a run of consecutive dates and each member's day masks (some empty)."""
    members = draw(st.lists(st.integers(1, 10_000), min_size=0, max_size=max_members, unique=True))
    first = draw(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
    dates = [first + dt.timedelta(days=n) for n in range(draw(st.integers(1, max_days)))]
    dense = draw(st.booleans())  # dense masks make long shared windows likely
    mask = st.integers(0, FULL_DAY).map(lambda m: m | (m >> 1) | (m << 1) & FULL_DAY) if dense else st.integers(0, FULL_DAY)
    masks = {uid: {day: draw(mask) for day in dates if draw(st.booleans()) or dense} for uid in members}
    return members, dates, masks
