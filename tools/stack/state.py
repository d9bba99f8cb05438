"""What the running stack is: its processes, recorded in ``<data dir>/stack.json`` as they start."""

from __future__ import annotations

import json

from tools.common import ROOT

from .config import UPSTREAMS, Config, upstream_of
from .processes import spawn


def start(config: Config, name: str, command: list[str], env: dict[str, str], port: int | None = None) -> dict:
    """Start one process of the stack, its output in logs/<name>.log."""
    log = config.data_dir / "logs" / f"{name}.log"
    stop_signal = "SIGQUIT" if name == "nginx" else "SIGTERM"  # nginx: finish open requests first
    return {
        "name": name,
        **spawn(command, cwd=ROOT, env=env, log=log, stop_signal=stop_signal),
        "port": config.ports()[name] if port is None else port,
    }


def load_state(config: Config) -> dict | None:
    """What the last ``up`` recorded (None when nothing is)."""
    try:
        return json.loads(config.state_file.read_text())
    except (OSError, ValueError):
        return None


def save_state(config: Config, processes: list[dict]) -> None:
    """Record the processes and where each listens now (a rolling restart moves single instances)."""
    ports = {name: port for name, port in config.ports().items() if not name.endswith("-spare")}
    ports.update({entry["name"]: entry["port"] for entry in processes})
    state = {"url": config.url, "data_dir": str(config.data_dir), "ports": ports, "processes": processes}
    temporary = config.state_file.with_suffix(".json.new")
    temporary.write_text(json.dumps(state, indent=2))
    temporary.replace(config.state_file)  # atomic: `down` never reads half a file


def upstreams_of(processes: list[dict]) -> dict[str, list[int]]:
    """The ports of each upstream group, from the recorded processes."""
    groups: dict[str, list[int]] = {group: [] for group in UPSTREAMS}
    for entry in processes:
        if entry["name"] != "nginx":
            groups[upstream_of(entry["name"])].append(entry["port"])
    return groups


def processes_of(state: dict, group: str) -> list[dict]:
    """The recorded processes of one upstream group (a service, or the health aggregator)."""
    return [e for e in state["processes"] if e["name"] != "nginx" and upstream_of(e["name"]) == group]
