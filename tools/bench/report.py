"""The benchmark's report: ``<date>.json`` (every figure), ``<date>.md`` (the tables, beside the
reference's figures and the targets) and ``<date>.png`` (users → req/s and p95/p99, drawn by
``tools/bench/chart.py`` in the load venv, where matplotlib lives)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tools.bench import stack_cpu
from tools.common import ROOT

LOAD_PYTHON = ROOT / ".venv-load" / "bin" / "python"

# The reference Django TeamMoa on this kind of machine (the figures; not measured here).
REFERENCE = {
    "users_p95_100ms": "~25",
    "mix_150": "22.5 req/s, p95 2.2 s, 4.3% HTTP 500",
    "sign_in": "p50 7 s at 25 users",
    "todo_list_wrk": "28 req/s, p99 2.3 s",
    "health_wrk": "166 req/s",
    "fanout": "p50 14.6 s, p99 27 s",
}
TARGET = {
    "users": 3000,
    "p95_ms": 50,
    "p99_ms": 200,
    "sign_in_p95_ms": 1000,
    "todo_rps": 3000,
    "todo_p99_ms": 30,
    "health_rps": 4000,
    "cursor_p99_ms": 15,
    "idle_socket_kb": 30,  # kB (1,000 bytes) per idle subscribed socket
}


def _ms(value) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _versus(value, target, *, higher_is_better: bool = False) -> str:
    """'met' or by how much the target is missed."""
    if value is None:
        return "not measured"
    ok = value >= target if higher_is_better else value <= target
    if ok:
        return "met"
    factor = target / value if higher_is_better else value / target
    return f"missed ({factor:.1f}× {'short' if higher_is_better else 'over'})"


def _ok_stages(results: dict) -> list[dict]:
    return [s for s in results["stages"] if "mix" in s]


def users_within(results: dict, p95_ms: float) -> str:
    """The largest measured user count whose p95 stayed within ``p95_ms`` (sign-in excluded)."""
    good = [s["users"] for s in _ok_stages(results) if (s["mix"]["p95_ms"] or 1e9) <= p95_ms]
    stages = [s["users"] for s in _ok_stages(results)]
    if not good:
        return f"< {min(stages)} (smallest stage measured)" if stages else "not measured"
    return f"≥ {max(good)}" + (" (largest stage measured)" if max(good) == max(stages) else "")


def comparison_table(results: dict) -> str:
    stages = _ok_stages(results)
    top = max(stages, key=lambda s: s["users"]) if stages else None
    todo, health = results["wrk"].get("todo_list", {}), results["wrk"].get("health", {})
    rows = [("measure", "reference Django", "TeamMoa (this run)", "target", "")]
    rows.append(
        (
            "users served with p95 ≤ 100 ms (sign-in excluded)",
            REFERENCE["users_p95_100ms"],
            users_within(results, 100),
            "",
            "",
        )
    )
    for stage in stages:
        mix = stage["mix"]
        share = 100 * mix["server_errors"] / mix["requests"] if mix["requests"] else 0
        rows.append(
            (
                f"mix at {stage['users']} users",
                REFERENCE["mix_150"] + " (at 150 users)" if stage is stages[0] else "",
                f"{mix['rps']} req/s, p95 {_ms(mix['p95_ms'])}, p99 {_ms(mix['p99_ms'])}, "
                f"{mix['failures']} failed ({share:.2f}% 5xx)",
                "",
                "",
            )
        )
    if top is not None:
        mix = top["mix"]
        rows.append(
            (
                f"p95 at {top['users']} users",
                "",
                _ms(mix["p95_ms"]),
                f"≤ {TARGET['p95_ms']} ms",
                _versus(mix["p95_ms"], TARGET["p95_ms"]),
            )
        )
        rows.append(
            (
                f"p99 at {top['users']} users",
                "",
                _ms(mix["p99_ms"]),
                f"≤ {TARGET['p99_ms']} ms",
                _versus(mix["p99_ms"], TARGET["p99_ms"]),
            )
        )
        rows.append(
            (
                f"failed requests at {top['users']} users",
                "",
                str(mix["failures"]),
                "0",
                "met" if mix["failures"] == 0 else "missed",
            )
        )
        sign = top["sign_in"]
        rows.append(
            (
                f"sign-in at {top['users']} users (during the ramp)",
                REFERENCE["sign_in"],
                f"{top['signed_in']} of {top['users']} signed in; p50 {_ms(sign['p50_ms'])}, "
                f"p95 {_ms(sign['p95_ms'])}, {sign['failures']} refused or failed",
                f"every user in, p95 ≤ {_ms(TARGET['sign_in_p95_ms'])}",
                _versus(sign["p95_ms"], TARGET["sign_in_p95_ms"])
                if top["all_signed_in"]
                else f"missed ({top['users'] - top['signed_in']} never in)",
            )
        )
    if "rps" in todo:
        rows.append(
            (
                "todo list (60 todos) via Nginx, wrk 50 conns",
                REFERENCE["todo_list_wrk"],
                f"{todo['rps']:.0f} req/s, p99 {_ms(todo['p99_ms'])}, {todo['failed']} errors",
                f"≥ {TARGET['todo_rps']} req/s, p99 ≤ {TARGET['todo_p99_ms']} ms",
                _versus(todo["rps"], TARGET["todo_rps"], higher_is_better=True)
                + " / "
                + _versus(todo["p99_ms"], TARGET["todo_p99_ms"]),
            )
        )
    if "rps" in health:
        rows.append(
            (
                "/health/ via Nginx, wrk 50 conns",
                REFERENCE["health_wrk"],
                f"{health['rps']:.0f} req/s, p99 {_ms(health['p99_ms'])}, {health['failed']} errors",
                f"≥ {TARGET['health_rps']} req/s",
                _versus(health["rps"], TARGET["health_rps"], higher_is_better=True),
            )
        )
    rows.extend(fanout_rows(results["fanout"]))
    return _table(rows)


def fanout_rows(fanout: dict) -> list[tuple[str, str, str, str, str]]:
    """Target 4: cursor moves to 200 sockets over two instances, and the memory of an idle socket."""
    title = "fan-out: 200 subscribers on one map over two instances, 20 cursor moves/s"
    if not fanout.get("available"):
        return [(title, REFERENCE["fanout"], "not available", "", "")]
    if "figures" not in fanout:
        return [(title, REFERENCE["fanout"], "failed: " + fanout.get("error", "?"), "", "")]
    figures = fanout["figures"]
    spread, idle = figures.get("fanout", {}), figures.get("idle", {})
    cursors, edits = spread.get("cursors", {}), spread.get("edits", {})
    rows = []
    if cursors:
        delivered = cursors["deliveries"] + cursors["missing"]
        share = 100 * cursors["deliveries"] / delivered if delivered else 0
        rows.append(
            (
                title,
                REFERENCE["fanout"],
                f"p50 {_ms(cursors['p50_ms'])}, p99 {_ms(cursors['p99_ms'])}; {cursors['deliveries']} of {delivered} "
                f"delivered ({share:.2f}%)",
                f"p99 ≤ {TARGET['cursor_p99_ms']} ms, 100% delivered",
                _versus(cursors["p99_ms"], TARGET["cursor_p99_ms"]) + ("" if cursors["missing"] == 0 else ", some missing"),
            )
        )
    if edits:
        rows.append(
            (
                "node moves through the API to the same sockets, 20/s",
                "",
                f"p50 {_ms(edits['p50_ms'])}, p99 {_ms(edits['p99_ms'])} (the PATCH alone: p50 "
                f"{_ms(edits.get('api_patch_p50_ms'))}); {edits['missing']} missing",
                "",
                "",
            )
        )
    if idle.get("kib_per_subscribed_socket") is not None:
        kb = idle["kib_per_subscribed_socket"] * 1.024
        rows.append(
            (
                f"{idle['sockets']} idle subscribed sockets on one instance",
                "",
                f"{kb:.1f} kB each ({idle.get('kib_per_connected_socket')} KiB connected, "
                f"{idle['kib_per_subscribed_socket']} KiB subscribed); RSS {idle.get('rss_subscribed_mib')} MiB",
                f"≤ {TARGET['idle_socket_kb']} kB each",
                _versus(kb, TARGET["idle_socket_kb"]),
            )
        )
    elif idle:
        rows.append(
            (
                f"{idle.get('sockets')} idle subscribed sockets on one instance",
                "",
                f"failed: {idle.get('subscribe_error') or idle.get('error', '?')}"[:160],
                f"≤ {TARGET['idle_socket_kb']} kB each",
                "not measured",
            )
        )
    return rows


def stages_table(results: dict) -> str:
    rows = [
        (
            "users",
            "req/s",
            "p50",
            "p95",
            "p99",
            "max",
            "failed",
            "5xx",
            "sign-in p50",
            "sign-in p95",
            "ramp",
            "Locust CPU",
            "Locust lag p99",
            "machine busy",
            "CPU of other work",
        )
    ]
    for stage in results["stages"]:
        if "mix" not in stage:
            rows.append((str(stage["users"]), "failed: " + stage.get("error", "")[:80], *[""] * 13))
            continue
        mix, sign, cpu = stage["mix"], stage["sign_in"], stage["cpu"]
        rows.append(
            (
                str(stage["users"]),
                str(mix["rps"]),
                _ms(mix["p50_ms"]),
                _ms(mix["p95_ms"]),
                _ms(mix["p99_ms"]),
                _ms(mix["max_ms"]),
                str(mix["failures"]),
                str(mix["server_errors"]),
                _ms(sign["p50_ms"]),
                _ms(sign["p95_ms"]),
                f"{stage['ramp_s']:.0f} s" + ("" if stage["all_signed_in"] else " (not all in)"),
                f"{cpu['processes_pct_of_one_core'].get('locust', 0):.0f}% of a core",
                _ms(stage.get("client_lag", {}).get("p99_ms")),
                f"{cpu['machine_busy_pct']}%",
                f"{others_pct(cpu):.0f}% of a core",
            )
        )
    return _table(rows)


TAIL_KEYS = ("p95_from_10s_ms", "p99_from_10s_ms")


def overload_text(results: dict) -> list[str]:
    """The overload stage (target 3) as a few lines of markdown."""
    stage = results.get("overload")
    if not stage:
        return []
    if "overload" not in stage:
        return ["", "## Overload", "", "failed: " + stage.get("error", "?")[:300]]
    over, rec, load = stage["overload"], stage["recovery"], stage.get("load_average", {})
    probe, seen = stage.get("probe", {}), stage.get("nginx", {})
    one = probe.get("overload", {})
    server_slow = seen.get("all", {}).get("over_2s")
    health_ok = set(over["health_statuses"]) <= {"200"} and set(seen.get("health_statuses", {})) <= {"200"}
    recovered = rec["recovered_after_s"]
    probe_recovered = probe.get("recovered_after_s")
    target_met = (
        server_slow == 0 and one.get("over_2s") == 0 and health_ok and probe_recovered is not None and probe_recovered <= 10
    )
    return [
        "",
        f"## Overload: {stage['users']} users, then {stage['recover_to']}",
        "",
        f"{stage['users']} users spawned at {stage['spawn_rate']:g}/s; {stage['seconds']:g} s measured once all were "
        f"started, then the users dropped to {stage['recover_to']}. Load average before/after: "
        f"{tuple(round(x, 2) for x in load.get('before', ()))} / {tuple(round(x, 2) for x in load.get('after', ()))}.",
        "",
        "Three views of the same minutes: the crowd (Locust, every simulated user), one user (`tools/bench/probe.py`, "
        "requests one at a time in its own process: sign in, todo list, my teams, /health/), and the server "
        "(Nginx's request time, below).",
        "",
        _table(
            [
                ("measure", "the crowd (Locust)", "one user (probe)", "target"),
                (
                    "requests",
                    f"{over['requests']} ({over['served_rps']} / {over['rps']} req/s answered / all)",
                    str(one.get("requests", "–")),
                    "",
                ),
                (
                    "refused with 503 + Retry-After",
                    f"{over['refused_503']}",
                    str(one.get("statuses", {}).get("503", 0)),
                    "fast",
                ),
                ("refusal p99 / max", f"{_ms(over['refused_p99_ms'])} / {_ms(over['refused_max_ms'])}", "", "fast"),
                (
                    "all requests p50 / p99 / max",
                    " / ".join(_ms(over[k]) for k in ("p50_ms", "p99_ms", "max_ms")),
                    " / ".join(_ms(one.get(k)) for k in ("p50_ms", "p99_ms", "max_ms")),
                    "",
                ),
                (
                    "requests over 2 s",
                    str(over["over_2s"])
                    + (
                        f" ({', '.join(f'{k} {v}' for k, v in over['over_2s_by_name'].items())})"
                        if over.get("over_2s_by_name")
                        else ""
                    ),
                    str(one.get("over_2s", "–")),
                    "0",
                ),
                (
                    "other failures",
                    str(over["other_failures"]),
                    str(sum(v for k, v in one.get("statuses", {}).items() if k not in ("200", "503"))),
                    "0",
                ),
                ("/health/ answers", ", ".join(f"{k}: {v}" for k, v in over["health_statuses"].items()), "", "200 only"),
                (
                    f"p99 < 200 ms again after the drop to {stage['recover_to']}",
                    "not within the window" if recovered is None else f"{recovered} s",
                    "–" if probe_recovered is None else f"{probe_recovered} s (every later read < 200 ms)",
                    "≤ 10 s",
                ),
                (
                    "mix p95 / p99 from 10 s after the drop",
                    " / ".join(_ms(rec[k]) for k in TAIL_KEYS),
                    f"sign-in after the drop: max {_ms(probe.get('sign_in_after_drop', {}).get('max_ms'))}",
                    "",
                ),
                ("client CPU", f"{stage['cpu']['processes_pct_of_one_core'].get('locust', 0):.0f}% of a core", "", ""),
                (
                    "the client's own lag p99 / max (its event loop waking late: in its every figure)",
                    f"{_ms(over.get('client_lag', {}).get('p99_ms'))} / {_ms(over.get('client_lag', {}).get('max_ms'))}",
                    "",
                    "",
                ),
            ]
        ),
        "",
        f"Target 3 (the server: no request over 2 s as Nginx saw it and as one user saw it, /health/ 200 only, one "
        f"user's reads under 200 ms within 10 s of the drop): {'met' if target_met else 'missed'} in this run. "
        f"The crowd's figures come from Locust (nice {stage.get('client_nice', 0)}) on the same two cores as the "
        "stack: past a few thousand users its own delays dominate what it measures.",
        "",
        "p99 of each second after the drop (the crowd): " + ", ".join(_ms(p) for p in rec["window_p99_ms"]),
        *nginx_text(seen),
    ]


def nginx_text(seen: dict | None) -> list[str]:
    """The same stage as Nginx saw it (request time from its first byte read to its last byte sent)."""
    if not seen or "all" not in seen:
        return []
    rows = [("requests", "count", "p50", "p99", "max", "over 2 s")]
    for label, key in (("all", "all"), ("refused 503", "refused_503"), ("answered 2xx", "answered_2xx")):
        part = seen[key]
        rows.append(
            (
                label,
                str(part.get("requests", 0)),
                _ms(part.get("p50_ms")),
                _ms(part.get("p99_ms")),
                _ms(part.get("max_ms")),
                str(part.get("over_2s", "–")),
            )
        )
    return [
        "",
        "As Nginx saw the whole stage (ramp, overload and recovery; its request time, without the load "
        "generator's own delays): "
        + ", ".join(f"{k}: {v}" for k, v in seen["statuses"].items())
        + "; `/health/` "
        + ", ".join(f"{k}: {v}" for k, v in seen["health_statuses"].items())
        + ".",
        "",
        _table(rows),
    ]


def others_pct(cpu: dict) -> float:
    """CPU the machine spent outside the stack and Locust (other people's work), in % of one core."""
    if cpu.get("machine_busy_pct") is None:
        return 0.0
    return max(0.0, cpu["machine_busy_pct"] * cpu["cores"] - sum(cpu["processes_pct_of_one_core"].values()))


def by_name_table(stage: dict) -> str:
    rows = [("request", "count", "req/s", "p50", "p95", "p99", "failed", "5xx")]
    for name, fig in stage["by_name"].items():
        rows.append(
            (
                name,
                str(fig["requests"]),
                str(fig["rps"]),
                _ms(fig["p50_ms"]),
                _ms(fig["p95_ms"]),
                _ms(fig["p99_ms"]),
                str(fig["failures"]),
                str(fig["server_errors"]),
            )
        )
    return _table(rows)


def cpu_table(results: dict) -> str:
    names: list[str] = []
    columns = []
    for stage in _ok_stages(results):
        if "ramp_cpu" in stage:
            columns.append((f"{stage['users']} ramp", stage["ramp_cpu"]["processes_pct_of_one_core"]))
        columns.append((f"{stage['users']} users", stage["cpu"]["processes_pct_of_one_core"]))
    for label, run in results["wrk"].items():
        if "cpu_pct_of_one_core" in run:
            columns.append((f"wrk {label.replace('_', ' ')}", run["cpu_pct_of_one_core"]))
    for _, shares in columns:
        names += [n for n in shares if n not in names]
    rows = [("process (% of one core)", *[label for label, _ in columns])]
    for name in names:
        rows.append((name, *[f"{shares.get(name, 0):.0f}" if name in shares else "–" for _, shares in columns]))
    return _table(rows)


def _table(rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def summary_table(results: dict) -> str:
    return "\n" + comparison_table(results) + "\n\n" + stages_table(results) + "\n"


def markdown(results: dict, chart: str | None) -> str:
    m = results["machine"]
    stages = _ok_stages(results)
    top = max(stages, key=lambda s: s["users"]) if stages else None
    parts = [
        f"# Load benchmark, {results['date']}",
        "",
        f"Command: `{results['command']}` at revision {results['revision']}; {results['duration_s']} s in all. "
        "Every figure below comes from this run (`" + results["date"][:10] + ".json` holds them all); the "
        "reference's are the issue's figures for the Django TeamMoa on the same kind of machine.",
        "",
        "## Machine",
        "",
        f"- {m['nproc']} cores: {m['cpu_model']}; {m['ram_gib']} GiB RAM; kernel {m['kernel']}; Python {m['python']}",
        f"- {m['nginx']}; {m['mariadb']}; {m['wrk']}",
        f"- load average at start {tuple(round(x, 2) for x in m['load_average_at_start'])}, at end "
        f"{tuple(round(x, 2) for x in m['load_average_at_end'])}",
        f"- the local stack (`tools/stack`, production mode, MariaDB through "
        f"`{results['stack']['database_url'].split('://')[0]}`, Redis, Nginx): "
        + ", ".join(results["stack"]["processes"])
        + "; Locust and wrk on the same two cores",
        "",
        "## Against the reference and the targets",
        "",
        comparison_table(results),
        "",
        "## The mix at each user count",
        "",
        f"Each user signs in once, then every 2–5 s: home page 25, my teams 20, one team 15, todo list 15, board "
        f"page 10, team availability 10, /health/ 5. Spawn {results['settings']['spawn_rate']:g}/s; the figures "
        f"are {results['settings']['seconds']:g} s measured after every user had signed in (sign-in excluded, "
        "reported from the ramp). Percentiles are exact (nearest rank) over every request.",
        "",
        stages_table(results),
    ]
    if top is not None:
        parts += ["", f"### By request at {top['users']} users", "", by_name_table(top)]
        if top.get("errors"):
            parts += ["", "Errors:", ""] + [f"- {count} × {text}" for text, count in top["errors"].items()]
    if results.get("cpu_per_request"):
        parts += [
            "",
            "## CPU per request (tools/bench/stack_cpu.py)",
            "",
            "Each read endpoint of the mix alone under wrk through Nginx, before the Locust stages. CPU is the "
            "utime + stime of the stack's own processes over the requests served (MariaDB and Redis apart: "
            "other users of the machine share them); the floor is a trivial Starlette endpoint behind the same "
            "Nginx and uvicorn settings, measured in the same run.",
            "",
            stack_cpu.table(results["cpu_per_request"]),
        ]
    parts += [
        "",
        "## CPU by process",
        "",
        "Share of one core over each ramp (sign-ins) and each measured window (a process's children "
        'included: nginx\'s workers); two cores make 200. "CPU of other work" above is what the machine '
        "spent outside the benchmark meanwhile (other people's jobs on a shared machine).",
        "",
        cpu_table(results),
    ]
    parts += overload_text(results)
    over_wrk = results["wrk"].get("todo_list_overload")
    if over_wrk and "rps" in over_wrk:
        parts += [
            "",
            f"wrk on the todo list with {over_wrk['connections']} connections (4x): {over_wrk['rps']} req/s of which "
            f"{over_wrk['errors'].get('status', 0)} answered non-2xx (503 refusals); p50 {_ms(over_wrk['p50_ms'])}, "
            f"p99 {_ms(over_wrk['p99_ms'])}, max {_ms(over_wrk['max_ms'])}; {over_wrk['errors'].get('timeout', 0)} "
            "over wrk's 30 s timeout.",
        ]
    if results["fanout"].get("available") and "figures" in results["fanout"]:
        parts += ["", "## Realtime fan-out", "", "```json", json.dumps(results["fanout"]["figures"], indent=2), "```"]
    if chart:
        parts += ["", "## Chart", "", f"![users to req/s and latency]({chart})"]
    return "\n".join(parts) + "\n"


def write(results: dict, folder: Path) -> list[Path]:
    """Write ``<date>.json``, ``<date>.png`` (when matplotlib is there) and ``<date>.md``."""
    stem = results["date"][:10]
    data = folder / f"{stem}.json"
    data.write_text(json.dumps(results, indent=2))
    png = folder / f"{stem}.png"
    drawn = (
        subprocess.run(
            [str(LOAD_PYTHON), "-m", "tools.bench.chart", str(data), str(png)], cwd=ROOT, capture_output=True, text=True
        ).returncode
        == 0
    )
    page = folder / f"{stem}.md"
    page.write_text(markdown(results, png.name if drawn else None))
    return [page, data, *([png] if drawn else [])]
