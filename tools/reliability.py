"""Run the reliability and security suite (tests/reliability) and print its report as a table.

    python -m tools.reliability       full durations and case counts (TEAMMOA_RELIABILITY_FULL=1)
    python -m tools.reliability --ci    the bounded subset CI runs (about 4 minutes)
    python -m tools.reliability -- -k soak extra arguments after -- go to pytest

The suite starts its own stack on a private MariaDB and Redis (never the machine's shared ones), so
nothing needs to run beforehand; it needs nginx, mariadbd, redis-server and Chromium installed. Each
fault test prints one ``RELIABILITY {json}`` line; this script collects them into the table of
docs/reliability.md. The exit status is pytest's.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

from tools.common import ROOT

SOCKETS_NEEDED = 8192  # the 1,000-socket storm holds two descriptors per socket, plus the stack's own


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < SOCKETS_NEEDED:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(SOCKETS_NEEDED, hard), hard))


def table(lines: list[dict]) -> str:
    rows = ["| fault | requests | failed | acknowledged writes lost | recovery (s) | notes |", "|---|---|---|---|---|---|"]
    for line in lines:
        rows.append(
            f"| {line.get('fault')} | {line.get('requests', line.get('sockets', ''))} | {line.get('failed', '')} "
            f"| {line.get('lost_acknowledged_writes', '')} | {line.get('recovery_s', '')} "
            f"| {line.get('notes', '')} |"
        )
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    ci = "--ci" in argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    env = dict(os.environ)
    env.pop("TEAMMOA_RELIABILITY_FULL", None)
    if not ci:
        env["TEAMMOA_RELIABILITY_FULL"] = "1"
    raise_open_files_limit()
    command = [sys.executable, "-m", "pytest", "tests/reliability", "tests/browser/test_xss_browser.py", "-s", "-q", *extra]
    print("running: " + ("CI subset" if ci else "full mode") + ": " + " ".join(command), flush=True)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    reports, other = [], []
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        if line.startswith("RELIABILITY {"):
            reports.append(json.loads(line.removeprefix("RELIABILITY ")))
        elif line.startswith("RELIABILITY "):
            other.append(line.removeprefix("RELIABILITY ").strip())
    code = process.wait()
    print("\n" + table(reports))
    for line in other:
        print(f"- {line}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
