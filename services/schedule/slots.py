"""Half-hour slots of a local day and the 48-bit masks they are stored as.

Slot ``k`` of a date covers the local wall-clock minutes ``30·k`` to ``30·k + 30`` in the team's time
zone; bit ``k`` of a day's mask is set when the member is free in that slot.
"""

from __future__ import annotations

from collections.abc import Iterable

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES  # 48
FULL_DAY = (1 << SLOTS_PER_DAY) - 1


class SlotError(ValueError):
    """A slot number or a time of day that does not fall on the half-hour grid."""


def mask_of(slots: Iterable[int]) -> int:
    """Turn slot numbers into a day mask (duplicates are harmless)."""
    mask = 0
    for slot in slots:
        if not 0 <= slot < SLOTS_PER_DAY:
            raise SlotError(f"Slot {slot} is out of range (0–{SLOTS_PER_DAY - 1}).")
        mask |= 1 << slot
    return mask


def slots_of(mask: int) -> list[int]:
    """List the slot numbers set in a day mask, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def runs_of(mask: int) -> list[tuple[int, int]]:
    """Split a day mask into maximal runs ``(first_slot, end_slot_exclusive)``."""
    runs: list[tuple[int, int]] = []
    for slot in slots_of(mask):
        if runs and runs[-1][1] == slot:
            runs[-1] = (runs[-1][0], slot + 1)
        else:
            runs.append((slot, slot + 1))
    return runs


def range_mask(first: int, end: int) -> int:
    """The mask of slots ``first`` up to, not including, ``end``."""
    if not 0 <= first < end <= SLOTS_PER_DAY:
        raise SlotError(f"The slot range {first}–{end} is not valid.")
    return ((1 << end) - 1) ^ ((1 << first) - 1)


def parse_clock(text: str, *, allow_midnight_end: bool = False) -> int:
    """Turn ``HH:MM`` on the half-hour grid into a slot boundary (0–48)."""
    hours, sep, minutes = text.strip().partition(":")
    if (
        not sep
        or not (hours.isascii() and minutes.isascii() and hours.isdigit() and minutes.isdigit())
        or len(minutes) != 2
        or not 1 <= len(hours) <= 2
    ):
        raise SlotError(f"{text.strip()!r} is not a time like 09:30.")
    h, m = int(hours), int(minutes)
    if m not in (0, 30) or h > 24 or (h == 24 and (m or not allow_midnight_end)):
        last = "24:00" if allow_midnight_end else "23:30"
        raise SlotError(f"{text.strip()!r} is not on the half-hour grid (00:00–{last}).")
    return h * 2 + m // 30


def clock_of(boundary: int) -> str:
    """Render a slot boundary (0–48) as ``HH:MM``."""
    minutes = boundary * SLOT_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
