"""One user's view of the overload stage: requests one at a time, beside the crowd Locust makes.

    .venv/bin/python -m tools.bench.probe --url http://127.0.0.1:18080 --team-id 1 --seconds 120 --out p.json

Locust simulates thousands of users in one process on the same two cores as the stack; past a few
thousand users its own event loop runs late and every time it measures grows by that delay (the report
shows its lag). This probe is a second client in its own process, at the same priority, making one
request at a time like a single browser: sign in, the todo list, my teams, ``/health/``, then a quarter
of a second's pause, over and over. Each request's wall-clock time, status and duration (connect
included) go to ``--out`` as JSON; ``tools/bench/run.py`` cuts them into the overload and recovery
windows; SIGTERM ends it early. A refused sign-in (503) is recorded and the round goes on without a token, as the figures are
the point, not the session.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from tools.common import LOAD_PASSWORD

PAUSE_S = 0.25
TIMEOUT_S = 30.0
ACCOUNT = "loaduser300"  # the last seeded account: a member of the last team
stopping = False  # SIGTERM: finish the round, write the figures, exit


def request(host: str, port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    """One request on a fresh connection (as a new visitor would make it); (status, body), 0 on a failure."""
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


def run(url: str, team_id: int, seconds: float) -> list[tuple[float, str, int, float]]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    login = json.dumps({"login": ACCOUNT, "password": LOAD_PASSWORD}).encode()
    samples: list[tuple[float, str, int, float]] = []
    token = ""
    deadline = time.monotonic() + seconds

    def timed(name: str, method: str, path: str, body: bytes | None = None, auth: bool = False) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body else {}
        if auth and token:
            headers["Authorization"] = f"Bearer {token}"
        began = time.monotonic()
        status, payload = request(host, port, method, path, body, headers)
        samples.append((time.time(), name, status, round((time.monotonic() - began) * 1000, 1)))
        return status, payload

    while time.monotonic() < deadline and not stopping:
        status, payload = timed("sign in", "POST", "/api/v1/users/login/", login)
        if status == 200:
            token = json.loads(payload)["access_token"]
        timed("todo list", "GET", f"/api/v1/teams/{team_id}/todos/?page=1&page_size=100", auth=True)
        timed("my teams", "GET", "/api/v1/teams/?page=1&page_size=24", auth=True)
        timed("/health/", "GET", "/health/")
        time.sleep(PAUSE_S)
    return samples


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--team-id", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--nice", type=int, default=-10, help="the priority to run at, like Locust's (when allowed)")
    args = parser.parse_args(argv)

    def stop(*_: object) -> None:
        global stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    except OSError:
        pass
    args.out.write_text(json.dumps(run(args.url, args.team_id, args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
