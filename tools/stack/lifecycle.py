"""The stack's commands: migrate, up, down, status, and stopping or starting one service's instances."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

from tools import monitor
from tools.common import HOST, ROOT, listening

from .config import STARTUP_TIMEOUT_S, STOP_TIMEOUT_S, WITH_DATABASE, Config, commands, process_command, service_env
from .gateway import ensure_nginx, render_gateway
from .health import fetch_health, instance_health, print_health, print_log_tails, wait_until
from .processes import is_ours, stop
from .state import load_state, processes_of, save_state, start


def check_reachable(url: str, what: str) -> None:
    """Fail early, clearly, when MariaDB or Redis is not there."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except OSError as exc:
        sys.exit(f"{what} is not reachable at {parts.hostname}:{parts.port} ({exc}); start it first")


def check_ports_free(config: Config) -> None:
    """Refuse to start over another process's port."""
    for name, port in config.ports().items():
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                sys.exit(f"port {port} ({name}) is in use: set TEAMMOA_GATEWAY_PORT / TEAMMOA_STACK_BASE_PORT")


def migrate(config: Config, environ: dict[str, str]) -> None:
    """Create the stack's databases and apply every service's migrations (a step of its own)."""
    check_reachable(config.mysql_url, "MariaDB")
    print("migrating: " + ", ".join(f"{config.db_prefix}{svc}" for svc in WITH_DATABASE), flush=True)
    code = subprocess.call(
        [sys.executable, "-m", "services.kit.migrate", *WITH_DATABASE], cwd=ROOT, env=service_env(config, environ)
    )
    if code != 0:
        sys.exit(f"migration failed (exit {code})")


def up(config: Config, environ: dict[str, str]) -> int:
    """Migrate, start every process, and wait until the whole is healthy (stop it all otherwise)."""
    state = load_state(config)
    if state and any(is_ours(e) for e in state["processes"]):
        print(f"the stack is already running at {state['url']}/ (stop it with `python -m tools.stack down`)")
        return 1
    ensure_nginx()
    check_reachable(config.redis_url, "Redis")
    check_ports_free(config)
    (config.data_dir / "logs").mkdir(parents=True, exist_ok=True)
    (config.data_dir / "files").mkdir(parents=True, exist_ok=True)
    migrate(config, environ)
    render_gateway(config)
    env = service_env(config, environ)
    entries: list[dict] = []
    problem = ""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    for name, command in commands(config).items():
        if name == "nginx":  # its upstreams first: an instance refusing connections is skipped for a while
            problem = wait_until(lambda: all(listening(e["port"]) for e in entries), entries, deadline)
            if problem:
                break
        entries.append(start(config, name, command, env))
        save_state(config, entries)  # recorded at once: `down` can stop a half-started stack
    problem = problem or wait_until(lambda: fetch_health(config.url)[0] == 200, entries, deadline)
    if problem:
        print(f"the stack did not start: {problem}", flush=True)
        print_health(config.url)
        print_log_tails(entries)
        stop(entries, timeout_s=STOP_TIMEOUT_S)
        config.state_file.unlink(missing_ok=True)
        return 1
    print(f"TeamMoa stack is up: {config.url}/")
    print_health(config.url)
    if environ.get("TEAMMOA_STACK_MONITORING", "").lower() in ("1", "true", "yes", "on"):
        monitor.up(config.data_dir, config.mysql_url, config.redis_url)
    print(
        f"  logs in {config.data_dir / 'logs'}; mail outbox in {config.data_dir / 'mail'}; "
        "stop with `python -m tools.stack down`"
    )
    return 0


def down(config: Config) -> int:
    """Stop the processes the last ``up`` recorded (and the monitoring beside them, tools/monitor.py)."""
    monitor.down(config.data_dir)
    state = load_state(config)
    if state is None:
        print(f"no stack recorded in {config.data_dir}")
        return 0
    for entry in stop(state["processes"], timeout_s=STOP_TIMEOUT_S):
        print(f"{entry['name']} did not stop within {STOP_TIMEOUT_S}s: killed its process group")
    config.state_file.unlink(missing_ok=True)
    print(f"stopped {len(state['processes'])} processes of the stack at {state['url']}/")
    return 0


def status(config: Config) -> int:
    """Print which recorded processes run and each part's health."""
    state = load_state(config)
    if state is None:
        print(f"no stack recorded in {config.data_dir}")
        return 1
    running = 0
    for entry in state["processes"]:
        alive = is_ours(entry)
        running += alive
        print(f"  {entry['name']:<11} pid {entry['pid']:<7} port {entry['port']:<6} {'running' if alive else 'STOPPED'}")
    print(f"{running}/{len(state['processes'])} processes running; health of {state['url']}/health/:")
    return 0 if print_health(state["url"]) and running == len(state["processes"]) else 1


def stop_group(config: Config, group: str) -> int:
    """Stop every instance of one service; they stay recorded, so ``start`` and ``down`` know them."""
    state = load_state(config)
    if state is None:
        print(f"no stack recorded in {config.data_dir}")
        return 1
    entries = processes_of(state, group)
    for entry in stop(entries, timeout_s=STOP_TIMEOUT_S):
        print(f"{entry['name']} did not stop within {STOP_TIMEOUT_S}s: killed its process group")
    print(f"stopped {', '.join(e['name'] for e in entries)}")
    return 0


def start_group(config: Config, environ: dict[str, str], group: str) -> int:
    """Start the stopped instances of one service on their recorded ports; wait until they are healthy."""
    state = load_state(config)
    if state is None:
        print(f"no stack recorded in {config.data_dir}")
        return 1
    env = service_env(config, environ)
    started = []
    for index, entry in enumerate(state["processes"]):
        if entry in processes_of(state, group) and not is_ours(entry):
            command = process_command(entry["name"], entry["port"])
            state["processes"][index] = start(config, entry["name"], command, env, port=entry["port"])
            started.append(state["processes"][index])
    save_state(config, state["processes"])
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    problem = wait_until(lambda: all(instance_health(e["port"]) == 200 for e in started), started, deadline)
    if problem:
        print(f"{group} did not start: {problem}")
        print_log_tails(started)
        return 1
    print(f"started {', '.join(e['name'] for e in started) or 'nothing (every instance runs)'}")
    return 0
