"""What several tools need: the repository root, a free port, a process's CPU time, signing in to a
running TeamMoa, the load-test accounts' password and installing a missing Debian package."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD_PASSWORD = "LoadTest2024!"  # the seeded load-test accounts' documented password (tools/seed.py)
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def listening(port: int, host: str = HOST) -> bool:
    """Something accepts connections on ``host:port``."""
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants (Linux /proc)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            pending += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def sign_in(url: str, login: str = "loaduser1", password: str = LOAD_PASSWORD) -> str:
    """Sign in to the TeamMoa at ``url`` (the gateway) and return the access token."""
    body = json.dumps({"login": login, "password": password}).encode()
    request = urllib.request.Request(url + "/api/v1/users/login/", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["access_token"])


def apt_install(program: str, package: str | None = None) -> str:
    """The path of ``program``, installing Debian's ``package`` first when it is missing (root with apt-get only)."""
    package = package or program
    if found := locate(program):
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"{program} is not installed: run `sudo apt-get install -y {package}`, then try again")
    print(f"{program} is missing: installing Debian's package (apt-get install -y {package})", file=sys.stderr, flush=True)
    quiet: dict = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if subprocess.call(install, **quiet) != 0:
        subprocess.check_call(["apt-get", "update"], **quiet)
        subprocess.check_call(install, **quiet)
    return locate(program) or program


def locate(program: str) -> str | None:
    """``program`` on PATH or in /usr/sbin (Debian's nginx when PATH lacks it), or None."""
    sbin = Path("/usr/sbin") / program
    return shutil.which(program) or (str(sbin) if sbin.exists() else None)
