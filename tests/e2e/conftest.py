"""The real local stack (tools/stack) for end-to-end tests: every service as its own uvicorn
process behind the real Nginx, on MariaDB and Redis, with its own data directory, gateway port,
databases (teammoa_e2e_<run>_*) and Redis key prefix, so it never touches the stack a developer runs,
the unit tests' data or another run of these tests. Started once per module; stopped at the end.
How long ``up`` took (cold start to an all-healthy /health/) is kept in ``Stack.cold_start_s``.

Skipped with a reason when Nginx, MariaDB or Redis is missing, except in CI (CI=true): a failure.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from services.kit import db as kit_db

ROOT = Path(__file__).resolve().parents[2]
STACK = [sys.executable, "-m", "tools.stack"]
PORTS_NEEDED = 20  # the gateway and the 19 ports after it (tools/stack/config.py)
MYSQL_URL = (
    os.environ.get("TEAMMOA_TEST_DATABASE_URL")
    or os.environ.get("TEAMMOA_STACK_DATABASE_URL")
    or "mysql://root@127.0.0.1:3306"
).rstrip("/")
REDIS_URL = (
    os.environ.get("TEAMMOA_TEST_REDIS_URL") or os.environ.get("TEAMMOA_STACK_REDIS_URL") or "redis://127.0.0.1:6379/0"
)


@dataclass
class Stack:
    url: str
    data_dir: Path
    state: dict
    env: dict[str, str]
    cold_start_s: float = 0.0

    @property
    def service_token(self) -> str:
        return (self.data_dir / "service-token").read_text().strip()

    def reload_state(self) -> dict:
        """Read stack.json again (stop/start and a rolling restart change pids, and ports of single instances)."""
        self.state = json.loads((self.data_dir / "stack.json").read_text())
        return self.state

    def ports_of(self, service: str) -> set[int]:
        """The ports of a service's instances (realtime -> {realtime-1, realtime-2})."""
        return {
            port
            for name, port in self.state["ports"].items()
            if name.startswith(service + "-") and name[len(service) + 1 :].isdigit()
        }

    def log(self, name: str) -> str:
        path = self.data_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access_log(self) -> list[dict]:
        """The gateway's JSON access log lines of public requests (not service-to-service calls)."""
        lines = [json.loads(line) for line in self.log("nginx-access").splitlines() if line.startswith("{")]
        return [line for line in lines if line["port"] == self.state["ports"]["nginx"]]

    def run(self, command: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*STACK, command, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except OSError:
        return False
    return True


def free_block() -> int:
    """A gateway port with the PORTS_NEEDED - 1 ports after it free as well."""
    for _ in range(50):
        start = random.randint(20000, 40000)
        ports = range(start, start + PORTS_NEEDED)
        try:
            probes = []
            for port in ports:
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return start
    raise RuntimeError("no free block of ports")


def _drop_databases(prefix: str) -> None:
    engine = sa.create_engine(kit_db.sync_url(MYSQL_URL + "/"))
    with engine.begin() as conn:
        for service in ("auth", "teams", "schedule"):
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{prefix}{service}`"))
    engine.dispose()


def _forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(name="stack", scope="module")
def fx_stack():
    """Start the stack, yield where it is, stop it (and forget its data) afterwards."""
    yield from run_stack()


def run_stack(extra_env: dict[str, str] | None = None, gateway_port: int | None = None):
    """Start a stack (with these extra variables, on this gateway port), yield it, stop it and forget its data."""
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        _missing("nginx is not installed (apt-get install -y nginx)")
    if not _reachable(MYSQL_URL):
        _missing(f"MariaDB is not reachable at {MYSQL_URL}")
    if not _reachable(REDIS_URL):
        _missing(f"Redis is not reachable at {REDIS_URL}")
    # Not under pytest's tmp root (mode 0700): run as root, nginx's workers drop to "nobody".
    data_dir = Path(tempfile.mkdtemp(prefix="teammoa-e2e-"))
    data_dir.chmod(0o755)
    run_id = uuid.uuid4().hex[:8]
    redis_prefix = f"teammoa-e2e:{run_id}:"
    db_prefix = f"teammoa_e2e_{run_id}_"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEAMMOA_")}
    env.update(
        {
            "TEAMMOA_GATEWAY_PORT": str(gateway_port or free_block()),
            "TEAMMOA_DATA_DIR": str(data_dir),
            "TEAMMOA_STACK_DATABASE_URL": MYSQL_URL,
            "TEAMMOA_STACK_DB_PREFIX": db_prefix,
            "TEAMMOA_STACK_REDIS_URL": REDIS_URL,
            "TEAMMOA_REDIS_PREFIX": redis_prefix,
            "TEAMMOA_ARGON2_MEMORY_KIB": "1024",  # cheap hashing in tests
            "TEAMMOA_ARGON2_TIME_COST": "1",
            **(extra_env or {}),
        }
    )
    stack = Stack(url=f"http://127.0.0.1:{env['TEAMMOA_GATEWAY_PORT']}", data_dir=data_dir, state={}, env=env)
    try:
        began = time.monotonic()
        started = stack.run("up")
        stack.cold_start_s = time.monotonic() - began
        if started.returncode != 0:
            pytest.fail(f"python -m tools.stack up failed:\n{started.stdout}\n{started.stderr}")
        stack.reload_state()
        yield stack
    finally:
        stack.run("down")
        _forget_redis_keys(redis_prefix)
        _drop_databases(db_prefix)
        shutil.rmtree(data_dir, ignore_errors=True)
