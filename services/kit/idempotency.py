"""``Idempotency-Key`` for unsafe requests: a retried POST is answered from the first attempt, never
applied twice.

    @idempotent
    async def create_todo(request): ...

A request carrying the header is recorded under (key, caller, method, path) for 24 h, in Redis when the
service has one (every instance sees it) and in process memory otherwise (embedded mode, or while
Redis is unreachable). The first request reserves the key; a duplicate that arrives while it runs waits
for its answer (up to ``WAIT_S``), then gets 409. A finished request's answer is replayed to every
retry with ``Idempotent-Replayed: true``; the same key with a different body is a 422.

An answer that says "try again" (5xx, 408, 409, 425, 429) is not kept: the retry runs again. A
reservation whose request never finished (its instance was killed) stays until it expires, and
retries get 409 ``idempotency_in_doubt`` meanwhile: the write may or may not have been committed, and
running it again could apply it twice. Such a client reads the current state and uses a new key.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response

from .bodies import read_body
from .errors import AppError, Conflict, InvalidInput, envelope
from .tokens import authenticate

log = logging.getLogger("teammoa.idempotency")
HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL_S = 24 * 3600  # how long an answer is replayed
PENDING_TTL_S = 24 * 3600  # a reservation whose request died: in doubt for as long as answers are kept
WAIT_S = 10.0  # a concurrent duplicate waits this long for the first request's answer
POLL_S = 0.05
MAX_KEY_CHARS = 255
RETRYABLE = frozenset({408, 409, 425, 429})
KEPT_HEADERS = ("location", "content-type", "retry-after")
MEMORY_MAX_RECORDS = 50_000  # per process; the oldest record makes room (answers are at most 1 MB each… rarely)
R = TypeVar("R")
Endpoint = Callable[[Request], Awaitable[Response]]


class Records(Protocol):
    async def reserve(self, key: str, value: str, ttl_s: int) -> bool: ...
    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, value: str, ttl_s: int) -> None: ...
    async def drop(self, key: str) -> None: ...


class MemoryRecords:
    """Records in this process (embedded mode, or while Redis is down), at most ``max_items``.

    Every record lives the same TTL, so insertion order is expiry order: expired records are popped from
    the front (amortised O(1) per call) and, when full, the oldest record makes room.
    """

    def __init__(self, max_items: int = MEMORY_MAX_RECORDS) -> None:
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self.max_items = max_items

    def __len__(self) -> int:
        return len(self._items)

    def _trim(self, now: float) -> None:
        items = self._items
        while items:
            key, (expires, _) = next(iter(items.items()))
            if expires > now and len(items) < self.max_items:
                break
            del items[key]

    def _set(self, key: str, value: str, ttl_s: int, now: float) -> None:
        self._items.pop(key, None)
        self._trim(now)
        self._items[key] = (now + ttl_s, value)

    async def reserve(self, key: str, value: str, ttl_s: int) -> bool:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return False
        self._set(key, value, ttl_s, now)
        return True

    async def get(self, key: str) -> str | None:
        hit = self._items.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        self._set(key, value, ttl_s, time.monotonic())

    async def drop(self, key: str) -> None:
        self._items.pop(key, None)


class RedisRecords:
    """Records shared by every instance."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis, self._prefix = redis, prefix + "idem:"

    async def reserve(self, key: str, value: str, ttl_s: int) -> bool:
        return bool(await self._redis.set(self._prefix + key, value, nx=True, ex=ttl_s))

    async def get(self, key: str) -> str | None:
        raw = await self._redis.get(self._prefix + key)
        return raw.decode() if isinstance(raw, bytes) else None if raw is None else str(raw)

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        await self._redis.set(self._prefix + key, value, ex=ttl_s)

    async def drop(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class IdempotencyStore:
    """Redis records with a process-memory fallback while Redis cannot be reached."""

    def __init__(self, redis: Redis | None = None, prefix: str = "") -> None:
        self.primary = RedisRecords(redis, prefix) if redis is not None else None
        self.memory = MemoryRecords()

    async def _call(self, call: Callable[[Records], Awaitable[R]]) -> R:
        if self.primary is not None:
            try:
                return await call(self.primary)
            except Exception as exc:  # redis-py's connection errors; counted locally meanwhile
                if not isinstance(exc, (OSError, TimeoutError)) and type(exc).__module__.split(".")[0] != "redis":
                    raise
                log.warning("idempotency records: Redis unreachable (%r), using this process's memory", exc)
        return await call(self.memory)

    async def reserve(self, key: str, value: str, ttl_s: int) -> bool:
        return await self._call(lambda records: records.reserve(key, value, ttl_s))

    async def get(self, key: str) -> str | None:
        found = await self._call(lambda records: records.get(key))
        if found is None and self.primary is not None:
            found = await self.memory.get(key)
        return found

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        await self._call(lambda records: records.put(key, value, ttl_s))

    async def drop(self, key: str) -> None:
        await self._call(lambda records: records.drop(key))
        await self.memory.drop(key)


def store_of(request: Request) -> IdempotencyStore:
    """The app's store (made on first use: Redis when the service has one)."""
    state = request.app.state
    store = getattr(state, "idempotency", None)
    if store is None:
        store = IdempotencyStore(getattr(state, "redis", None), state.settings.redis_prefix)
        state.idempotency = store
    return store


def _record(response: Response, fingerprint: str) -> str:
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    return json.dumps(
        {
            "state": "done",
            "fp": fingerprint,
            "status": response.status_code,
            "headers": headers,
            "body": base64.b64encode(bytes(response.body)).decode(),
        }
    )


def _replay(record: dict[str, Any]) -> Response:
    headers = {**record["headers"], REPLAYED_HEADER: "true"}
    return Response(base64.b64decode(record["body"]), status_code=record["status"], headers=headers)


async def _answer_of(store: IdempotencyStore, key: str, fingerprint: str) -> Response:
    """The stored answer for a key someone else reserved, waiting while its request runs."""
    deadline = time.monotonic() + WAIT_S
    while True:
        raw = await store.get(key)
        if raw is None:
            raise Conflict("A request with this Idempotency-Key was interrupted. Retry it.", code="idempotency_retry")
        record = json.loads(raw)
        if record["fp"] and record["fp"] != fingerprint:
            raise InvalidInput.field(
                "Idempotency-Key", "This key was used with a different request.", "idempotency_key_reused"
            )
        if record["state"] == "done":
            return _replay(record)
        if time.monotonic() >= deadline:
            started = record.get("started", 0)
            if time.time() - started < WAIT_S * 3:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed.",
                    code="idempotency_in_progress",
                    headers={"Retry-After": "1"},
                )
            raise Conflict(
                "A request with this Idempotency-Key did not finish; it may or may not have been "
                "applied. Check, then use a new key.",
                code="idempotency_in_doubt",
            )
        await asyncio.sleep(POLL_S)


def idempotent(endpoint: Endpoint) -> Endpoint:
    """Honour an ``Idempotency-Key`` header on this endpoint (the caller must be signed in)."""

    @functools.wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return await endpoint(request)
        if not raw_key.strip() or len(raw_key) > MAX_KEY_CHARS or not raw_key.isprintable():
            raise InvalidInput.field("Idempotency-Key", f"Send 1 to {MAX_KEY_CHARS} printable characters.")
        principal = await authenticate(request)
        body = await read_body(request)  # bounded while it streams, kept for the endpoint
        scope = f"{principal.user_id}\n{request.method}\n{request.url.path}\n{raw_key}"
        key = hashlib.sha256(scope.encode()).hexdigest()
        fingerprint = hashlib.sha256(body).hexdigest()
        store = store_of(request)
        pending = json.dumps({"state": "pending", "fp": fingerprint, "started": time.time()})
        if not await store.reserve(key, pending, PENDING_TTL_S):
            return await _answer_of(store, key, fingerprint)
        try:
            response = await endpoint(request)
        except AppError as exc:
            if exc.status >= 500 or exc.status in RETRYABLE:
                await store.drop(key)
            else:
                answer = envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)
                await store.put(key, _record(answer, fingerprint), TTL_S)
            raise
        except BaseException:
            await store.drop(key)  # nothing was answered: the write failed or was never made
            raise
        if response.status_code >= 500 or response.status_code in RETRYABLE or not hasattr(response, "body"):
            await store.drop(key)
        else:
            await store.put(key, _record(response, fingerprint), TTL_S)
        return response

    return wrapper
