"""A small, bounded load generator for the fault tests: a few async workers in a thread of their own,
each looping over a list of operations through the gateway and recording every outcome.

    load = Load(stack.url, operations, workers=6)
    with load.running():
        ...inject a fault...
    load.outcomes            every request: operation, start, seconds, status (0: no answer), body

An operation is ``(name, method, path, headers, body_factory)``; ``body_factory(n)`` gives the JSON body of
the n-th call (None for none). Writes carry a unique marker so the data check can find each one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

REQUEST_TIMEOUT_S = 30.0
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
KEEPALIVE_RACE = (httpx.ReadError, httpx.RemoteProtocolError)
PAUSE_S = 0.02  # between one worker's requests: a steady load that leaves the 2 cores breathing


@dataclass
class Operation:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: Callable[[int], dict | None] | None = None
    retry_until_answered: bool = False  # POSTs with an Idempotency-Key: resend on 502/503/no answer


@dataclass
class Outcome:
    operation: str
    method: str
    started: float  # time.monotonic()
    seconds: float
    status: int  # 0 when no HTTP answer came back
    body: bytes
    sent: dict | None
    error: str = ""
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def envelope(self) -> dict | None:
        import json

        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) and set(data.get("error", {})) >= {"code", "message", "details"} else None


class Load:
    def __init__(self, base_url: str, operations: list[Operation], *, workers: int = 6, pause_s: float = PAUSE_S) -> None:
        self.base_url, self.operations, self.workers, self.pause_s = base_url, operations, workers, pause_s
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counter = 0
        self.keepalive_retries = 0

    def _next(self) -> tuple[Operation, int]:
        self._counter += 1
        return self.operations[self._counter % len(self.operations)], self._counter

    async def _one(self, client: httpx.AsyncClient, operation: Operation, n: int) -> Outcome:
        body = operation.body(n) if operation.body else None
        headers = dict(operation.headers)
        if operation.retry_until_answered:
            headers["Idempotency-Key"] = f"load-{id(self)}-{n}"
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            status, content, error = 0, b"", ""
            try:
                response = await client.request(operation.method, operation.path, json=body, headers=headers)
                status, content = response.status_code, response.content
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
                # A kept-alive connection the server closed as the request went out (nginx reloading):
                # browsers and HTTP libraries resend an idempotent request once on a new connection.
                if attempts == 1 and operation.method in IDEMPOTENT and isinstance(exc, KEEPALIVE_RACE):
                    self.keepalive_retries += 1
                    continue
            retry = operation.retry_until_answered and (
                status in (0, 502, 503, 504) or (status == 409 and b"idempotency_in_progress" in content)
            )
            if not retry or attempts >= 20 or (self._stop.is_set() and attempts >= 5):
                break
            await asyncio.sleep(0.25)
        return Outcome(
            operation.name, operation.method, started, time.monotonic() - started, status, content, body, error, attempts
        )

    async def _worker(self, client: httpx.AsyncClient) -> None:
        while not self._stop.is_set():
            operation, n = self._next()
            self.outcomes.append(await self._one(client, operation, n))
            await asyncio.sleep(self.pause_s)

    async def _main(self) -> None:
        limits = httpx.Limits(max_connections=self.workers * 2, max_keepalive_connections=self.workers)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
            await asyncio.gather(*(self._worker(client) for _ in range(self.workers)))

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="reliability-load", daemon=True)
        self._thread.start()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=REQUEST_TIMEOUT_S * 2)
        return self.outcomes

    @contextlib.contextmanager
    def running(self) -> Iterator[Load]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if start <= o.started < end]


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    """Status counts (0 = no answer), for messages and reports."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[str(outcome.status)] = counts.get(str(outcome.status), 0) + 1
    return dict(sorted(counts.items()))
