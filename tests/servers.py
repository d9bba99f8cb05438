"""For tests that start real servers: a free port and whether something listens (one copy, in
tools/common.py, shared with the tools), the command line of a throw-away redis-server, and the flags
Debian's Chromium starts quickly with here (about a second; docs/dependencies.md)."""

from __future__ import annotations

import shutil

from tools.common import free_port, listening

__all__ = ["CHROMIUM_ARGS", "free_port", "listening", "redis_server_command"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def redis_server_command(port: int, *extra: str) -> list[str]:
    """redis-server on 127.0.0.1:``port`` without persistence (``extra``: more options)."""
    binary = shutil.which("redis-server") or "redis-server"
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *extra]
