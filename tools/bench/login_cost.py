"""What one login costs with the production Argon2id parameters (m=19 MiB, t=2, p=1).

Builds the embedded TeamMoa in a temporary data directory with the default (production) hashing
settings, registers and verifies one user, then times N sequential logins through the whole stack
(gateway, validation, rate-limit counters, Argon2 verify in a worker thread, refresh-token insert,
JWT signing). Prints the median and the 95th percentile in milliseconds, and for comparison the
same figures for the Argon2 verification alone. The machine has 2 cores: check the load average first.

    .venv/bin/python -m tools.bench.login_cost [N]
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from gateway.embedded import create_app
from services.kit.passwords import PasswordHasher
from services.kit.settings import Settings
from tools.bench.embedded import API, PASSWORD, sign_up

DEFAULT_N = 20


def _percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure(n: int) -> list[float]:
    """Milliseconds of each of ``n`` successful logins."""
    with tempfile.TemporaryDirectory() as data_dir:
        environ = {"TEAMMOA_MODE": "embedded", "TEAMMOA_DATA_DIR": str(Path(data_dir)), "TEAMMOA_LOG_REQUESTS": "false"}
        settings = Settings("auth", environ)
        print(f"Argon2id m={settings.argon2_memory_kib} KiB, t={settings.argon2_time_cost}, p={settings.argon2_parallelism}")
        with TestClient(create_app(environ), base_url="http://testserver") as client:
            sign_up(client)
            client.post(f"{API}/login/", json={"login": "bench", "password": PASSWORD}).raise_for_status()  # warm-up
            samples = []
            for _ in range(n):
                started = time.perf_counter()
                response = client.post(f"{API}/login/", json={"login": "bench", "password": PASSWORD})
                samples.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                client.cookies.clear()
    return samples


def measure_verify_alone(n: int) -> list[float]:
    """Milliseconds of each of ``n`` Argon2 verifications with the default settings, on this thread."""
    hasher = PasswordHasher.from_settings(Settings("auth", {}))
    stored = hasher._argon2.hash(PASSWORD)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        hasher._argon2.verify(stored, PASSWORD)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _report(label: str, samples: list[float]) -> None:
    print(
        f"{label}: median {statistics.median(samples):.1f} ms, p95 {_percentile(samples, 0.95):.1f} ms, "
        f"min {min(samples):.1f} ms, max {max(samples):.1f} ms"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_N
    _report(f"{n} logins", measure(n))
    _report(f"{n} Argon2 verifications alone", measure_verify_alone(n))


if __name__ == "__main__":
    main()
