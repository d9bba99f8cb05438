"""JSON parsing with a nesting limit: 100,000 ``[`` must be a 4xx (HTTP) or a protocol error (WebSocket),
never Python's RecursionError turning into a 500 or a 1011.

The check runs only when the text has more brackets than the limit, and then in C-speed passes: strings
are blanked, and each pass removes the innermost ``[...]`` / ``{...}`` pairs; whatever is left after
``MAX_DEPTH`` passes is nested too deep (or unbalanced, which is not JSON either).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # request bodies and frames of this API nest a handful of levels
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_INNERMOST = re.compile(rb"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")


class TooDeep(ValueError):
    """The document nests deeper than the limit."""


def check_depth(raw: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Raise TooDeep when ``raw`` nests arrays/objects deeper than ``max_depth``."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return
    text = _STRING.sub(b'""', raw)
    for _ in range(max_depth):
        shorter = _INNERMOST.sub(b"", text)
        if shorter == text:
            break
        text = shorter
    if b"[" in text or b"{" in text:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses documents nested deeper than ``max_depth`` (ValueError)."""
    check_depth(raw.encode() if isinstance(raw, str) else bytes(raw), max_depth)
    try:
        return json.loads(raw)
    except RecursionError:  # belt and braces: never a 500
        raise TooDeep("JSON nested too deeply") from None
