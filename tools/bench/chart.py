"""Draw a benchmark's chart: users → req/s (left axis) and p95/p99 latency (right axis, log scale).

.venv-load/bin/python -m tools.bench.chart tools/bench/results/<date>.json tools/bench/results/<date>.png
"""

from __future__ import annotations

import json
import sys

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt

P95_TARGET_MS, P99_TARGET_MS = 50, 200


def main(argv: list[str]) -> int:
    source, target = argv
    with open(source) as handle:
        results = json.load(handle)
    stages = [s for s in results["stages"] if "mix" in s]
    if not stages:
        return 1
    users = [s["users"] for s in stages]
    fig, left = plt.subplots(figsize=(8, 4.5), dpi=110)
    left.plot(users, [s["mix"]["rps"] for s in stages], "o-", color="tab:blue", label="req/s (mix, sign-in excluded)")
    left.set_xlabel("concurrent users")
    left.set_ylabel("requests per second", color="tab:blue")
    left.set_ylim(bottom=0)
    right = left.twinx()
    right.plot(users, [s["mix"]["p95_ms"] for s in stages], "s-", color="tab:orange", label="p95")
    right.plot(users, [s["mix"]["p99_ms"] for s in stages], "^-", color="tab:red", label="p99")
    right.axhline(P95_TARGET_MS, color="tab:orange", linestyle=":", linewidth=1, label=f"p95 target {P95_TARGET_MS} ms")
    right.axhline(P99_TARGET_MS, color="tab:red", linestyle=":", linewidth=1, label=f"p99 target {P99_TARGET_MS} ms")
    right.set_yscale("log")
    right.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _pos: f"{value:g}"))
    right.set_ylabel("latency, ms (log)")
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    labels = left.get_legend_handles_labels()[1] + right.get_legend_handles_labels()[1]
    left.legend(handles, labels, loc="upper left", fontsize=8)
    left.set_title(f"TeamMoa load mix, {results['date'][:16]} ({results['machine']['nproc']} cores, Locust on the same)")
    fig.tight_layout()
    fig.savefig(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
