"""CSV import and export of one's availability: round trips, and bad rows reported by line."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.schedule.csvio import CsvError, decode, parse, render
from services.schedule.slots import FULL_DAY

day_masks = st.dictionaries(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)), st.integers(1, FULL_DAY), max_size=10)


@given(day_masks)
def test_exported_rows_import_back_to_the_same_availability(days):
    assert parse(render(days)) == days


def test_rows_of_one_date_add_up_and_a_header_and_blank_lines_are_skipped():
    text = "date,start,end\n\n2026-11-30,09:00,11:30\n2026-11-30, 14:00 ,24:00\r\n2026-12-01,0:00,0:30\n"
    assert parse(text) == {dt.date(2026, 11, 30): ((1 << 23) - (1 << 18)) | ((1 << 48) - (1 << 28)), dt.date(2026, 12, 1): 1}


def test_export_writes_one_row_per_run_of_free_slots():
    assert (
        render({dt.date(2026, 11, 30): 0b111 << 18 | 1 << 47})
        == "date,start,end\r\n2026-11-30,09:00,10:30\r\n2026-11-30,23:30,24:00\r\n"
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("2026-11-30,09:00,11:30\n2026-11-31,09:00,10:00\n", 2, "not a calendar date"),
        ("date,start,end\n2026-11-30,09:15,10:00\n", 2, "half-hour"),
        ("2026-11-30,10:00,09:00\n", 1, "not after"),
        ("2026-11-30,10:00\n", 1, "3 columns"),
        ("\n\n2026-11-30,24:00,24:00\n", 3, "half-hour"),
        ("2026-11-30,9am,10:00\n", 1, "not a time"),
        ("30/11/2026,09:00,10:00\n", 1, "date like"),
    ],
)
def test_a_malformed_row_is_reported_with_its_line_number(text, line, words):
    with pytest.raises(CsvError) as caught:
        parse(text)
    assert caught.value.line == line
    assert words in caught.value.reason


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(CsvError, match="UTF-8"):
        decode(b"\xff\xfe2\x00")
    assert decode("\ufeffdate,start,end".encode()) == "date,start,end"
