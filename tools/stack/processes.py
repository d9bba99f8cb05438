"""Processes the local stack starts and stops: each in its own process group, recorded by pid and
kernel start time, so ``stop`` signals exactly what was started (never by name) and a pid the
kernel has since given to another process is left alone.

An entry is a dict ``{"pid", "started", "log", "stop_signal", ...}`` that the caller keeps (stack.json).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def start_time(pid: int) -> str | None:
    """The kernel's start time of a running process (None when gone or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    return None if fields[0] in ("Z", "X") else fields[19]


def is_ours(entry: dict) -> bool:
    """The recorded process still runs (and is not another one that reused its pid)."""
    return start_time(entry["pid"]) == entry["started"]


def spawn(command: list[str], *, cwd: Path, env: dict[str, str], log: Path, stop_signal: str = "SIGTERM") -> dict:
    """Start a command as the leader of a new process group, its output appended to ``log``."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return {"pid": process.pid, "started": start_time(process.pid), "log": str(log), "stop_signal": stop_signal}


def children(pid: int) -> set[int]:
    """The running child processes of a process (nginx's workers, for a reload)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited while we looked
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def send_signal(entry: dict, sig: signal.Signals) -> bool:
    """Signal the recorded process itself (not its group), if it still runs; say whether it did."""
    if not is_ours(entry):
        return False
    try:
        os.kill(entry["pid"], sig)
    except ProcessLookupError:
        return False
    return True


def _signal_group(entry: dict, sig: signal.Signals) -> None:
    if is_ours(entry):
        try:
            os.killpg(entry["pid"], sig)
        except ProcessLookupError:
            pass


def stop(entries: list[dict], *, timeout_s: float) -> list[dict]:
    """Signal each entry's process group (last started first), wait, then kill what is left.

    Returns the entries that had to be killed.
    """
    for entry in reversed(entries):
        _signal_group(entry, signal.Signals[entry.get("stop_signal", "SIGTERM")])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(is_ours(entry) for entry in entries):
        time.sleep(0.1)
    stubborn = [entry for entry in entries if is_ours(entry)]
    for entry in stubborn:
        _signal_group(entry, signal.SIGKILL)
    return stubborn
