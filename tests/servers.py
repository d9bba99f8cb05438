"""For tests that start real servers: a free port and whether something listens (one copy, in
tools/common.py, shared with the tools), and the command line of a throw-away redis-server."""

from __future__ import annotations

import shutil

from tools.common import free_port, listening

__all__ = ["free_port", "listening", "redis_server_command"]


def redis_server_command(port: int, *extra: str) -> list[str]:
    """redis-server on 127.0.0.1:``port`` without persistence (``extra``: more options)."""
    binary = shutil.which("redis-server") or "redis-server"
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *extra]
