"""CPU per request of each read endpoint of the mix, through Nginx, counted in the stack's own processes.

    .venv/bin/python -m tools.bench.stack_cpu [--data-dir var/bench] [--seconds 10] [--connections 32] [--json out.json]

Against a running, seeded stack (``make stack`` + ``make seed-load``): signs in as
``loaduser2`` and, for each endpoint, runs wrk (2 threads, 32 connections) through the stack's Nginx
with a Bearer token and ``Accept-Encoding: gzip``. CPU per request is the sum of the utime + stime
deltas of the stack's own processes (Nginx master and workers, every uvicorn of the stack) divided by
the requests served; MariaDB's and Redis's deltas are reported apart (other users of the machine may
hit the same servers). The whole machine's busy time is not used: on a shared machine it counts other
people's work.

The floor is measured in the same run: a trivial Starlette endpoint (``tools/bench/floor_app.py``) in one
uvicorn started with the stack's own command line, behind an Nginx rendered from the same gateway
templates (every upstream group pointed at it), asked the same way. Each endpoint's ratio to it is
printed. Every figure comes from the run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.common import ROOT, listening, sign_in
from tools.stack import config as stack_config
from tools.stack.processes import spawn, stop

TICK = os.sysconf("SC_CLK_TCK")
FLOOR_PATH = "/api/v1/teams/1/floor/"
# Issue 13, target 1: CPU per request of the stack, MariaDB and Redis included (ms).
TARGETS_MS = {"todo list (60 todos)": 1.5, "one team": 1.0, "my teams": 1.0, "team availability (100 x 7)": 3.0}


def proc_cpu(pid: int) -> float:
    """utime + stime of one process (seconds); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def descendants(pid: int) -> list[int]:
    """A process and every process below it (nginx's workers)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            pending += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (MariaDB's server, Redis): read only, for their CPU."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == name:
                found.append(int(comm.parent.name))
        except (OSError, ValueError):
            continue
    return found


@dataclass
class Groups:
    """The processes whose CPU is counted, by group: stack processes by name, and the shared servers."""

    stack: dict[str, int]

    def snapshot(self) -> dict[str, dict[int, float]]:
        """CPU seconds by group and process (a process that comes or goes between two snapshots is left out)."""
        out = {name: {p: proc_cpu(p) for p in descendants(pid)} for name, pid in self.stack.items()}
        out["mariadb"] = {p: proc_cpu(p) for n in ("mariadbd", "mysqld") for p in pids_named(n)}
        out["redis"] = {p: proc_cpu(p) for p in pids_named("redis-server")}
        return out

    @staticmethod
    def used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        return {
            name: sum(cpu - before.get(name, {})[pid] for pid, cpu in procs.items() if pid in before.get(name, {}))
            for name, procs in after.items()
        }


def wrk_script(directory: Path, token: str) -> Path:
    script = directory / "bench.lua"
    script.write_text(
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        'wrk.headers["Accept-Encoding"] = "gzip"\n'
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format(\'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,'
        '"status":%d,"p50":%d,"p99":%d}\\n\', summary.requests, summary.duration, summary.bytes,'
        " summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,"
        " summary.errors.status, latency:percentile(50), latency:percentile(99)))\n"
        "end\n"
    )
    return script


def measure(url: str, groups: Groups, script: Path, *, seconds: int, connections: int) -> dict[str, Any]:
    """wrk on one URL; requests, throughput, latency and CPU per request by group."""
    before = groups.snapshot()
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
    )
    after = groups.snapshot()
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        return {"error": (result.stderr or result.stdout)[-500:]}
    raw = json.loads(line.removeprefix("WRK_JSON "))
    requests = max(raw["requests"], 1)
    used = Groups.used(before, after)
    stack_s = sum(v for k, v in used.items() if k not in ("mariadb", "redis"))
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "bytes_per_request": round(raw["bytes"] / requests),
        "errors": raw["errors"],
        "non_2xx": raw["status"],
        "p50_ms": raw["p50"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "stack_cpu_ms": round(stack_s * 1000 / requests, 3),
        "mariadb_cpu_ms": round(used["mariadb"] * 1000 / requests, 3),
        "redis_cpu_ms": round(used["redis"] * 1000 / requests, 3),
        "by_process_ms": {k: round(v * 1000 / requests, 3) for k, v in used.items() if v > 0},
    }


class Floor:
    """A trivial endpoint in one uvicorn with the stack's flags, behind Nginx rendered from the gateway's templates."""

    def __init__(self, gateway_port: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="teammoa-floor-"))
        self.config = stack_config.Config.from_env(
            {
                "TEAMMOA_GATEWAY_PORT": str(gateway_port),
                "TEAMMOA_DATA_DIR": str(self.dir),
            }
        )
        self.app_port = self.config.ports()["teams-1"]
        self.entries: list[dict] = []

    @property
    def url(self) -> str:
        return self.config.url + FLOOR_PATH

    def __enter__(self) -> Floor:
        s, cfg = stack_config, self.config
        (cfg.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        (cfg.data_dir / "nginx" / "run").mkdir(parents=True, exist_ok=True)
        upstreams = {group: [self.app_port] for group in s.UPSTREAMS}
        conf_dir = cfg.data_dir / "nginx" / "conf"
        render = [sys.executable, str(ROOT / "gateway" / "nginx" / "render.py"), "--out", str(conf_dir)]
        env = {**os.environ, **s.nginx_env(cfg, upstreams)}
        env["TEAMMOA_NGINX_INTERNAL"] = ""  # no service-to-service listeners: nothing to call
        subprocess.run(render, check=True, stdout=subprocess.DEVNULL, env=env)
        app = s.process_command("teams-1", self.app_port)
        app[app.index("services.teams.app:create_app")] = "tools.bench.floor_app:create_app"
        self.entries.append(
            {"name": "floor-app", **spawn(app, cwd=ROOT, env=dict(os.environ), log=cfg.data_dir / "app.log")}
        )
        deadline = time.monotonic() + 20
        while not listening(self.app_port) or "startup complete" not in (cfg.data_dir / "app.log").read_text():
            if time.monotonic() > deadline:
                raise RuntimeError("the floor app did not start: " + (cfg.data_dir / "app.log").read_text()[-800:])
            time.sleep(0.1)
        nginx = s.commands(cfg)["nginx"]
        self.entries.append(
            {"name": "floor-nginx", **spawn(nginx, cwd=ROOT, env=dict(os.environ), log=cfg.data_dir / "ng.log")}
        )
        while not listening(cfg.gateway_port):
            if time.monotonic() > deadline:
                raise RuntimeError("the floor nginx did not start: " + (cfg.data_dir / "ng.log").read_text()[-800:])
            time.sleep(0.1)
        return self

    def groups(self) -> Groups:
        return Groups({e["name"]: e["pid"] for e in self.entries})

    def __exit__(self, *exc: object) -> None:
        stop(self.entries, timeout_s=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def free_gateway_port(first: int = 19100, last: int = 29000) -> int:
    """A gateway port whose whole range of stack ports is free (other stacks may share the machine)."""
    for port in range(first, last, 20):
        ports = stack_config.Config.from_env({"TEAMMOA_GATEWAY_PORT": str(port)}).ports().values()
        if not any(listening(p) for p in ports):
            return port
    raise RuntimeError("no free port range for the floor")


def endpoints(team_id: int) -> list[tuple[str, str]]:
    team = f"/api/v1/teams/{team_id}"
    return [
        ("todo list (60 todos)", f"{team}/todos/?page=1&page_size=100"),
        ("one team", f"{team}/"),
        ("my teams", "/api/v1/teams/?page=1&page_size=24"),
        ("team availability (100 x 7)", f"{team}/schedules/"),
        ("board page", f"{team}/posts/?q=&page=1&page_size=10"),
        ("home page (static, Nginx)", "/"),
        ("/health/ (Nginx's one-second cache)", "/health/"),
    ]


def run(
    state: dict, *, team_id: int, seconds: int, connections: int, floor_port: int = 0, only: list[str] | None = None
) -> dict[str, Any]:
    """Every endpoint and the floor; the figures as a dict."""
    stack_groups = Groups({e["name"]: e["pid"] for e in state["processes"]})
    url = state["url"]
    results: dict[str, Any] = {"connections": connections, "seconds": seconds, "load_average_at_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        script = wrk_script(Path(tmp), sign_in(url, "loaduser2"))
        with Floor(floor_port or free_gateway_port()) as floor:
            measure(floor.url, floor.groups(), script, seconds=2, connections=connections)  # warm up
            results["floor"] = measure(floor.url, floor.groups(), script, seconds=seconds, connections=connections)
        rows = {}
        for name, path in endpoints(team_id):
            if only and not any(o in name for o in only):
                continue
            measure(url + path, stack_groups, script, seconds=2, connections=connections)  # warm up caches, pools
            rows[name] = measure(url + path, stack_groups, script, seconds=seconds, connections=connections)
        results["endpoints"] = rows
    results["load_average_at_end"] = os.getloadavg()
    return results


def table(results: dict[str, Any]) -> str:
    floor = results["floor"]["stack_cpu_ms"]
    lines = [
        f"wrk -t2 -c{results['connections']} -d{results['seconds']}s through Nginx, Bearer token, Accept-Encoding: gzip; "
        f"load average {results['load_average_at_start'][0]:.2f} -> {results['load_average_at_end'][0]:.2f}. "
        "Stack = Nginx + every uvicorn of the stack; + DB adds MariaDB's and Redis's own CPU (shared servers).",
        "",
        "| endpoint | stack ms/req | x floor | MariaDB ms/req | Redis ms/req | stack + DB ms/req | target | req/s | p99 ms "
        "| bytes/req | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in [("floor (trivial endpoint)", results["floor"]), *results["endpoints"].items()]:
        if "error" in row:
            lines.append(f"| {name} | error: {row['error'][:60]} | | | | | | | | | |")
            continue
        ratio = row["stack_cpu_ms"] / floor if floor else 0.0
        total = row["stack_cpu_ms"] + row["mariadb_cpu_ms"] + row["redis_cpu_ms"]
        target = TARGETS_MS.get(name)
        verdict = f"≤ {target} ({'met' if total <= target else 'missed'})" if target else ""
        lines.append(
            f"| {name} | {row['stack_cpu_ms']:.3f} | {ratio:.1f} | {row['mariadb_cpu_ms']:.3f} | {row['redis_cpu_ms']:.3f} "
            f"| {total:.3f} | {verdict} | {row['rps']:.0f} | {row['p99_ms']:.1f} | {row['bytes_per_request']} "
            f"| {row['errors'] + row['non_2xx']} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TEAMMOA_DATA_DIR", "var/bench"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--team-id", type=int, default=1)
    parser.add_argument("--floor-port", type=int, default=0, help="gateway port of the floor (default: a free range)")
    parser.add_argument("--only", default="", help="comma-separated substrings of endpoint names")
    parser.add_argument("--json", default="", help="also write the figures here")
    args = parser.parse_args(argv)
    state = json.loads((ROOT / args.data_dir / "stack.json").read_text())
    floor_port = args.floor_port
    results = run(
        state,
        team_id=args.team_id,
        seconds=args.seconds,
        connections=args.connections,
        floor_port=floor_port,
        only=[o for o in args.only.split(",") if o],
    )
    print(table(results))
    for name, row in results["endpoints"].items():
        if "by_process_ms" in row:
            print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(row["by_process_ms"].items())))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
