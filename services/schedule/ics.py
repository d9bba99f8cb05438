"""An iCalendar (RFC 5545) document holding one event: CRLF lines folded at 75 octets, text escaped,
times in UTC."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata

PRODID = "-//TeamMoa//Schedule//EN"
FOLD_OCTETS = 75


def escape(text: str) -> str:
    """Escape a TEXT value (backslash, semicolon, comma, line breaks); other control characters, and the
    Unicode line and paragraph separators some readers break lines at, are removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or not _unsafe(ch))
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\n", "\\n")


def _unsafe(char: str) -> bool:
    """Control characters (Cc), U+2028/U+2029 (Zl, Zp) and lone surrogates have no place in a TEXT value."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs")


def plain(text: str) -> str:
    """Text without the characters ``escape`` removes (for mail subjects and quoted parameters)."""
    return "".join(ch for ch in text if not _unsafe(ch))


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a character."""
    chunks: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        limit = FOLD_OCTETS if not chunks else FOLD_OCTETS - 1  # continuation lines start with a space
        if size + width > limit:
            chunks.append(current)
            current, size = "", 0
        current += char
        size += width
    chunks.append(current)
    return "\r\n ".join(chunks)


def utc_stamp(value: dt.datetime) -> str:
    """Render an aware instant as an iCalendar UTC date-time."""
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def event_uid(*, team_id: int, start: dt.datetime, end: dt.datetime, host: str) -> str:
    """A stable UID, so downloading the same window twice updates one calendar entry."""
    key = f"{team_id}:{utc_stamp(start)}:{utc_stamp(end)}".encode()
    return f"{hashlib.sha256(key).hexdigest()[:32]}@{host}"


def calendar(
    *, uid: str, start: dt.datetime, end: dt.datetime, summary: str, description: str = "", stamp: dt.datetime | None = None
) -> str:
    """Build a VCALENDAR with one VEVENT."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{utc_stamp(stamp or dt.datetime.now(dt.UTC))}",
        f"DTSTART:{utc_stamp(start)}",
        f"DTEND:{utc_stamp(end)}",
        f"SUMMARY:{escape(summary)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape(description)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
