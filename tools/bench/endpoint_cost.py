"""What one request of each read endpoint of the mix costs the instance that serves it, in CPU.

    .venv/bin/python -m tools.bench.endpoint_cost [--seconds 8] [--connections 8]

Against the running benchmark stack (``var/bench``, seeded): signs in as ``loaduser2``, then for each
endpoint runs wrk straight at one instance (teams-1, schedule-1, the health aggregator; no Nginx) and
divides the CPU time that instance (its children included) used by the requests it answered. CPU per
request holds up on a busy machine far better than requests per second does, so it is the figure to
compare before and after a change; the throughput and p99 are printed too. Every figure comes from the
run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.common import ROOT, cpu_seconds, sign_in


def measure(target: str, pid: int, seconds: int, connections: int, script: Path) -> dict:
    before = cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), target],
        capture_output=True,
        text=True,
    ).stdout
    used = cpu_seconds(pid) - before
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "cpu_ms_per_request": round(used * 1000 / max(requests, 1), 2),
        "p99": re.search(r"99%\s+(\S+)", out).group(1),
        "non_2xx": int(bad.group(1)) if bad else 0,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TEAMMOA_BENCH_DATA_DIR", "var/bench"))
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--team-id", type=int, default=1)
    args = parser.parse_args(argv)
    state = json.loads((ROOT / args.data_dir / "stack.json").read_text())
    pids = {e["name"]: e["pid"] for e in state["processes"]}
    ports = state["ports"]
    team = f"/api/v1/teams/{args.team_id}"
    endpoints = [
        ("my teams", "teams-1", "/api/v1/teams/?page=1&page_size=24"),
        ("one team", "teams-1", f"{team}/"),
        ("todo list", "teams-1", f"{team}/todos/?page=1&page_size=100"),
        ("board page", "teams-1", f"{team}/posts/?q=&page=1&page_size=10"),
        ("team availability", "schedule-1", f"{team}/schedules/"),
        ("/health/ (uncached aggregation)", "health", "/health/"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "auth.lua"
        script.write_text(f'wrk.headers["Authorization"] = "Bearer {sign_in(state["url"], "loaduser2")}"\n')
        print(
            f"{'endpoint':<34} {'instance':<11} {'CPU ms/req':>10} {'req/s':>8} {'p99':>10}  "
            f"(load average {os.getloadavg()[0]:.2f})"
        )
        for name, process, path in endpoints:
            figures = measure(
                f"http://127.0.0.1:{ports[process]}{path}", pids[process], args.seconds, args.connections, script
            )
            note = f"  {figures['non_2xx']} non-2xx!" if figures["non_2xx"] else ""
            print(
                f"{name:<34} {process:<11} {figures['cpu_ms_per_request']:>10} {figures['rps']:>8.0f} "
                f"{figures['p99']:>10}{note}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
