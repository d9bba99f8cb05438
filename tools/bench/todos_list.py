"""How long ``GET /api/v1/teams/{id}/todos/`` takes for a team with 100 todos, in-process.

    .venv/bin/python -m tools.bench.todos_list [--todos 100] [--runs 200]

Runs the whole embedded TeamMoa (gateway, auth, teams...) in this process on fresh SQLite files (or on
the MySQL database named by ``TEAMMOA_TEAMS_DATABASE_URL``/``TEAMMOA_AUTH_DATABASE_URL`` if set), signs a
user up through the real API, creates a team with N todos, then times GETs of the todo list (one
page of 100) from inside the app's event loop, over httpx's ASGI transport: token check, membership
lookup, two queries, JSON. Prints the median and the 95th percentile. Not a test: a figure to watch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from starlette.testclient import TestClient

from gateway.embedded import create_app
from tools.bench.embedded import sign_in_headers, sign_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--todos", type=int, default=100)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        environ = {
            **os.environ,
            "TEAMMOA_DATA_DIR": str(data_dir),
            "TEAMMOA_LOG_REQUESTS": "false",
            "TEAMMOA_ARGON2_MEMORY_KIB": "1024",
            "TEAMMOA_ARGON2_TIME_COST": "1",
        }
        app = create_app(environ)
        with TestClient(app, base_url="http://testserver") as client:
            sign_up(client)
            headers = sign_in_headers(client)
            team = client.post(
                "/api/v1/teams/", json={"name": "Bench", "capacity": 10, "join_password": "bench-pass"}, headers=headers
            ).json()
            url = f"/api/v1/teams/{team['id']}/todos/?page_size=100"
            for i in range(args.todos):
                client.post(
                    f"/api/v1/teams/{team['id']}/todos/", json={"content": f"todo {i}"}, headers=headers
                ).raise_for_status()

            async def measure() -> list[float]:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                    first = await http.get(url, headers=headers)
                    assert first.status_code == 200 and len(first.json()["items"]) == min(args.todos, 100)
                    samples = []
                    for _ in range(args.runs):
                        began = time.perf_counter()
                        response = await http.get(url, headers=headers)
                        samples.append((time.perf_counter() - began) * 1000)
                        assert response.status_code == 200
                    return samples

            samples = sorted(client.portal.call(measure))
    database = "MySQL" if environ.get("TEAMMOA_TEAMS_DATABASE_URL", "").startswith("mysql") else "SQLite"
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(
        f"GET todos/ with {args.todos} todos on {database}, {args.runs} runs: "
        f"median {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms"
    )


if __name__ == "__main__":
    main()
