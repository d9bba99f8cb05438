"""``GET /livez``: the liveness probe's endpoint answers from the process alone, whatever MySQL or
Redis are doing (``/health`` is the readiness probe and does ask them)."""

import socket

import pytest
from broadcaster import Broadcast
from starlette.testclient import TestClient

from services.kit.app import ServiceSpec, Shared, build_app
from services.kit.events import EventBus
from services.kit.settings import Settings


@pytest.fixture(name="closed_port")
def fx_closed_port() -> int:
    """A loopback port nothing listens on (bound once by us, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_livez_answers_alive(tmp_path):
    app = build_app(
        ServiceSpec(name="realtime", title="x", routes=[]),
        Settings("realtime", {"TEAMMOA_DATA_DIR": str(tmp_path), "TEAMMOA_LOG_REQUESTS": "false"}),
    )
    with TestClient(app) as client:
        r = client.get("/livez")
    assert r.status_code == 200
    assert r.json() == {"status": "alive"}
    assert r.headers["cache-control"] == "no-store"


def test_livez_stays_alive_while_health_reports_redis_down(tmp_path, closed_port):
    settings = Settings(
        "realtime",
        {
            "TEAMMOA_DATA_DIR": str(tmp_path),
            "TEAMMOA_LOG_REQUESTS": "false",
            "TEAMMOA_REDIS_URL": f"redis://127.0.0.1:{closed_port}/0",
        },
    )
    shared = Shared(events=EventBus(Broadcast("memory://")))  # the bus is not what this test is about
    app = build_app(ServiceSpec(name="realtime", title="x", routes=[], degradable=frozenset()), settings, shared)
    with TestClient(app) as client:
        health = client.get("/health")
        live = client.get("/livez")
    assert health.status_code == 503
    assert health.json()["checks"]["redis"]["ok"] is False
    assert live.status_code == 200
    assert live.json() == {"status": "alive"}


def test_rest_services_stay_in_rotation_while_redis_is_down_but_say_degraded(tmp_path, closed_port):
    settings = Settings(
        "schedule",
        {
            "TEAMMOA_DATA_DIR": str(tmp_path),
            "TEAMMOA_LOG_REQUESTS": "false",
            "TEAMMOA_REDIS_URL": f"redis://127.0.0.1:{closed_port}/0",
        },
    )
    shared = Shared(events=EventBus(Broadcast("memory://")))
    app = build_app(ServiceSpec(name="schedule", title="x", routes=[]), settings, shared)
    with TestClient(app) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"]["ok"] is False
