"""Admission control (kit.admission): a bounded number of requests at work, a bounded short queue, and
beyond that a fast 503 + Retry-After in the error envelope; health, liveness and metrics are never refused.

Deterministic: requests are *held* (they wait on an event the test sets), so the limiter is saturated
by construction, not by timing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from services.kit.admission import AdmissionMiddleware, Gate, LatencyLimit, age_from_header
from services.kit.app import ServiceSpec, build_app
from services.kit.errors import Overloaded
from services.kit.settings import Settings


async def _until(predicate, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, "the condition never came true"
        await asyncio.sleep(0.005)


# Gate ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_full_gate_without_a_queue_refuses_at_once():
    gate = Gate(2, max_waiting=0, max_wait_s=5)
    await gate.acquire()
    await gate.acquire()
    with pytest.raises(Overloaded) as refused:
        await gate.acquire()
    assert refused.value.status == 503
    assert refused.value.headers == {"Retry-After": "1"}
    assert (gate.active, gate.waiting, gate.refused) == (2, 0, 1)
    gate.release()
    await gate.acquire()  # a freed slot is taken again
    assert gate.active == 2


@pytest.mark.anyio
async def test_a_waiter_gets_the_released_slot_in_order():
    gate = Gate(1, max_waiting=2, max_wait_s=30)
    await gate.acquire()
    order: list[str] = []

    async def wait(name: str) -> None:
        await gate.acquire()
        order.append(name)

    first = asyncio.create_task(wait("first"))
    await _until(lambda: gate.waiting == 1)
    second = asyncio.create_task(wait("second"))
    await _until(lambda: gate.waiting == 2)
    with pytest.raises(Overloaded):  # the queue is full: refused without waiting
        await gate.acquire()
    gate.release()
    await first
    assert order == ["first"] and gate.active == 1  # the slot was handed on, not freed
    gate.release()
    await second
    assert order == ["first", "second"] and gate.active == 1
    gate.release()
    assert (gate.active, gate.waiting) == (0, 0)


@pytest.mark.anyio
async def test_a_waiter_whose_wait_runs_out_is_refused_and_leaves_the_queue():
    gate = Gate(1, max_waiting=5, max_wait_s=0.01)
    await gate.acquire()
    with pytest.raises(Overloaded):
        await gate.acquire()
    assert (gate.active, gate.waiting, gate.refused) == (1, 0, 1)
    gate.release()
    assert gate.active == 0


@pytest.mark.anyio
async def test_a_cancelled_waiter_leaves_no_slot_behind():
    gate = Gate(1, max_waiting=5, max_wait_s=30)
    await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    await _until(lambda: gate.waiting == 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.waiting == 0
    gate.release()
    assert gate.active == 0


# The middleware on a bare app ------------------------------------------------------------------------


def _held_app(limit: int, max_waiting: int) -> tuple[asyncio.Event, AdmissionMiddleware]:
    release = asyncio.Event()

    async def hold(request: Request) -> PlainTextResponse:
        await release.wait()
        return PlainTextResponse("done")

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [Route("/api/hold/", hold), Route("/internal/hold/", hold), Route("/health", health), Route("/metrics", health)]
    app = Starlette(routes=routes)
    return release, AdmissionMiddleware(app, limit=limit, max_waiting=max_waiting, max_wait_s=30)


@pytest.mark.anyio
async def test_the_request_beyond_the_limit_gets_503_retry_after_and_the_envelope_while_health_answers():
    release, stack = _held_app(limit=2, max_waiting=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack), base_url="http://t") as client:
        held = [asyncio.create_task(client.get("/api/hold/")) for _ in range(2)]
        await _until(lambda: stack.gate.active == 2)
        refused = await client.get("/api/hold/")
        health = await client.get("/health")
        metrics = await client.get("/metrics")
        release.set()
        answered = await asyncio.gather(*held)
        after = await client.get("/api/hold/")
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    message = "The service is busy. Try again shortly."
    assert refused.json() == {"error": {"code": "overloaded", "message": message, "details": [{"retry_after": 1}]}}
    assert health.status_code == 200 and metrics.status_code == 200  # exempt while busy
    assert [r.status_code for r in answered] == [200, 200]  # the admitted ones finish normally
    assert after.status_code == 200  # and the next one is admitted again
    assert (stack.gate.active, stack.gate.waiting) == (0, 0)


@pytest.mark.anyio
async def test_calls_between_services_have_a_lane_of_their_own():
    release, stack = _held_app(limit=1, max_waiting=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack), base_url="http://t") as client:
        public = asyncio.create_task(client.get("/api/hold/"))
        await _until(lambda: stack.gate.active == 1)
        internal = asyncio.create_task(client.get("/internal/hold/"))  # a sign-in storm holds the public lane
        await _until(lambda: stack.internal.active == 1)
        refused = [await client.get("/api/hold/"), await client.get("/internal/hold/")]  # each lane is bounded
        release.set()
        assert [(await public).status_code, (await internal).status_code] == [200, 200]
    assert [r.status_code for r in refused] == [503, 503]


@pytest.mark.anyio
async def test_a_queued_request_is_served_when_a_slot_frees():
    release, stack = _held_app(limit=1, max_waiting=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack), base_url="http://t") as client:
        first = asyncio.create_task(client.get("/api/hold/"))
        await _until(lambda: stack.gate.active == 1)
        queued = asyncio.create_task(client.get("/api/hold/"))
        await _until(lambda: stack.gate.waiting == 1)
        refused = await client.get("/api/hold/")  # the queue holds one
        release.set()
        assert (await first).status_code == 200
        assert (await queued).status_code == 200
    assert refused.status_code == 503


# Wired into every service (kit.app) ------------------------------------------------------------------


def test_every_service_refuses_beyond_its_limit_and_stays_healthy_while_busy(tmp_path):
    """A service built by the kit, its limit taken by two held requests: the third is refused fast,
    /health and /livez still answer 200 from the background probe, and the held ones complete."""
    release = threading.Event()

    async def hold(request: Request) -> PlainTextResponse:
        await anyio.to_thread.run_sync(release.wait)
        return PlainTextResponse("done")

    settings = Settings(
        "realtime",
        {
            "TEAMMOA_DATA_DIR": str(tmp_path),
            "TEAMMOA_LOG_REQUESTS": "false",
            "TEAMMOA_MAX_IN_FLIGHT": "2",
            "TEAMMOA_ADMISSION_QUEUE": "0",
        },
    )
    app = build_app(ServiceSpec(name="realtime", title="x", routes=[Route("/api/v1/hold/", hold)]), settings)
    with TestClient(app) as client, ThreadPoolExecutor(2) as pool:
        held = [pool.submit(client.get, "/api/v1/hold/") for _ in range(2)]
        deadline = time.monotonic() + 10
        while "admission_in_flight 2.0" not in client.get("/metrics").text:
            assert time.monotonic() < deadline, "the held requests never arrived"
            time.sleep(0.01)
        refused = client.get("/api/v1/hold/")
        health = client.get("/health")
        livez = client.get("/livez")
        release.set()
        answered = [future.result(timeout=10) for future in held]
        metrics = client.get("/metrics").text
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "overloaded"
    assert health.status_code == 200, health.text
    assert livez.status_code == 200
    assert [r.status_code for r in answered] == [200, 200]
    assert "admission_refused_total 1.0" in metrics


def test_the_age_nginx_stamped_is_read_and_implausible_stamps_are_ignored():
    now = 1_000_000.0
    assert age_from_header(b"t=999999.250", now) == pytest.approx(0.75)
    assert age_from_header(b"999999.5", now) == pytest.approx(0.5)
    assert age_from_header(b"t=1000005.0", now) == 0.0  # from the future: clock skew
    assert age_from_header(b"t=1.0", now) == 0.0  # a day old: not a queue
    assert age_from_header(b"t=soon", now) == 0.0


@pytest.mark.anyio
async def test_a_request_that_already_waited_its_budget_elsewhere_is_refused_without_queueing():
    """Stamped by the edge 5 s ago (it sat in buffers behind a starved loop): no wait is left for it."""
    release, stack = _held_app(limit=1, max_waiting=10)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack), base_url="http://t") as client:
        held = asyncio.create_task(client.get("/api/hold/"))
        await _until(lambda: stack.gate.active == 1)
        old = await client.get("/api/hold/", headers={"X-Request-Start": f"t={time.time() - 5:.3f}"})
        assert stack.gate.waiting == 0
        release.set()
        assert (await held).status_code == 200
    assert old.status_code == 503
    assert old.json()["error"]["code"] == "overloaded"


def test_the_limit_shrinks_when_requests_get_slow_and_grows_back_while_they_are_quick():
    gate = Gate(20, max_waiting=0, max_wait_s=1)
    limit = LatencyLimit(gate, max_limit=20, min_limit=2, target_s=0.5)
    now = 100.0
    for _ in range(30):  # a starved process: every answer slow
        now += 1
        limit.observe(2.0, now)
    assert gate.limit == 2  # never below the floor
    limit.observe(2.0, now + 0.01)  # a burst of slow answers at once counts as one step
    assert gate.limit == 2
    for _ in range(500):  # quick again
        limit.observe(0.01, now)
    assert gate.limit == 20  # back to the configured maximum, never above it


@pytest.mark.anyio
async def test_a_shrunk_limit_frees_slots_instead_of_handing_them_on():
    gate = Gate(3, max_waiting=5, max_wait_s=30)
    for _ in range(3):
        await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    await _until(lambda: gate.waiting == 1)
    gate.limit = 1  # the adaptive limit shrank
    gate.release()
    gate.release()
    assert gate.active == 1 and not waiter.done()  # freed, not handed on: one at work, the limit
    gate.release()  # now under the limit: the waiter gets this one
    await waiter
    assert gate.active == 1
