"""The reliability suite's own world: a private MariaDB and a private Redis (never the machine's shared
ones on 3306/6379, which other suites use), and the local stack (tools/stack) pointed at them, so
faults can stop the database or Redis, kill instances and restart them without touching anyone else.

    rstack       the running stack (package scope): .url, .data_dir, .state, .mariadb, .redis,
                 .account(name) → a verified, signed-in Account; .team(host, *members); .sql(query)
    FULL         TEAMMOA_RELIABILITY_FULL=1: the issue's full durations and case counts; otherwise the
                 bounded CI subset (see docs/reliability.md)

Skipped with a reason when nginx, mariadbd or redis-server is missing, except in CI (CI=true): a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, token_from_mail
from tests.e2e.conftest import STACK, Stack, free_block
from tests.servers import free_port, listening, redis_server_command
from tools.stack.config import Config, commands, service_env
from tools.stack.processes import is_ours, start_time

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("TEAMMOA_RELIABILITY_FULL") == "1"
DB_PREFIX = f"teammoa_rel{os.environ.get('TEAMMOA_TEST_DB_SUFFIX', '')}_"  # the suffix keeps parallel runs apart
TEAM_PASSWORD = "team-pass-42"
MARIADBD = "/usr/sbin/mariadbd"
SERVER_START_TIMEOUT_S = 60


def missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not listening(port):
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not listening on {port} within {SERVER_START_TIMEOUT_S}s")
        time.sleep(0.1)


class Server:
    """A private server process we start, stop (gracefully or with a signal) and start again."""

    def __init__(self, name: str, command: list[str], port: int, folder: Path) -> None:
        self.name, self.command, self.port, self.folder = name, command, port, folder
        self.process: subprocess.Popen | None = None
        self.log = folder / f"{name}.log"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        _wait_listening(self.port, self.process, self.log)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def start_mariadb(folder: Path) -> Server:
    """A throw-away MariaDB in ``folder`` on a free port, root without a password."""
    datadir = folder / "data"
    install = [
        "mariadb-install-db",
        "--no-defaults",
        f"--datadir={datadir}",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        "--user=root",
    ]
    result = subprocess.run(install, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"mariadb-install-db failed:\n{result.stdout}\n{result.stderr}")
    port = free_port()
    command = [
        MARIADBD,
        "--no-defaults",
        f"--datadir={datadir}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        f"--socket={folder / 'mysqld.sock'}",
        f"--pid-file={folder / 'mysqld.pid'}",
        "--user=root",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=64M",
        "--max-connections=300",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
    ]
    server = Server("mariadb", command, port, folder)
    server.start()
    return server


def start_redis(folder: Path) -> Server:
    port = free_port()
    command = redis_server_command(port, "--dir", str(folder), "--maxclients", "4000")
    server = Server("redis", command, port, folder)
    server.start()
    return server


@dataclass
class Account:
    """A verified, signed-in user of the stack."""

    id: int
    username: str
    token: str
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


class ReliabilityStack(Stack):
    """The e2e suite's Stack, on private MariaDB and Redis, with helpers to make users and teams."""

    mariadb: Server
    redis: Server
    children: list[subprocess.Popen]  # processes restarted by a test (stopped by `down` like the others)

    @property
    def mysql_url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.mariadb.port}"

    def http(self, **options) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=options.pop("timeout", 15), **options)

    def account(self, prefix: str = "rel") -> Account:
        """Register, verify (through the mailed link) and log in a new user through the gateway."""
        name = prefix + uuid.uuid4().hex[:10]
        email = f"{name}@example.com"
        with self.http() as http:
            r = http.post(
                "/api/v1/users/register/",
                json={"username": name, "email": email, "nickname": name[:20], "password": PASSWORD},
            )
            assert r.status_code == 201, r.text
            token = token_from_mail(self.data_dir, email)
            assert http.post("/api/v1/users/verify-email/", json={"token": token}).status_code == 200
            r = http.post("/api/v1/users/login/", json={"login": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            body = r.json()
            return Account(id=body["user"]["id"], username=name, token=body["access_token"], cookies=dict(r.cookies))

    def team(self, host: Account, *members: Account, name: str = "Reliability") -> dict:
        with self.http() as http:
            r = http.post(
                "/api/v1/teams/", json={"name": name, "capacity": 100, "join_password": TEAM_PASSWORD}, headers=host.headers
            )
            assert r.status_code == 201, r.text
            team = r.json()
            for member in members:
                r = http.post(
                    "/api/v1/teams/join/",
                    json={"invite_code": team["invite_code"], "password": TEAM_PASSWORD},
                    headers=member.headers,
                )
                assert r.status_code == 201, r.text
        return team

    def sql(self, service: str, query: str, **params) -> list[tuple]:
        """Rows of a query on one service's database, read directly from MariaDB."""
        from services.kit import db as kit_db

        engine = sa.create_engine(kit_db.sync_url(f"{self.mysql_url}/{DB_PREFIX}{service}"), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(query), params)]
        finally:
            engine.dispose()

    def entries(self) -> list[dict]:
        return json.loads((self.data_dir / "stack.json").read_text())["processes"]

    def pids(self) -> dict[str, int]:
        return {entry["name"]: entry["pid"] for entry in self.entries()}

    def restart_process(self, name: str) -> None:
        """Start a process of the stack again (after a fault killed it) and record it in stack.json."""
        config = Config.from_env(self.env)
        command = commands(config)[name]
        log = self.data_dir / "logs" / f"{name}.log"
        with log.open("ab") as out:  # as processes.spawn does, but we keep the Popen (no ResourceWarning)
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=service_env(config, self.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.children.append(process)
        entry = {
            "name": name,
            "pid": process.pid,
            "started": start_time(process.pid),
            "log": str(log),
            "stop_signal": "SIGTERM",
            "port": config.ports()[name],
        }
        state = json.loads((self.data_dir / "stack.json").read_text())
        state["processes"] = [entry if e["name"] == name else e for e in state["processes"]]
        (self.data_dir / "stack.json").write_text(json.dumps(state, indent=2))
        self.state = state
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not listening(entry["port"]):
            assert is_ours(entry), f"{name} exited while starting:\n{self.log(name)[-3000:]}"
            assert time.monotonic() < deadline, f"{name} did not listen again"
            time.sleep(0.1)

    def wait_healthy(self, timeout_s: float = 30) -> float:
        """Wait until /health/ answers 200; return how long it took."""
        started = time.monotonic()
        with self.http(timeout=5) as http:
            while True:
                try:
                    if http.get("/health/").status_code == 200:
                        return time.monotonic() - started
                except httpx.HTTPError:
                    pass
                assert time.monotonic() - started < timeout_s, "the stack did not become healthy again"
                time.sleep(0.2)


@pytest.fixture(name="rstack", scope="package")
def fx_rstack():
    """The stack on a private MariaDB and Redis, for every stack test of this package."""
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing("nginx is not installed (apt-get install -y nginx)")
    if not Path(MARIADBD).exists() or not shutil.which("mariadb-install-db"):
        missing("mariadbd is not installed (apt-get install -y mariadb-server)")
    if not shutil.which("redis-server"):
        missing("redis-server is not installed (apt-get install -y redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="teammoa-rel-"))
    folder.chmod(0o755)  # run as root, nginx's workers drop to "nobody"
    data_dir = folder / "stack"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    servers: list[Server] = []
    stack = None
    try:
        mariadb = start_mariadb(folder / "mariadb")
        servers.append(mariadb)
        redis_server = start_redis(folder)
        servers.append(redis_server)
        env = {key: value for key, value in os.environ.items() if not key.startswith("TEAMMOA_")}
        env.update(
            {
                "TEAMMOA_GATEWAY_PORT": str(free_block()),
                "TEAMMOA_DATA_DIR": str(data_dir),
                "TEAMMOA_STACK_DATABASE_URL": f"mysql://root@127.0.0.1:{mariadb.port}",
                "TEAMMOA_STACK_DB_PREFIX": DB_PREFIX,
                "TEAMMOA_STACK_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
                "TEAMMOA_REDIS_PREFIX": "teammoa-rel:",
                "TEAMMOA_ARGON2_MEMORY_KIB": "1024",  # cheap hashing in tests
                "TEAMMOA_ARGON2_TIME_COST": "1",
                "TEAMMOA_LOG_REQUESTS": "false",  # the gateway's access log has every request
            }
        )
        stack = ReliabilityStack(url=f"http://127.0.0.1:{env['TEAMMOA_GATEWAY_PORT']}", data_dir=data_dir, state={}, env=env)
        stack.mariadb, stack.redis, stack.children = mariadb, redis_server, []
        for attempt in (1, 2):  # a busy shared machine can miss the start-up deadline, or take our ports
            started = subprocess.run([*STACK, "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
            if started.returncode == 0:
                break
            if attempt == 2:
                pytest.fail(f"python -m tools.stack up failed:\n{started.stdout[-5000:]}\n{started.stderr[-3000:]}")
            env["TEAMMOA_GATEWAY_PORT"] = str(free_block())
            stack.url = f"http://127.0.0.1:{env['TEAMMOA_GATEWAY_PORT']}"
        stack.state = json.loads((data_dir / "stack.json").read_text())
        yield stack
    finally:
        if stack is not None:
            stack.run("down", timeout=120)
            for child in stack.children:
                child.wait(timeout=30)  # reap what `down` stopped
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
