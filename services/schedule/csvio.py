"""CSV import and export of one member's availability: rows ``date,start,end`` in local time.

    date,start,end
    2026-11-30,09:00,11:30
    2026-11-30,14:00,24:00

Times are on the half-hour grid; ``24:00`` ends a day. An optional header row and blank lines are
skipped. Several rows of one date add up. Parsing is all or nothing: the first bad row is reported
with its line number and nothing is imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping

from .slots import SlotError, clock_of, parse_clock, range_mask, runs_of
from .timeline import RangeError, parse_date

HEADER = ("date", "start", "end")
MAX_ROWS = 5000  # about thirteen years of one row a day; more is not a personal calendar


class CsvError(ValueError):
    """A row that cannot be imported."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"Line {line}: {message}")
        self.line = line
        self.reason = message


def decode(raw: bytes) -> str:
    """Decode an upload as UTF-8 (a byte-order mark is allowed)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError(1, "The file is not UTF-8 text.") from None


def parse(text: str) -> dict[dt.date, int]:
    """Read rows into day masks; raise ``CsvError`` on the first bad row."""
    days: dict[dt.date, int] = {}
    reader = csv.reader(io.StringIO(text))
    rows = 0
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if rows == 0 and tuple(cell.lower() for cell in cells) == HEADER:
                rows += 1
                continue
            rows += 1
            if rows > MAX_ROWS:
                raise CsvError(line, f"The file has more than {MAX_ROWS} rows.")
            day, mask = _row(cells, line)
            days[day] = days.get(day, 0) | mask
    except csv.Error as exc:
        raise CsvError(reader.line_num or 1, f"The file is not valid CSV ({exc}).") from None
    return days


def _row(cells: list[str], line: int) -> tuple[dt.date, int]:
    if len(cells) != 3:
        raise CsvError(line, f"Expected 3 columns (date,start,end), found {len(cells)}.")
    try:
        day = parse_date(cells[0], "date")
        first = parse_clock(cells[1])
        end = parse_clock(cells[2], allow_midnight_end=True)
    except (RangeError, SlotError) as exc:
        raise CsvError(line, str(exc)) from None
    if end <= first:
        raise CsvError(line, f"The end {cells[2]} is not after the start {cells[1]}.")
    return day, range_mask(first, end)


def render(days: Mapping[dt.date, int]) -> str:
    """Write day masks as CSV rows, one per run of free slots, by date."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for day in sorted(days):
        for first, end in runs_of(days[day]):
            writer.writerow((day.isoformat(), clock_of(first), clock_of(end)))
    return out.getvalue()
