"""One stage of the Locust mix, with Locust as a library, run in the load venv (gevent stays there).

    .venv-load/bin/python -m tools.bench.locust_stage --host URL --users 300 --team-ids 1,2,3 --out stage.json

Starts ``--users`` users of ``tests/load/locustfile.py`` at ``--spawn-rate`` per second, waits until
every one has signed in, keeps the sign-in figures of that ramp, then resets and measures the mix for
``--seconds``. Writes one JSON document: per request name the count, failures, 5xx and exact
nearest-rank percentiles (ms), the mix as a whole without sign-in, the errors, this process's CPU
(Locust's own cost), the CPU of each ``--watch`` process (name=pid, children included) and of the
whole machine over the measured window.

With ``--recover-to M`` it is the overload stage instead: ``--users`` users (e.g. 6,000) spawned at
``--spawn-rate``, measured for ``--seconds`` once all are spawned (every request's time, the slowest,
how many took over 2 s, how many were refused with 503 and how fast, what ``/health/`` answered),
then the users drop to M and ``--recover-seconds`` are recorded in one-second windows: the time until
p99 stays under 200 ms is the recovery time.

The client shares the machine's two cores with the stack, so it runs at nice -10 when it may (root) and
measures its own lag (how late its event loop wakes): a request's time includes that delay, which the
report shows beside the figures so that a starved client is not mistaken for a slow server.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import gevent
import psutil
from locust import events
from locust.env import Environment

from tools.common import ROOT

LOCUSTFILE = ROOT / "tests" / "load" / "locustfile.py"
CLIENT_NICE = -10  # the load generator before the stack for the CPU: a starved client would add its own delay
LAG_TICK_S = 0.05
SIGN_IN_GRACE_S = 60  # after the last user spawned: sign-ins queue behind Argon2 (keeps `make bench` < 20 min)
STOP_TIMEOUT_S = 15


def load_locustfile():
    spec = importlib.util.spec_from_file_location("teammoa_locustfile", LOCUSTFILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted samples."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Recorder:
    """Every request's exact time and outcome, by name, while ``on`` is set."""

    def __init__(self) -> None:
        self.on = False
        self.times: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)
        self.server_errors: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.timeline: list[tuple[float, float, int, str]] | None = None  # (ended at, ms, status, name) when kept
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def __call__(self, request_type, name, response_time, response_length, response=None, exception=None, **_kwargs) -> None:
        if not self.on:
            return
        self.times[name].append(response_time)
        status = getattr(response, "status_code", 0) or 0
        self.statuses[name][status] += 1
        if self.timeline is not None:
            self.timeline.append((time.monotonic(), response_time, status, name))
        if status >= 500:
            self.server_errors[name] += 1
        if exception is not None:
            self.failures[name] += 1
            self.errors[f"{name}: {str(exception)[:160]}"] += 1

    def reset(self) -> None:
        self.times.clear()
        self.failures.clear()
        self.server_errors.clear()
        self.errors.clear()
        self.statuses.clear()
        if self.timeline is not None:
            self.timeline = []

    def summary(self, names: list[str], seconds: float) -> dict:
        samples = sorted(t for name in names for t in self.times.get(name, ()))
        count = len(samples)
        return {
            "requests": count,
            "rps": round(count / seconds, 1) if seconds else None,
            "failures": sum(self.failures.get(n, 0) for n in names),
            "server_errors": sum(self.server_errors.get(n, 0) for n in names),
            "p50_ms": _ms(percentile(samples, 0.50)),
            "p95_ms": _ms(percentile(samples, 0.95)),
            "p99_ms": _ms(percentile(samples, 0.99)),
            "max_ms": _ms(samples[-1] if samples else None),
            "mean_ms": _ms(sum(samples) / count if count else None),
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def raise_priority() -> int:
    """Run the load generator at ``CLIENT_NICE`` when allowed (root); the niceness it runs at."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, CLIENT_NICE)
    except OSError:
        pass
    return os.getpriority(os.PRIO_PROCESS, 0)


class LagWatch:
    """How late this process's own event loop runs: a greenlet asks to wake every 50 ms and records how
    much later it woke. Requests measured meanwhile include that delay (the client's, not the server's)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._greenlet = gevent.spawn(self._tick)

    def _tick(self) -> None:
        while True:
            began = time.monotonic()
            gevent.sleep(LAG_TICK_S)
            self.samples.append((time.monotonic() - began - LAG_TICK_S) * 1000)

    def take(self) -> dict:
        """p99 and max lag (ms) since the last take."""
        ordered, self.samples = sorted(self.samples), []
        return {"p99_ms": _ms(percentile(ordered, 0.99)), "max_ms": _ms(ordered[-1] if ordered else None)}

    def stop(self) -> None:
        self._greenlet.kill()


class CpuWatch:
    """CPU seconds of processes (with their children) and of the machine, between two readings."""

    def __init__(self, watch: dict[str, int]) -> None:
        self.procs: dict[str, list[psutil.Process]] = {}
        for name, pid in watch.items():
            try:
                root = psutil.Process(pid)
                self.procs[name] = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
        self.procs["locust"] = [psutil.Process()]
        self._start = self._read()

    def _read(self) -> tuple[float, dict[str, float], float, float]:
        per = {}
        for name, procs in self.procs.items():
            total = 0.0
            for proc in procs:
                try:
                    times = proc.cpu_times()
                    total += times.user + times.system
                except psutil.Error:
                    pass
            per[name] = total
        machine = psutil.cpu_times()
        busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq + machine.steal
        return time.monotonic(), per, busy, sum(machine)

    def report(self) -> dict:
        """Each process's share of one core in %, and the machine's busy share of all cores in %."""
        began, per0, busy0, all0 = self._start
        now, per1, busy1, all1 = self._read()
        wall = now - began
        return {
            "processes_pct_of_one_core": {name: round((per1[name] - per0.get(name, 0)) / wall * 100, 1) for name in per1},
            "machine_busy_pct": round((busy1 - busy0) / (all1 - all0) * 100, 1) if all1 > all0 else None,
            "cores": psutil.cpu_count(),
        }


def run(args: argparse.Namespace) -> dict:
    locustfile = load_locustfile()
    if args.team_ids:
        locustfile.TEAM_IDS[:] = [int(i) for i in args.team_ids.split(",")]
    recorder = Recorder()
    events.request.add_listener(recorder)
    env = Environment(user_classes=[locustfile.TeamMoaUser], host=args.host, events=events)
    runner = env.create_local_runner()
    watched = {name: int(pid) for name, pid in (item.split("=", 1) for item in args.watch)}
    lag = LagWatch()
    recorder.on = True  # the ramp: sign-ins (and the mix of those already in)
    ramp_cpu = CpuWatch(watched)
    started = time.monotonic()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    spawn_deadline = started + args.users / args.spawn_rate + SIGN_IN_GRACE_S
    while locustfile.signed_in < args.users and time.monotonic() < spawn_deadline:
        gevent.sleep(0.25)
    ramp_s = time.monotonic() - started
    sign_in = recorder.summary([locustfile.SIGN_IN], ramp_s)
    ramp_mix = recorder.summary([n for n in recorder.times if n != locustfile.SIGN_IN], ramp_s)
    ramp_errors = dict(recorder.errors)
    ramp_usage = ramp_cpu.report()
    ramp_lag = lag.take()
    all_in = locustfile.signed_in >= args.users
    recorder.reset()
    env.stats.reset_all()
    cpu = CpuWatch(watched)
    measured_from = time.monotonic()
    gevent.sleep(args.seconds)
    measured = time.monotonic() - measured_from
    recorder.on = False
    usage = cpu.report()
    names = sorted(recorder.times)
    mix_names = [n for n in names if n != locustfile.SIGN_IN]
    result = {
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "seconds": round(measured, 1),
        "ramp_s": round(ramp_s, 1),
        "all_signed_in": all_in,
        "signed_in": locustfile.signed_in,
        "sign_in": sign_in,
        "ramp_mix": ramp_mix,
        "ramp_errors": ramp_errors,
        "mix": recorder.summary(mix_names, measured),
        "by_name": {name: recorder.summary([name], measured) for name in names},
        "errors": dict(sorted(recorder.errors.items(), key=lambda kv: -kv[1])[:20]),
        "cpu": usage,
        "ramp_cpu": ramp_usage,
        "client_lag": lag.take(),
        "ramp_client_lag": ramp_lag,
        "client_nice": args.nice,
    }
    lag.stop()
    runner.quit()
    gevent.sleep(0)
    return result


SLOW_MS = 2000  # target 3: no request waits longer than this
RECOVERED_P99_MS = 200


def overload_window(recorder: Recorder, seconds: float) -> dict:
    """The overload window: the slowest requests, the refusals and what /health/ answered."""
    timeline = recorder.timeline or []
    ordered = sorted(ms for _, ms, _, _ in timeline)
    refused = sorted(ms for _, ms, status, _ in timeline if status == 503)
    served = sorted(ms for _, ms, status, _ in timeline if 200 <= status < 400)
    return {
        "requests": len(ordered),
        "rps": round(len(ordered) / seconds, 1) if seconds else None,
        "served": len(served),
        "served_rps": round(len(served) / seconds, 1) if seconds else None,
        "refused_503": len(refused),
        "other_failures": sum(1 for _, _, status, _ in timeline if status == 0 or (status >= 400 and status != 503)),
        "over_2s": sum(1 for ms in ordered if ms > SLOW_MS),
        "over_2s_by_name": dict(sorted(Counter(name for _, ms, _, name in timeline if ms > SLOW_MS).items())),
        "p50_ms": _ms(percentile(ordered, 0.50)),
        "p99_ms": _ms(percentile(ordered, 0.99)),
        "p999_ms": _ms(percentile(ordered, 0.999)),
        "max_ms": _ms(ordered[-1] if ordered else None),
        "served_p99_ms": _ms(percentile(served, 0.99)),
        "refused_p99_ms": _ms(percentile(refused, 0.99)),
        "refused_max_ms": _ms(refused[-1] if refused else None),
        "health_statuses": {str(k): v for k, v in sorted(recorder.statuses.get("/health/", {}).items())},
        "statuses": {str(k): v for k, v in sorted(sum_statuses(recorder).items())},
    }


def sum_statuses(recorder: Recorder) -> dict[int, int]:
    total: dict[int, int] = defaultdict(int)
    for per in recorder.statuses.values():
        for status, count in per.items():
            total[status] += count
    return total


def recovery_windows(recorder: Recorder, dropped_at: float, seconds: float) -> dict:
    """p99 of each second after the drop; recovered once every later second stays under 200 ms."""
    windows: list[list[float]] = [[] for _ in range(max(1, math.ceil(seconds)))]
    for ended, ms, _, name in recorder.timeline or []:
        index = int(ended - dropped_at)
        if 0 <= index < len(windows) and name != "sign in":
            windows[index].append(ms)
    p99s = [percentile(sorted(w), 0.99) for w in windows]
    slow = [i for i, p in enumerate(p99s) if p is not None and p >= RECOVERED_P99_MS]
    recovered_after = (slow[-1] + 1) if slow else 0
    after_10 = sorted(ms for w in windows[10:] for ms in w)
    return {
        "window_p99_ms": [_ms(p) for p in p99s],
        "recovered_after_s": recovered_after if recovered_after < len(windows) else None,
        "p99_from_10s_ms": _ms(percentile(after_10, 0.99)),
        "p95_from_10s_ms": _ms(percentile(after_10, 0.95)),
        "requests_from_10s": len(after_10),
    }


def run_overload(args: argparse.Namespace) -> dict:
    locustfile = load_locustfile()
    if args.team_ids:
        locustfile.TEAM_IDS[:] = [int(i) for i in args.team_ids.split(",")]
    recorder = Recorder()
    recorder.timeline = []
    events.request.add_listener(recorder)
    env = Environment(user_classes=[locustfile.TeamMoaUser], host=args.host, events=events)
    runner = env.create_local_runner()
    watched = {name: int(pid) for name, pid in (item.split("=", 1) for item in args.watch)}
    lag = LagWatch()
    recorder.on = True
    started = time.monotonic()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    while runner.user_count < args.users and time.monotonic() < started + args.users / args.spawn_rate + 30:
        gevent.sleep(0.25)
    ramp = overload_window(recorder, time.monotonic() - started)
    ramp["client_lag"] = lag.take()
    recorder.reset()
    cpu = CpuWatch(watched)
    began, began_at = time.monotonic(), time.time()
    gevent.sleep(args.seconds)
    measured = time.monotonic() - began
    overload = overload_window(recorder, measured)
    overload["client_lag"] = lag.take()
    overload_cpu = cpu.report()
    recorder.reset()
    dropped_at, dropped_at_epoch = time.monotonic(), time.time()
    runner.start(args.recover_to, spawn_rate=max(args.users, 1000))  # stop the extra users at once
    gevent.sleep(args.recover_seconds)
    recorder.on = False
    recovery = recovery_windows(recorder, dropped_at, args.recover_seconds)
    recovery["client_lag"] = lag.take()
    lag.stop()
    result = {
        "users": args.users,
        "recover_to": args.recover_to,
        "spawn_rate": args.spawn_rate,
        "seconds": round(measured, 1),
        "overload_began_at": began_at,  # wall clock, for the other views of the same windows (Nginx, the probe)
        "dropped_at": dropped_at_epoch,
        "signed_in": locustfile.signed_in,
        "ramp": ramp,
        "overload": overload,
        "cpu": overload_cpu,
        "recovery": recovery,
        "client_nice": args.nice,
        "errors": dict(sorted(recorder.errors.items(), key=lambda kv: -kv[1])[:10]),
    }
    runner.quit()
    gevent.sleep(0)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--spawn-rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--team-ids", default=os.environ.get("TEAMMOA_LOAD_TEAM_IDS", ""))
    parser.add_argument(
        "--watch",
        action="append",
        default=[],
        metavar="NAME=PID",
        help="a process whose CPU to report (its children included); repeatable",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--recover-to", type=int, default=0, help="the overload stage: users after the drop")
    parser.add_argument("--recover-seconds", type=float, default=30)
    args = parser.parse_args(argv)
    args.nice = raise_priority()
    # Thousands of users and every request's record make the collector's full passes long (hundreds of
    # ms, every few seconds, seen as the client's lag); reference counting frees nearly everything anyway.
    gc.disable()
    args.watch = [item for item in args.watch if "=" in item]
    for item in args.watch:
        if not item.split("=", 1)[1].isdigit():
            parser.error(f"--watch {item}: the pid must be a number")
    if args.recover_to:
        result = run_overload(args)
        args.out.write_text(json.dumps(result, indent=2))
        over, rec = result["overload"], result["recovery"]
        print(
            f"overload {args.users} users: {over['rps']} req/s ({over['served_rps']} served), max {over['max_ms']} ms, "
            f"{over['over_2s']} over 2 s, {over['refused_503']} refused (p99 {over['refused_p99_ms']} ms), "
            f"health {over['health_statuses']}; back to {args.recover_to}: p99 < 200 ms after "
            f"{rec['recovered_after_s']} s; locust CPU {result['cpu']['processes_pct_of_one_core'].get('locust')}%, "
            f"its own lag p99 {over['client_lag']['p99_ms']} ms (nice {args.nice})",
            flush=True,
        )
        return 0
    result = run(args)
    args.out.write_text(json.dumps(result, indent=2))
    mix = result["mix"]
    print(
        f"{args.users} users: {mix['rps']} req/s, p50 {mix['p50_ms']} ms, p95 {mix['p95_ms']} ms, "
        f"p99 {mix['p99_ms']} ms, {mix['failures']} failed; sign-in p95 {result['sign_in']['p95_ms']} ms; "
        f"locust CPU {result['cpu']['processes_pct_of_one_core'].get('locust')}% of a core, "
        f"its own lag p99 {result['client_lag']['p99_ms']} ms (nice {args.nice})",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
