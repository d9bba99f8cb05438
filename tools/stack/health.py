"""The stack's health: the gateway's aggregated ``/health/``, one instance's ``/health``, waiting for them."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tools.common import HOST

from .config import STARTUP_TIMEOUT_S
from .processes import is_ours


def fetch_health(url: str) -> tuple[int, dict]:
    """The gateway's aggregated /health/ (status 0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url + "/health/", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read())
        except ValueError:
            return exc.code, {}
    except (OSError, ValueError):
        return 0, {}


def instance_health(port: int, timeout: float = 2) -> int:
    """The status of one process's own health endpoint (0 when it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_until(ready: Callable[[], bool], entries: list[dict], deadline: float) -> str:
    """Poll ``ready()`` until it is true; say what went wrong otherwise ("" when ready)."""
    while time.monotonic() < deadline:
        if exited := [e["name"] for e in entries if not is_ours(e)]:
            return f"{', '.join(exited)} exited"
        if ready():
            return ""
        time.sleep(0.2)
    return f"not ready within {STARTUP_TIMEOUT_S}s"


def print_health(url: str) -> bool:
    """Print each part's health; say whether the whole is healthy."""
    status, body = fetch_health(url)
    for part, report in sorted(body.get("services", {}).items()):
        state = "healthy" if report.get("ok") else f"UNHEALTHY: {report.get('error', '')[:300]}"
        print(f"  {part:<9} {state}")
    if not body:
        print(f"  gateway   not answering on {url}/health/")
    return status == 200


def print_log_tails(entries: list[dict], lines: int = 15) -> None:
    for entry in entries:
        text = Path(entry["log"]).read_text(errors="replace").splitlines() if Path(entry["log"]).exists() else []
        if text:
            print(f"--- {entry['name']} ({entry['log']}), last lines:\n" + "\n".join(text[-lines:]))
