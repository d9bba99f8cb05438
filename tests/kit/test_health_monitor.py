"""``/health`` answers from state probed in the background (kit.health.HealthMonitor): asking it makes
no round trip of its own, so a service busy with load still answers from its last probe; a probe that
stopped finishing reads as unhealthy."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from services.kit.app import ServiceSpec, build_app
from services.kit.health import HealthMonitor
from services.kit.settings import Settings


@pytest.mark.anyio
async def test_asking_for_the_state_runs_no_check():
    calls = 0

    async def database() -> None:
        nonlocal calls
        calls += 1

    monitor = HealthMonitor({"database": database}, interval_s=3600)
    monitor.start()
    try:
        states = [await monitor.state() for _ in range(20)]
    finally:
        await monitor.stop()
    assert calls == 1  # the one background probe, however often health is asked
    assert all(ok for ok, _, _ in states)


@pytest.mark.anyio
async def test_a_failed_check_is_reported_and_a_degradable_one_keeps_it_up():
    async def database() -> None:
        raise ConnectionError("refused")

    async def redis() -> None:
        raise ConnectionError("refused")

    down = HealthMonitor({"database": database}, interval_s=3600)
    degraded = HealthMonitor({"redis": redis}, ["redis"], interval_s=3600)
    await down.probe()
    await degraded.probe()
    ok, report, _ = await down.state()
    assert not ok and report["database"]["error"] == "ConnectionError: refused"
    ok, report, _ = await degraded.state()
    assert ok and not report["redis"]["ok"]


@pytest.mark.anyio
async def test_a_probe_that_stopped_finishing_reads_as_unhealthy():
    async def database() -> None:
        return None

    monitor = HealthMonitor({"database": database}, interval_s=3600, stale_after_s=0)
    await monitor.probe()
    ok, report, _ = await monitor.state()
    assert not ok
    assert "the last probe finished" in report["monitor"]["error"]


def test_a_service_health_endpoint_answers_from_the_monitor(tmp_path):
    settings = Settings(
        "realtime",
        {"TEAMMOA_DATA_DIR": str(tmp_path), "TEAMMOA_LOG_REQUESTS": "false", "TEAMMOA_HEALTH_INTERVAL_MS": "3600000"},
    )
    calls = 0

    def checks(app):
        async def counted() -> None:
            nonlocal calls
            calls += 1

        return {"counted": counted}

    app = build_app(ServiceSpec(name="realtime", title="x", routes=[], checks=checks), settings)
    with TestClient(app) as client:
        answers = [client.get("/health") for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    assert answers[-1].json()["checks"]["counted"]["ok"] is True
    assert "age_ms" in answers[-1].json()
    assert calls == 1
