"""Prometheus and the exporters beside the local stack (tools/stack), from Debian's packages.

    python -m tools.monitor up      start them for the running stack (ports after the stack's own)
        [--interval 1s]              scrape and evaluate this often (15s)
        [--alert-for NAME=3s ...]    a shorter ``for:`` on an alert (drills and the end-to-end test)
    python -m tools.monitor down    stop them
    python -m tools.monitor status  every target's health as Prometheus sees it

``TEAMMOA_STACK_MONITORING=true`` makes ``python -m tools.stack up`` start them too, and ``down`` always stops
them. Needs ``apt-get install -y prometheus prometheus-mysqld-exporter prometheus-redis-exporter
prometheus-nginx-exporter`` (an exporter that is not installed is left out, with a warning).
Prometheus gets the rules of deploy/monitoring/rules, a config rendered for the stack's ports
(``<data dir>/monitoring/prometheus.yml``) and its own data directory; the processes are recorded
in ``<data dir>/monitoring.json``. Its UI: http://127.0.0.1:<prometheus port>/ (``status`` prints it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from tools.common import ROOT
from tools.stack.processes import is_ours, spawn, stop

RULES = ROOT / "deploy" / "monitoring" / "rules"
HOST = "127.0.0.1"
SERVICES = ("auth", "teams", "schedule", "realtime")
EXPORTERS = {  # job -> Debian's binary
    "mysqld": "prometheus-mysqld-exporter",
    "redis": "prometheus-redis-exporter",
    "nginx": "prometheus-nginx-exporter",
}
START_TIMEOUT_S = 30


def state_file(data_dir: Path) -> Path:
    return data_dir / "monitoring.json"


def scrape_config(
    ports: dict[str, int], jobs: list[str], *, scrape_interval: str = "15s", evaluation_interval: str = "15s"
) -> dict[str, Any]:
    """The Prometheus config for the stack's processes (``ports``: stack.json's) and exporters."""
    configs: list[dict[str, Any]] = []
    for service in SERVICES:
        names = sorted(name for name in ports if name.startswith(service + "-") and name.rsplit("-", 1)[1].isdigit())
        targets = [{"targets": [f"{HOST}:{ports[name]}"], "labels": {"process": name}} for name in names]
        configs.append({"job_name": service, "static_configs": targets})
    for job in jobs:
        configs.append({"job_name": job, "static_configs": [{"targets": [f"{HOST}:{ports[job + '-exporter']}"]}]})
    configs.append({"job_name": "prometheus", "static_configs": [{"targets": [f"{HOST}:{ports['prometheus']}"]}]})
    return {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": "1s" if scrape_interval.endswith("s") and int(scrape_interval[:-1]) <= 2 else "10s",
            "evaluation_interval": evaluation_interval,
            "external_labels": {"deployment": "local-stack"},
        },
        "rule_files": ["rules/*.yml"],
        "scrape_configs": configs,
    }


def write_rules(folder: Path, for_overrides: dict[str, str] | None = None) -> None:
    """Copy the shipped rules, optionally with a shorter ``for:`` on some alerts (the e2e test)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in RULES.glob("*.yml"):
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                if for_overrides and rule.get("alert") in for_overrides:
                    rule["for"] = for_overrides[rule["alert"]]
        (folder / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))


def mysqld_dsn(mysql_url: str) -> str:
    """The Go MySQL driver's data source name (mysqld_exporter 0.14 needs a password in a .my.cnf;
    DATA_SOURCE_NAME also takes none)."""
    parts = urlsplit(mysql_url)
    password = unquote(parts.password or "")
    return f"{unquote(parts.username or 'root')}:{password}@tcp({parts.hostname or HOST}:{parts.port or 3306})/"


def exporter_command(job: str, binary: str, ports: dict[str, int], redis_url: str) -> list[str]:
    listen = f"{HOST}:{ports[job + '-exporter']}"
    if job == "mysqld":  # the credentials come in DATA_SOURCE_NAME (exporter_env), not on the command line
        return [binary, f"--web.listen-address={listen}"]
    if job == "redis":
        return [binary, f"-redis.addr={redis_url}", f"-web.listen-address={listen}"]
    return [binary, f"-nginx.scrape-uri=http://{HOST}:{ports['nginx-status']}/stub_status", f"-web.listen-address={listen}"]


def up(
    data_dir: Path,
    mysql_url: str,
    redis_url: str,
    *,
    scrape_interval: str = "15s",
    evaluation_interval: str = "15s",
    for_overrides: dict[str, str] | None = None,
) -> int:
    """Start the exporters and Prometheus for the stack recorded in ``data_dir``; wait until Prometheus is ready."""
    state = json.loads((data_dir / "stack.json").read_text())
    ports: dict[str, int] = state["ports"]
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("prometheus is not installed: apt-get install -y prometheus (monitoring not started)")
        return 1
    folder = data_dir / "monitoring"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    write_rules(folder / "rules", for_overrides)
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEAMMOA_")}
    entries, jobs = [], []
    for job, name in EXPORTERS.items():
        binary = shutil.which(name)
        if binary is None:
            print(f"{name} is not installed: the {job} job is left out (apt-get install -y {name})")
            continue
        jobs.append(job)
        command = exporter_command(job, binary, ports, redis_url)
        job_env = {**env, "DATA_SOURCE_NAME": mysqld_dsn(mysql_url)} if job == "mysqld" else env
        log = data_dir / "logs" / f"{job}-exporter.log"
        entries.append({"name": f"{job}-exporter", **spawn(command, cwd=ROOT, env=job_env, log=log)})
    config = scrape_config(ports, jobs, scrape_interval=scrape_interval, evaluation_interval=evaluation_interval)
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    command = [
        prometheus,
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address={HOST}:{ports['prometheus']}",
        "--storage.tsdb.retention.time=2d",
        "--web.enable-lifecycle",
    ]
    entries.append({"name": "prometheus", **spawn(command, cwd=ROOT, env=env, log=data_dir / "logs" / "prometheus.log")})
    state_file(data_dir).write_text(json.dumps({"url": f"http://{HOST}:{ports['prometheus']}", "processes": entries}))
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready(f"http://{HOST}:{ports['prometheus']}"):
        if time.monotonic() > deadline or not all(is_ours(entry) for entry in entries):
            print("monitoring did not start; see " + ", ".join(entry["log"] for entry in entries))
            down(data_dir)
            return 1
        time.sleep(0.2)
    print(f"Prometheus: http://{HOST}:{ports['prometheus']}/ (jobs: {', '.join([*SERVICES, *jobs])})")
    return 0


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.HTTPError):
        return False


def down(data_dir: Path) -> int:
    """Stop what ``up`` started (nothing when it did not run)."""
    path = state_file(data_dir)
    if not path.exists():
        return 0
    processes = json.loads(path.read_text())["processes"]
    stop(processes, timeout_s=10)
    path.unlink(missing_ok=True)
    print(f"stopped {len(processes)} monitoring processes")
    return 0


def status(data_dir: Path) -> int:
    path = state_file(data_dir)
    if not path.exists():
        print("monitoring is not running")
        return 1
    state = json.loads(path.read_text())
    for entry in state["processes"]:
        print(f"  {entry['name']:<16} pid {entry['pid']:<7} {'running' if is_ours(entry) else 'STOPPED'}")
    try:
        with urllib.request.urlopen(state["url"] + "/api/v1/targets", timeout=5) as response:
            targets = json.loads(response.read())["data"]["activeTargets"]
    except OSError as exc:
        print(f"Prometheus does not answer at {state['url']}: {exc}")
        return 1
    for target in sorted(targets, key=lambda t: (t["labels"]["job"], t["scrapeUrl"])):
        print(f"  {target['labels']['job']:<10} {target['scrapeUrl']:<40} {target['health']}")
    print(f"Prometheus: {state['url']}/")
    return 0 if all(target["health"] == "up" for target in targets) else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.monitor", usage=__doc__)
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--interval", default="15s")
    parser.add_argument("--alert-for", action="append", default=[], metavar="NAME=DURATION")
    options = parser.parse_args(argv)
    environ = dict(os.environ)
    data_dir = (ROOT / environ.get("TEAMMOA_DATA_DIR", "var/stack")).resolve()
    if options.command == "up":
        if not (data_dir / "stack.json").exists():
            print(f"no stack recorded in {data_dir}: start it first (make stack)")
            return 1
        return up(
            data_dir,
            environ.get("TEAMMOA_STACK_DATABASE_URL", "mysql://root@127.0.0.1:3306"),
            environ.get("TEAMMOA_STACK_REDIS_URL", "redis://127.0.0.1:6379/0"),
            scrape_interval=options.interval,
            evaluation_interval=options.interval,
            for_overrides=dict(item.split("=", 1) for item in options.alert_for),
        )
    return down(data_dir) if options.command == "down" else status(data_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
