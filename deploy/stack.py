"""The local multi-process stack: every service as its own uvicorn process behind the real Nginx,
on the machine's MariaDB and Redis, in production mode.

    python deploy/stack.py up        migrate, start everything, wait until /health/ is 200
    python deploy/stack.py status    which processes run, and each part's health
    python deploy/stack.py down      stop exactly the processes ``up`` started
    python deploy/stack.py migrate   create the databases and apply the migrations only
    python deploy/stack.py stop SVC  stop every instance of one service (auth, teams, schedule, realtime, health)
    python deploy/stack.py start SVC start the stopped instances of one service again, wait until they are healthy

A rolling restart of the running stack, one instance at a time without a failed request, is
``python deploy/rolling_restart.py`` (beside this script).

Two teams and two realtime instances run behind the gateway; teams instances share one files
directory. Migrations are a separate step (``python -m services.kit.migrate``), never run by the
instances (``TEAMMOA_AUTO_MIGRATE=false``). Everything lives in the data directory: the service
credential (``service-token``), ``stack.json`` (ports, pids), ``logs/``, ``mail/`` (the outbox,
unless ``TEAMMOA_SMTP_HOST`` is set), ``files/`` and the rendered ``nginx/``.

Environment: TEAMMOA_GATEWAY_PORT (8080), TEAMMOA_DATA_DIR (var/stack), TEAMMOA_STACK_BASE_PORT
(gateway port + 1; the stack uses 19 ports from there: 11, a spare port for each
single-instance process, which a rolling restart moves to and back, Nginx's status page for its
exporter, and 4 for the optional monitoring), TEAMMOA_STACK_MONITORING (false: true also starts
Prometheus and the exporters, deploy/monitor.py), TEAMMOA_STACK_DATABASE_URL
(mysql://root@127.0.0.1:3306), TEAMMOA_STACK_DB_PREFIX (teammoa_stack_), TEAMMOA_STACK_REDIS_URL
(redis://127.0.0.1:6379/0), TEAMMOA_REDIS_PREFIX (teammoa-stack:); any other TEAMMOA_* variable is
passed to the services as it is.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import monitor  # deploy/monitor.py, beside this script
from processes import is_ours, spawn, stop  # deploy/processes.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = {"auth": 1, "teams": 2, "schedule": 1, "realtime": 2}
WITH_DATABASE = ("auth", "teams", "schedule")
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10  # uvicorn drains for 5 s (--timeout-graceful-shutdown), nginx for worker_shutdown_timeout
GRACEFUL_SHUTDOWN_S = 5
# Longer than nginx's upstream keepalive_timeout (60 s): nginx always closes an idle upstream connection
# first, so it never sends a request on one that uvicorn is closing (a POST would fail, not be retried).
KEEP_ALIVE_S = 75
UPSTREAMS = (*INSTANCES, "health")  # the gateway's upstream groups of the stack's own processes
# Single-instance processes: a rolling restart starts their replacement on a spare port first (blue/green).
SWAPPED = (*(f"{svc}-1" for svc, count in INSTANCES.items() if count == 1), "health")
# Nginx's stub_status listener and the optional monitoring processes (deploy/monitor.py), last.
MONITORING_PORTS = ("nginx-status", "prometheus", "mysqld-exporter", "redis-exporter", "nginx-exporter")


@dataclass(frozen=True)
class Config:
    """Where the stack runs, read once from the environment."""

    data_dir: Path
    gateway_port: int
    base_port: int
    mysql_url: str
    db_prefix: str
    redis_url: str
    redis_prefix: str

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> Config:
        gateway_port = int(environ.get("TEAMMOA_GATEWAY_PORT", "8080"))
        return cls(
            data_dir=(ROOT / environ.get("TEAMMOA_DATA_DIR", "var/stack")).resolve(),
            gateway_port=gateway_port,
            base_port=int(environ.get("TEAMMOA_STACK_BASE_PORT", str(gateway_port + 1))),
            mysql_url=environ.get("TEAMMOA_STACK_DATABASE_URL", "mysql://root@127.0.0.1:3306").rstrip("/"),
            db_prefix=environ.get("TEAMMOA_STACK_DB_PREFIX", "teammoa_stack_"),
            redis_url=environ.get("TEAMMOA_STACK_REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_prefix=environ.get("TEAMMOA_REDIS_PREFIX", "teammoa-stack:"),
        )

    @property
    def state_file(self) -> Path:
        return self.data_dir / "stack.json"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.gateway_port}"

    def ports(self) -> dict[str, int]:
        """Every port the stack may listen on, by process name (``<name>-spare``: a replacement's)."""
        names = [f"{svc}-{n}" for svc, count in INSTANCES.items() for n in range(1, count + 1)]
        names += ["health", *(f"internal-{svc}" for svc in INSTANCES), *(f"{name}-spare" for name in SWAPPED)]
        names += MONITORING_PORTS
        ports = {name: self.base_port + offset for offset, name in enumerate(names)}
        ports["nginx"] = self.gateway_port
        return ports

    def home_upstreams(self) -> dict[str, list[int]]:
        """The ports of each upstream group when every process is on its home port."""
        ports = self.ports()
        groups = {svc: [ports[f"{svc}-{n}"] for n in range(1, count + 1)] for svc, count in INSTANCES.items()}
        return {**groups, "health": [ports["health"]]}


def service_token(config: Config) -> str:
    """The stack's service credential, generated once and kept in the data directory."""
    path = config.data_dir / "service-token"
    if not path.exists():
        config.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def service_env(config: Config, environ: dict[str, str]) -> dict[str, str]:
    """The environment every service process runs with."""
    ports = config.ports()
    origins = [config.url, f"http://localhost:{config.gateway_port}"]
    env = dict(environ)
    env.update(
        {
            "TEAMMOA_MODE": "production",
            "TEAMMOA_SERVICE_TOKEN": service_token(config),
            "TEAMMOA_DATA_DIR": str(config.data_dir),
            "TEAMMOA_FILES_DIR": str(config.data_dir / "files"),
            "TEAMMOA_AUTO_MIGRATE": "false",
            "TEAMMOA_REDIS_URL": config.redis_url,
            "TEAMMOA_REDIS_PREFIX": config.redis_prefix,
            "TEAMMOA_SITE_URL": config.url,
            "TEAMMOA_ALLOWED_ORIGINS": ",".join(origins),
            "TEAMMOA_COOKIE_SECURE": "false",  # plain HTTP on loopback: a browser would drop Secure cookies
            "TEAMMOA_TRUSTED_PROXIES": HOST,
            "TEAMMOA_DB_POOL_MAX": environ.get("TEAMMOA_DB_POOL_MAX", "5"),  # 6 processes under max_connections
            "TEAMMOA_HEALTH_GATEWAY_URL": config.url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    for svc in WITH_DATABASE:
        env[f"TEAMMOA_{svc.upper()}_DATABASE_URL"] = f"{config.mysql_url}/{config.db_prefix}{svc}"
    for svc in INSTANCES:
        env[f"TEAMMOA_{svc.upper()}_URL"] = f"http://{HOST}:{ports['internal-' + svc]}"
    if not environ.get("TEAMMOA_SMTP_HOST"):
        env.setdefault("TEAMMOA_DEV_OUTBOX", "true")
    return env


def upstream_of(name: str) -> str:
    """The upstream group a process serves in (``teams-2`` -> teams, ``health`` -> health)."""
    return name.rsplit("-", 1)[0] if name != "health" else name


def nginx_env(config: Config, upstreams: dict[str, list[int]] | None = None) -> dict[str, str]:
    """The TEAMMOA_NGINX_* variables gateway/nginx/render.py renders the stack's gateway with.

    ``upstreams`` names the ports each group sends requests to (default: every home port).
    """
    ports = config.ports()
    upstreams = upstreams or config.home_upstreams()

    def servers(group: str) -> str:
        return ",".join(f"{HOST}:{port}" for port in upstreams[group])

    run_dir = config.data_dir / "nginx"
    env = {
        "TEAMMOA_NGINX_LISTEN": f"{HOST}:{config.gateway_port}",
        "TEAMMOA_NGINX_WEB_ROOT": str(ROOT / "gateway" / "web"),
        "TEAMMOA_NGINX_RUN_DIR": str(run_dir / "run"),
        "TEAMMOA_NGINX_ERROR_LOG": str(config.data_dir / "logs" / "nginx-error.log"),
        "TEAMMOA_NGINX_ACCESS_LOG": str(config.data_dir / "logs" / "nginx-access.log"),
        "TEAMMOA_NGINX_WORKERS": "2",
        "TEAMMOA_NGINX_HEALTH_SERVERS": servers("health"),
        "TEAMMOA_NGINX_INTERNAL": ",".join(f"{svc}={ports['internal-' + svc]}" for svc in INSTANCES),
        "TEAMMOA_NGINX_STATUS_LISTEN": f"{HOST}:{ports['nginx-status']}",
    }
    env.update({f"TEAMMOA_NGINX_{svc.upper()}_SERVERS": servers(svc) for svc in INSTANCES})
    return env


def process_command(name: str, port: int) -> list[str]:
    """The command line of one service instance or of the health aggregator, listening on ``port``."""
    app = "gateway.health_aggregator:create_app" if name == "health" else f"services.{upstream_of(name)}.app:create_app"
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "--host",
        HOST,
        "--proxy-headers",
        "--forwarded-allow-ips",
        HOST,
        "--timeout-graceful-shutdown",
        str(GRACEFUL_SHUTDOWN_S),
        "--timeout-keep-alive",
        str(KEEP_ALIVE_S),
        "--no-access-log",
        "--ws-max-size",
        "65536",
        app,
        "--port",
        str(port),
    ]


def commands(config: Config) -> dict[str, list[str]]:
    """The command line of every process, by name (nginx last: it needs its upstreams)."""
    ports = config.ports()
    result = {
        name: process_command(name, ports[name])
        for name in (*(f"{svc}-{n}" for svc, count in INSTANCES.items() for n in range(1, count + 1)), "health")
    }
    conf = config.data_dir / "nginx" / "conf" / "nginx.conf"
    result["nginx"] = [
        nginx_binary(),
        "-p",
        str(config.data_dir / "nginx" / "run"),
        "-c",
        str(conf),
        "-e",
        str(config.data_dir / "logs" / "nginx-error.log"),
    ]
    return result


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def ensure_nginx() -> None:
    """Install Debian's nginx when it is missing and we may (root with apt-get)."""
    if Path(nginx_binary()).exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("nginx is not installed: run `sudo apt-get install -y nginx`, then try again")
    print("nginx is missing: installing Debian's package (apt-get install -y nginx)", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    if subprocess.call(["apt-get", "install", "-y", "--no-install-recommends", "nginx"], **quiet) != 0:
        subprocess.check_call(["apt-get", "update"], **quiet)
        subprocess.check_call(["apt-get", "install", "-y", "--no-install-recommends", "nginx"], **quiet)


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


# Health ------------------------------------------------------------------------------------------


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


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def wait_until(ready, entries: list[dict], deadline: float) -> str:
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


# Commands ----------------------------------------------------------------------------------------


def migrate(config: Config, environ: dict[str, str]) -> None:
    """Create the stack's databases and apply every service's migrations (a step of its own)."""
    check_reachable(config.mysql_url, "MariaDB")
    print("migrating: " + ", ".join(f"{config.db_prefix}{svc}" for svc in WITH_DATABASE), flush=True)
    code = subprocess.call(
        [sys.executable, "-m", "services.kit.migrate", *WITH_DATABASE], cwd=ROOT, env=service_env(config, environ)
    )
    if code != 0:
        sys.exit(f"migration failed (exit {code})")


def check_worker_access(*paths: Path) -> None:
    """Run as root, nginx's workers drop to "nobody": they must be able to reach these directories."""
    if os.geteuid() != 0:
        return
    for path in paths:
        for folder in (path, *path.parents):
            if not folder.stat().st_mode & stat.S_IXOTH:
                sys.exit(
                    f"nginx's workers (user nobody) cannot enter {folder}: choose a data directory "
                    f"outside it (TEAMMOA_DATA_DIR) or `chmod o+x {folder}`"
                )


def render_gateway(config: Config, upstreams: dict[str, list[int]] | None = None) -> None:
    """Render the gateway config into the data directory and let nginx check it."""
    conf_dir = config.data_dir / "nginx" / "conf"
    (config.data_dir / "nginx" / "run").mkdir(parents=True, exist_ok=True)
    check_worker_access(ROOT / "gateway" / "web", config.data_dir / "nginx" / "run")
    render = [sys.executable, str(ROOT / "gateway" / "nginx" / "render.py"), "--out", str(conf_dir)]
    subprocess.run(render, check=True, stdout=subprocess.DEVNULL, env={**os.environ, **nginx_env(config, upstreams)})
    test = [*commands(config)["nginx"], "-t", "-q"]
    result = subprocess.run(test, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"nginx rejected the rendered config {conf_dir}/nginx.conf:\n{result.stderr}")


def up(config: Config, environ: dict[str, str]) -> int:
    """Migrate, start every process, and wait until the whole is healthy (stop it all otherwise)."""
    state = load_state(config)
    if state and any(is_ours(e) for e in state["processes"]):
        print(f"the stack is already running at {state['url']}/ (stop it with `deploy/stack.py down`)")
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
        f"  logs in {config.data_dir / 'logs'}; mail outbox in {config.data_dir / 'mail'}; stop with `deploy/stack.py down`"
    )
    return 0


def down(config: Config) -> int:
    """Stop the processes the last ``up`` recorded."""
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


def processes_of(state: dict, group: str) -> list[dict]:
    """The recorded processes of one upstream group (a service, or the health aggregator)."""
    return [e for e in state["processes"] if e["name"] != "nginx" and upstream_of(e["name"]) == group]


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


def main(argv: list[str]) -> int:
    commands_with_group = ("stop", "start")
    if not (
        (len(argv) == 1 and argv[0] in ("up", "down", "status", "migrate"))
        or (len(argv) == 2 and argv[0] in commands_with_group and argv[1] in UPSTREAMS)
    ):
        print(__doc__)
        return 2
    environ = dict(os.environ)
    config = Config.from_env(environ)
    command = argv[0]
    if command == "stop":
        return stop_group(config, argv[1])
    if command == "start":
        return start_group(config, environ, argv[1])
    if command == "up":
        return up(config, environ)
    if command == "down":
        return down(config)
    if command == "status":
        return status(config)
    migrate(config, environ)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
