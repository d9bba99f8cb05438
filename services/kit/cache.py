"""Encoded JSON answers kept in memory, valid only under the versions they were built from.

A read that is asked far more often than its data changes (a team's availability view, its todo
list) is encoded once, with its gzip form, and served again while the versions it was built under
are still current. The versions are read on every request from where every instance sees them (the
database row the request reads anyway, or the broker), and the writer bumps them after its commit and
before it acknowledges the write, so no instance serves a stale answer once a write is acknowledged.
"""

from __future__ import annotations

import gzip
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

GZIP_MIN_BYTES = 1024  # the gateway's gzip_min_length: smaller answers are not worth compressing
GZIP_LEVEL = 6  # paid once per version, not per request


@dataclass(slots=True)
class Encoded:
    """One answer as JSON bytes, and its gzip form once a client asked for it."""

    body: bytes
    tag: Hashable
    made: float = field(default_factory=time.monotonic)
    gz: bytes | None = None

    def gzipped(self) -> bytes:
        if self.gz is None:
            self.gz = gzip.compress(self.body, GZIP_LEVEL, mtime=0)
        return self.gz


def encode(data: Any, tag: Hashable = None) -> Encoded:
    return Encoded(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), tag)


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")


def respond(request: Request, encoded: Encoded, status: int = 200) -> Response:
    """The answer, gzip-compressed when the client accepts it (the gateway passes it through as it is)."""
    headers = {"Vary": "Accept-Encoding"}
    if len(encoded.body) >= GZIP_MIN_BYTES and accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(encoded.gzipped(), status_code=status, media_type="application/json", headers=headers)
    return Response(encoded.body, status_code=status, media_type="application/json", headers=headers)


class ResponseCache:
    """A bounded, least-recently-used map of key -> Encoded, each valid under one tag for ``max_age_s``."""

    def __init__(self, *, max_entries: int = 1024, max_age_s: float = 60.0) -> None:
        self._entries: OrderedDict[Hashable, Encoded] = OrderedDict()
        self.max_entries, self.max_age_s = max_entries, max_age_s
        self.hits = self.misses = 0

    def get(self, key: Hashable, tag: Hashable) -> Encoded | None:
        """The answer stored under ``key`` if it was built under ``tag`` and is young enough."""
        entry = self._entries.get(key)
        if entry is None or entry.tag != tag or time.monotonic() - entry.made > self.max_age_s:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: Hashable, tag: Hashable, data: Any) -> Encoded:
        """Encode ``data``, keep it under ``key`` and ``tag`` (a None tag is encoded, never kept)."""
        encoded = encode(data, tag)
        if tag is None:
            return encoded
        self._entries[key] = encoded
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return encoded

    def clear(self) -> None:
        self._entries.clear()
