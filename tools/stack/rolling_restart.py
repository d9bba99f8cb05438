"""Restart every instance of the running local stack, one at a time behind Nginx, without a failed request.

    python -m tools.stack.rolling_restart [GROUP ...]     GROUP: auth teams schedule realtime health
                                                     (default: all of them, in that order)

It works on the stack the last ``python -m tools.stack up`` recorded in the data directory (TEAMMOA_DATA_DIR,
default var/stack) and keeps that record current, so ``python -m tools.stack status`` and ``down`` know every
process it starts. How an instance leaves and comes back:

- **Two instances** (teams, realtime): the instance is taken out of its upstream group — the gateway
  config is rendered again without it, checked with ``nginx -t`` and loaded with ``HUP``. Nginx's new
  workers never send it another request; the old workers finish what they hold. After ``DRAIN_S`` it
  gets SIGTERM: uvicorn finishes its in-flight requests and closes its WebSockets with 1012 (clients
  reconnect, to the other instance, and resume from their last version). It starts again on the same
  port and goes back into the group once its own ``/health`` answers 200.
- **One instance** (auth, schedule, the health aggregator): blue/green. The replacement starts first,
  on the process's other port (its home port or its spare one), and only when the replacement's
  ``/health`` answers 200 does the upstream switch to it; then the old instance drains and stops.

A reload also ends the WebSockets that older nginx workers still carry, after ``worker_shutdown_timeout``
(10 s): their clients reconnect and resume like the others. If a replacement does not become healthy,
the group keeps serving (from the old instance, or from its other one), the replacement's log is
printed, and the script stops with status 1. Two restarts never run at once (a lock in the data dir).
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time

from tools.common import listening

from .config import (
    STARTUP_TIMEOUT_S,
    STOP_TIMEOUT_S,
    SWAPPED,
    UPSTREAMS,
    Config,
    nginx_env,
    process_command,
    service_env,
    upstream_of,
)
from .gateway import render_gateway
from .health import instance_health, print_log_tails
from .processes import children, is_ours, send_signal, stop
from .state import load_state, save_state, start, upstreams_of

DRAIN_S = 1.0  # after a reload, for the old workers' in-flight requests to the leaving instance
RELOAD_TIMEOUT_S = 15


class RestartError(RuntimeError):
    """An instance could not be replaced; the group still serves from what runs."""


class RollingRestart:
    """The stack's recorded processes and what the gateway sends requests to, changed one step at a time."""

    def __init__(self, config: Config, environ: dict[str, str], state: dict) -> None:
        self.config, self.state = config, state
        self.env = service_env(config, environ)
        self.nginx = next(entry for entry in state["processes"] if entry["name"] == "nginx")
        self.workers = int(nginx_env(config)["TEAMMOA_NGINX_WORKERS"])
        self.upstreams = upstreams_of(state["processes"])
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def reload(self) -> None:
        """Load the gateway config for the current upstreams; return once nginx's new workers run."""
        render_gateway(self.config, {group: sorted(ports) for group, ports in self.upstreams.items()})
        before = children(self.nginx["pid"])
        if not send_signal(self.nginx, signal.SIGHUP):
            raise RestartError("nginx is not running")
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        while len(children(self.nginx["pid"]) - before) < self.workers:
            if time.monotonic() > deadline:
                raise RestartError(
                    f"nginx did not load its new configuration within {RELOAD_TIMEOUT_S}s "
                    f"(see {self.config.data_dir / 'logs' / 'nginx-error.log'})"
                )
            time.sleep(0.05)

    def launch(self, name: str, port: int) -> dict:
        """Start a process of the stack on a port and wait until it is ready to serve.

        A service is ready when its own /health answers 200. The health aggregator when it listens
        (as its image's HEALTHCHECK has it): asking its /health would make it open keep-alive
        connections to the gateway's current workers, which the reload that switches to it closes
        under its first probes.
        """
        entry = start(self.config, name, process_command(name, port), self.env, port=port)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (listening(port) if name == "health" else instance_health(port) == 200):
            if not is_ours(entry) or time.monotonic() > deadline:
                print_log_tails([entry])
                stop([entry], timeout_s=STOP_TIMEOUT_S)
                raise RestartError(f"{name} on port {port} did not become healthy")
            time.sleep(0.1)
        return entry

    def retire(self, entry: dict) -> None:
        """Stop an instance nginx no longer sends requests to, once in-flight ones had time to finish."""
        time.sleep(DRAIN_S)
        for stubborn in stop([entry], timeout_s=STOP_TIMEOUT_S):
            self.say(f"{stubborn['name']} did not stop within {STOP_TIMEOUT_S}s: killed")

    def in_place(self, index: int) -> None:
        """Take one of two instances out, restart it on its port, put it back."""
        old = self.state["processes"][index]
        name, port, group = old["name"], old["port"], upstream_of(old["name"])
        self.upstreams[group].remove(port)
        self.reload()
        self.say(f"{name}: out of the {group} upstream; draining, then SIGTERM")
        self.retire(old)
        new = self.launch(name, port)  # on failure it stays out: the group serves from its other instance
        self.state["processes"][index] = new
        save_state(self.config, self.state["processes"])
        self.upstreams[group].append(port)
        self.reload()
        self.say(f"{name}: restarted (pid {new['pid']}), healthy, back in the {group} upstream")

    def blue_green(self, index: int) -> None:
        """Start a single instance's replacement on its other port, switch to it, then stop the old one."""
        old = self.state["processes"][index]
        name, group = old["name"], upstream_of(old["name"])
        ports = self.config.ports()
        port = ports[f"{name}-spare"] if old["port"] == ports[name] else ports[name]
        new = self.launch(name, port)
        self.state["processes"].insert(index + 1, new)  # both recorded: `down` stops both if we stop here
        save_state(self.config, self.state["processes"])
        self.upstreams[group] = [port]
        self.reload()
        self.say(
            f"{name}: replacement on port {port} (pid {new['pid']}) healthy and serving; "
            f"draining the old one on port {old['port']}"
        )
        self.retire(old)
        self.state["processes"].pop(index)
        save_state(self.config, self.state["processes"])
        self.say(f"{name}: old instance stopped")

    def run(self, groups: list[str]) -> int:
        """Restart the instances of each group in turn; the number restarted."""
        restarted = 0
        for group in groups:
            names = [e["name"] for e in self.state["processes"] if e["name"] != "nginx" and upstream_of(e["name"]) == group]
            for name in names:
                index = next(i for i, e in enumerate(self.state["processes"]) if e["name"] == name)
                (self.blue_green if name in SWAPPED else self.in_place)(index)
                restarted += 1
        return restarted


def main(argv: list[str]) -> int:
    groups = argv or list(UPSTREAMS)
    if unknown := [group for group in groups if group not in UPSTREAMS]:
        print(__doc__)
        print(f"unknown: {', '.join(unknown)}")
        return 2
    environ = dict(os.environ)
    config = Config.from_env(environ)
    state = load_state(config)
    if state is None:
        print(f"no stack recorded in {config.data_dir}: start it with `python -m tools.stack up`")
        return 1
    if stopped := [e["name"] for e in state["processes"] if not is_ours(e)]:
        print(f"not every process runs ({', '.join(stopped)}): see `python -m tools.stack status`")
        return 1
    with (config.data_dir / "rolling-restart.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("a rolling restart of this stack is already running")
            return 1
        restart = RollingRestart(config, environ, state)
        try:
            count = restart.run(groups)
        except RestartError as exc:
            restart.say(f"stopped: {exc}")
            return 1
    restart.say(f"restarted {count} processes one at a time: {', '.join(groups)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
