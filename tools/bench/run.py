"""``make bench``: the load benchmark of the local stack, written to ``tools/bench/results/<date>.{md,json,png}``.

    .venv/bin/python -m tools.bench [--users 1000,2000,3000] [--spawn-rate 20] [--seconds 90] [--wrk-seconds 20]
                                    [--overload 6000 --recover-to 1000] [--idle-sockets 10000]

0. creates the load venv ``.venv-load`` from ``requirements/load.txt`` when missing or older;
1. starts the local stack (``python -m tools.stack up``) in its own data directory, port, databases and
   Redis prefix (``var/bench``, 18080, ``teammoa_bench_*``, ``teammoa-bench:``), unless it runs already;
2. seeds the load data set (``python -m tools.seed``);
3. runs the Locust mix (``tests/load/locustfile.py``) at each user count: spawn 20/s, wait until
   every user has signed in, then measure ``--seconds`` (``tools/bench/locust_stage.py``, in ``.venv-load``);
   then the overload stage: ``--overload`` users (every request's time, the 503 refusals, what
   ``/health/`` answered), dropped to ``--recover-to`` users: the seconds until p99 < 200 ms again;
4. runs wrk (2 threads, 50 connections) on the authenticated todo list and on ``/health/`` through
   Nginx (``apt-get install -y wrk`` when missing), and the todo list again with 4x the connections;
5. runs the realtime fan-out benchmark (``tools/bench/realtime_fanout.py``: 200 sockets across two
   instances, and ``--idle-sockets`` idle subscribed ones on one instance);
6. writes the results beside the reference's figures, with the machine's facts and every process's
   CPU, draws the chart, prints the table, and stops the stack it started.

Every figure comes from the run. Check ``uptime`` first: the machine has two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from tools.bench import report, stack_cpu
from tools.common import ROOT, apt_install, cpu_seconds, locate, sign_in

RESULTS = ROOT / "tools" / "bench" / "results"
LOAD_VENV = ROOT / ".venv-load"
LOAD_PYTHON = LOAD_VENV / "bin" / "python"
LOAD_REQUIREMENTS = ROOT / "requirements" / "load.txt"
WRK_SCRIPT = ROOT / "tools" / "bench" / "wrk_report.lua"
BENCH_DATA_DIR = "var/bench"  # the benchmark's own stack, never the tests' or `make stack`'s
BENCH_GATEWAY_PORT = 18080
BENCH_DATABASE_URL = "mysql+asyncmy://root@127.0.0.1:3306"  # the faster driver (docs/performance.md)
STAGE_PAUSE_S = 5  # let the previous stage's connections close
FANOUT_TIMEOUT_S = 600
CPU_SECONDS = 10  # wrk per endpoint in the CPU-per-request step (issue 13's method: 32 connections)
CPU_CONNECTIONS = 32


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Set-up ------------------------------------------------------------------------------------------


def ensure_load_venv() -> None:
    """Create or update the load venv (Locust, matplotlib, py-spy) from requirements/load.txt."""
    stamp = LOAD_VENV / ".installed"
    if stamp.exists() and stamp.stat().st_mtime >= LOAD_REQUIREMENTS.stat().st_mtime:
        return
    log("installing the load venv: .venv-load from requirements/load.txt")
    if not LOAD_PYTHON.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(LOAD_VENV)])
    subprocess.check_call(
        [str(LOAD_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(LOAD_REQUIREMENTS)]
    )
    stamp.touch()


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's packages when missing (root only)."""
    return apt_install("wrk")


def bench_env(environ) -> dict[str, str]:
    """The environment of the benchmark's stack (TEAMMOA_BENCH_DATA_DIR, _GATEWAY_PORT, _DATABASE_URL override)."""
    port = int(environ.get("TEAMMOA_BENCH_GATEWAY_PORT", BENCH_GATEWAY_PORT))
    return {
        **environ,
        "TEAMMOA_DATA_DIR": environ.get("TEAMMOA_BENCH_DATA_DIR", BENCH_DATA_DIR),
        "TEAMMOA_GATEWAY_PORT": str(port),
        "TEAMMOA_STACK_BASE_PORT": str(port + 1),
        "TEAMMOA_STACK_DATABASE_URL": environ.get("TEAMMOA_BENCH_DATABASE_URL", BENCH_DATABASE_URL),
        "TEAMMOA_STACK_DB_PREFIX": "teammoa_bench_",
        "TEAMMOA_REDIS_PREFIX": "teammoa-bench:",
    }


def stack(env: dict[str, str], command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.stack", command], cwd=ROOT, env=env, text=True, capture_output=True)


def stack_state(env: dict[str, str]) -> dict | None:
    path = ROOT / env["TEAMMOA_DATA_DIR"] / "stack.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def seed(env: dict[str, str]) -> list[int]:
    """Seed the data set (idempotent); the three team ids."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tools.seed", "--data-dir", env["TEAMMOA_DATA_DIR"]],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
    )
    if result.returncode != 0:
        sys.exit("seeding failed (see above)")
    log(f"seeded in {time.perf_counter() - started:.0f}s")
    return json.loads(result.stdout.strip().splitlines()[-1])["team_ids"]


def machine_facts() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    mem_kib = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE).group(1))

    def version(command: list[str]) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"

    return {
        "nproc": os.cpu_count(),
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nginx": version([locate("nginx") or "nginx", "-v"]),
        "mariadb": version(["mariadb", "--version"]),
        "wrk": version(["wrk", "--version"]),
        "load_average_at_start": os.getloadavg(),
    }


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return rev.strip() + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


# Measurements ------------------------------------------------------------------------------------


def watch_args(state: dict) -> list[str]:
    return [arg for entry in state["processes"] for arg in ("--watch", f"{entry['name']}={entry['pid']}")]


def locust_stage(url: str, users: int, args: argparse.Namespace, team_ids: list[int], state: dict) -> dict:
    """One stage of the mix (its own process in the load venv); its figures."""
    out = RESULTS / f"stage-{users}.json.tmp"
    command = [
        str(LOAD_PYTHON),
        "-m",
        "tools.bench.locust_stage",
        "--host",
        url,
        "--users",
        str(users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--seconds",
        str(args.seconds),
        "--team-ids",
        ",".join(map(str, team_ids)),
        "--out",
        str(out),
        *watch_args(state),
    ]
    log(f"Locust mix: {users} users, spawn {args.spawn_rate:g}/s, {args.seconds:g}s measured")
    load_before = os.getloadavg()
    result = subprocess.run(command, cwd=ROOT, text=True, capture_output=True)
    if result.returncode != 0 or not out.exists():
        log(f"the {users}-user stage failed:\n{result.stderr[-3000:]}")
        return {"users": users, "error": result.stderr[-1000:] or f"exit {result.returncode}"}
    log(result.stdout.strip())
    figures = json.loads(out.read_text())
    out.unlink()
    figures["load_average"] = {"before": load_before, "after": os.getloadavg()}
    return figures


def wrk(binary: str, target: str, seconds: int, state: dict, token: str = "", connections: int = 50) -> dict:
    """wrk with 2 threads and 50 connections; its figures and every process's CPU share meanwhile."""
    procs = {e["name"]: e["pid"] for e in state["processes"]}
    before, started = {name: cpu_seconds(pid) for name, pid in procs.items()}, time.monotonic()
    result = subprocess.run(
        [binary, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency", "-s", str(WRK_SCRIPT), target],
        capture_output=True,
        text=True,
        env={**os.environ, "TEAMMOA_BENCH_TOKEN": token},
    )
    wall = time.monotonic() - started
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        return {"error": (result.stderr or result.stdout)[-500:]}
    raw = json.loads(line.removeprefix("WRK_JSON "))
    seconds_run = raw["duration_us"] / 1e6
    errors = sum(raw["errors"].values())
    return {
        "target": target,
        "connections": connections,
        "threads": 2,
        "seconds": round(seconds_run, 1),
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "errors": raw["errors"],
        "failed": errors,
        "p50_ms": raw["latency_us"]["p50"] / 1000,
        "p90_ms": raw["latency_us"]["p90"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000,
        "max_ms": raw["latency_us"]["max"] / 1000,
        "cpu_pct_of_one_core": {
            name: round((cpu_seconds(pid) - before[name]) / wall * 100, 1) for name, pid in procs.items()
        },
    }


def trailing_json(text: str) -> dict | None:
    """The JSON object a benchmark printed last (on one line or indented over several)."""
    text = text.strip()
    starts = [0] + [m.start() + 1 for m in re.finditer(r"\n\{", text)]
    for start in reversed(starts):
        try:
            value = json.loads(text[start:])
        except ValueError:
            continue
        return value if isinstance(value, dict) else None
    return None


def overload_stage(url: str, args: argparse.Namespace, team_ids: list[int], state: dict) -> dict:
    """The overload stage (target 3): ``--overload`` users, then back to ``--recover-to``; its figures."""
    out = RESULTS / f"overload-{args.overload}.json.tmp"
    command = [
        str(LOAD_PYTHON),
        "-m",
        "tools.bench.locust_stage",
        "--host",
        url,
        "--users",
        str(args.overload),
        "--spawn-rate",
        str(args.overload_spawn_rate),
        "--seconds",
        str(args.overload_seconds),
        "--recover-to",
        str(args.recover_to),
        "--recover-seconds",
        str(args.recover_seconds),
        "--team-ids",
        ",".join(map(str, team_ids)),
        "--out",
        str(out),
        *watch_args(state),
    ]
    log(f"overload: {args.overload} users (spawn {args.overload_spawn_rate:g}/s), then {args.recover_to}")
    load_before = os.getloadavg()
    began = time.time()
    probe_out = RESULTS / "probe.json.tmp"
    longest = args.overload / args.overload_spawn_rate + 30 + args.overload_seconds + args.recover_seconds + 30
    probe_command = ["--url", url, "--team-id", str(team_ids[-1]), "--seconds", str(longest), "--out", str(probe_out)]
    probe = subprocess.Popen([sys.executable, "-m", "tools.bench.probe", *probe_command], cwd=ROOT)
    result = subprocess.run(command, cwd=ROOT, text=True, capture_output=True)
    ended = time.time()
    probe.terminate()
    probe.wait(timeout=60)
    samples = json.loads(probe_out.read_text()) if probe_out.exists() else []
    probe_out.unlink(missing_ok=True)
    if result.returncode != 0 or not out.exists():
        log(f"the overload stage failed:\n{result.stderr[-3000:]}")
        return {"users": args.overload, "error": result.stderr[-1000:] or f"exit {result.returncode}"}
    log(result.stdout.strip())
    figures = json.loads(out.read_text())
    out.unlink()
    figures["load_average"] = {"before": load_before, "after": os.getloadavg()}
    figures["nginx"] = nginx_window(state, began, ended)  # ramp, overload and recovery as the server saw them
    figures["probe"] = probe_windows(samples, figures["overload_began_at"], figures["dropped_at"], ended)
    log(
        f"one user's view (tools/bench/probe.py): overload max {figures['probe']['overload'].get('max_ms')} ms, "
        f"{figures['probe']['overload'].get('over_2s')} over 2 s; after the drop p99 < 200 ms from "
        f"{figures['probe']['recovered_after_s']} s"
    )
    return figures


SLOW_MS = 2000
RECOVERED_MS = 200


def probe_windows(samples: list, began: float, dropped: float, ended: float) -> dict:
    """The probe's requests (wall clock, name, status, ms) in the overload window and after the drop:
    the slowest, how many took over 2 s, what was refused, and the seconds after the drop until every
    later read took under 200 ms (sign-in apart: it waits for Argon2 by design, within its own 1 s bound)."""

    def stats(rows: list) -> dict:
        ordered = sorted(ms for _, _, _, ms in rows)
        if not ordered:
            return {"requests": 0}
        return {
            "requests": len(ordered),
            "p50_ms": ordered[len(ordered) // 2],
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "max_ms": ordered[-1],
            "over_2s": sum(1 for ms in ordered if ms > SLOW_MS),
            "statuses": {str(s): sum(1 for _, _, st, _ in rows if st == s) for s in sorted({st for _, _, st, _ in rows})},
            "by_name_max_ms": {n: max(ms for _, nm, _, ms in rows if nm == n) for n in sorted({nm for _, nm, _, _ in rows})},
        }

    after = [row for row in samples if dropped <= row[0] <= ended]
    reads_after = [row for row in after if row[1] != "sign in"]  # the mix's figures leave sign-in out too
    slow_after = [row[0] - dropped for row in reads_after if row[3] >= RECOVERED_MS]
    return {
        "whole_stage": stats(samples),
        "overload": stats([row for row in samples if began <= row[0] < dropped]),
        "after_drop": stats(after),
        "sign_in_after_drop": stats([row for row in after if row[1] == "sign in"]),
        "recovered_after_s": round(max(slow_after), 1) if slow_after else 0.0,
    }


def nginx_window(state: dict, began: float, ended: float) -> dict:
    """What Nginx saw between two wall-clock times: the server side of a stage, free of the load generator's
    own delays (a starved Locust adds seconds to what it measures). ``s`` is Nginx's request time."""
    log_path = Path(state.get("data_dir", "")) / "logs" / "nginx-access.log"
    public = str(state["url"].rsplit(":", 1)[1])
    rows: list[tuple[float, int, str]] = []
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return {"error": f"no access log at {log_path}"}
    for line in lines[-400_000:]:
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
            when = dt.datetime.fromisoformat(entry["ts"]).timestamp()
        except (ValueError, KeyError):
            continue
        if began <= when <= ended and str(entry.get("port")) == public:
            rows.append((float(entry["s"]), int(entry["status"]), entry["path"]))

    def stats(selected: list[float]) -> dict:
        ordered = sorted(selected)
        if not ordered:
            return {"requests": 0}
        pick = lambda share: round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 1)  # noqa: E731
        return {
            "requests": len(ordered),
            "p50_ms": pick(0.5),
            "p99_ms": pick(0.99),
            "max_ms": round(ordered[-1] * 1000, 1),
            "over_2s": sum(1 for s in ordered if s > 2),
        }

    statuses: dict[str, int] = {}
    for _, status, _ in rows:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    health = [status for _, status, path in rows if path.startswith("/health")]
    return {
        "all": stats([s for s, _, _ in rows]),
        "refused_503": stats([s for s, status, _ in rows if status == 503]),
        "answered_2xx": stats([s for s, status, _ in rows if 200 <= status < 300]),
        "statuses": statuses,
        "health_statuses": {str(k): health.count(k) for k in sorted(set(health))},
    }


def fanout(env: dict[str, str], idle: int) -> dict:
    """The realtime fan-out benchmark, when it exists: it starts its own realtime instances and Redis."""
    command = [sys.executable, "-m", "tools.bench.realtime_fanout", "--idle", str(idle)]
    log("realtime fan-out: " + " ".join(command[1:]))
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, text=True, capture_output=True, timeout=FANOUT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"available": True, "error": f"did not finish within {FANOUT_TIMEOUT_S}s"}
    figures = trailing_json(result.stdout) if result.returncode == 0 else None
    if figures is None:
        return {
            "available": True,
            "error": f"exit {result.returncode}, no JSON result",
            "output": (result.stdout + result.stderr)[-1500:],
        }
    return {"available": True, "command": " ".join(command[1:]), "figures": figures}


# Main --------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1000,2000,3000", help="user counts of the Locust stages")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second (the reference's rate)")
    parser.add_argument("--overload", type=int, default=6000, help="users of the overload stage (0: none)")
    parser.add_argument("--overload-spawn-rate", type=float, default=100)
    parser.add_argument("--overload-seconds", type=float, default=30)
    parser.add_argument("--recover-to", type=int, default=1000, help="users after the overload")
    parser.add_argument("--recover-seconds", type=float, default=30)
    parser.add_argument("--overload-connections", type=int, default=200, help="wrk's connections when overloading")
    parser.add_argument("--idle-sockets", type=int, default=10000, help="idle subscribed sockets on one realtime instance")
    parser.add_argument("--seconds", type=float, default=90, help="measured seconds per stage, after sign-in")
    parser.add_argument("--wrk-seconds", type=int, default=20)
    parser.add_argument("--keep-stack", action="store_true", help="leave the stack running afterwards")
    args = parser.parse_args(argv)
    began = time.monotonic()
    ensure_load_venv()
    env = bench_env(os.environ)
    wrk_binary = ensure_wrk()
    facts = machine_facts()
    log(f"{facts['nproc']} cores ({facts['cpu_model']}), load average {facts['load_average_at_start']}")
    started_here = False
    state = stack_state(env)
    if not (state and stack(env, "status").returncode == 0):
        log("starting the stack: python -m tools.stack up")
        up = stack(env, "up")
        if up.returncode != 0:
            sys.exit(f"the stack did not start:\n{up.stdout}\n{up.stderr}")
        started_here, state = True, stack_state(env)
    url = state["url"]
    try:
        team_ids = seed(env)
        RESULTS.mkdir(parents=True, exist_ok=True)
        log("CPU per request of each mix endpoint and of the floor: tools/bench/stack_cpu.py")
        cpu_per_request = stack_cpu.run(state, team_id=team_ids[0], seconds=CPU_SECONDS, connections=CPU_CONNECTIONS)
        log("\n" + stack_cpu.table(cpu_per_request))
        stages = []
        for users in [int(n) for n in args.users.split(",") if n.strip()]:
            stages.append(locust_stage(url, users, args, team_ids, state))
            time.sleep(STAGE_PAUSE_S)
        overload = overload_stage(url, args, team_ids, state) if args.overload else None
        time.sleep(STAGE_PAUSE_S)
        log(f"wrk: todo list and /health/ through Nginx, {args.wrk_seconds}s each")
        todo_url = f"{url}/api/v1/teams/{team_ids[0]}/todos/?page=1&page_size=100"
        token = sign_in(url)
        wrk_runs = {
            "todo_list": wrk(wrk_binary, todo_url, args.wrk_seconds, state, token),
            "health": wrk(wrk_binary, f"{url}/health/", args.wrk_seconds, state),
        }
        if args.overload_connections:  # closed loop: 4x the connections of the sustainable run offers 4x its rate
            log(f"wrk overload: todo list with {args.overload_connections} connections")
            wrk_runs["todo_list_overload"] = wrk(
                wrk_binary, todo_url, args.wrk_seconds, state, token, connections=args.overload_connections
            )
        realtime = fanout(env, args.idle_sockets)
    finally:
        if started_here and not args.keep_stack:
            log("stopping the stack: python -m tools.stack down")
            stack(env, "down")
    facts["load_average_at_end"] = os.getloadavg()
    results = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "revision": git_revision(),
        "command": " ".join([".venv/bin/python -m tools.bench", *argv]) if argv else "make bench",
        "machine": facts,
        "stack": {
            "url": url,
            "processes": [e["name"] for e in state["processes"]],
            "database_url": env["TEAMMOA_STACK_DATABASE_URL"],
        },
        "settings": {
            "spawn_rate": args.spawn_rate,
            "seconds": args.seconds,
            "wrk_seconds": args.wrk_seconds,
            "overload": args.overload,
            "overload_spawn_rate": args.overload_spawn_rate,
            "recover_to": args.recover_to,
        },
        "team_ids": team_ids,
        "stages": stages,
        "overload": overload,
        "wrk": wrk_runs,
        "cpu_per_request": cpu_per_request,
        "fanout": realtime,
        "duration_s": round(time.monotonic() - began),
    }
    paths = report.write(results, RESULTS)
    print(report.summary_table(results))
    log("wrote " + ", ".join(str(p.relative_to(ROOT)) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
