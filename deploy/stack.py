"""The local multi-process stack: every service as its own uvicorn process behind the real Nginx,
on the machine's MariaDB and Redis, in production mode.

    python deploy/stack.py up        migrate, start everything, wait until /health/ is 200
    python deploy/stack.py status    which processes run, and each part's health
    python deploy/stack.py down      stop exactly the processes ``up`` started
    python deploy/stack.py migrate   create the databases and apply the migrations only

Two teams and two realtime instances run behind the gateway; teams instances share one files
directory. Migrations are a separate step (``python -m services.kit.migrate``), never run by the
instances (``TEAMMOA_AUTO_MIGRATE=false``). Everything lives in the data directory: the service
credential (``service-token``), ``stack.json`` (ports, pids), ``logs/``, ``mail/`` (the outbox,
unless ``TEAMMOA_SMTP_HOST`` is set), ``files/`` and the rendered ``nginx/``.

Environment: TEAMMOA_GATEWAY_PORT (8080), TEAMMOA_DATA_DIR (var/stack), TEAMMOA_STACK_BASE_PORT
(gateway port + 1; the stack uses 11 ports from there), TEAMMOA_STACK_DATABASE_URL
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

from processes import is_ours, spawn, stop  # deploy/processes.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = {"auth": 1, "teams": 2, "schedule": 1, "realtime": 2}
WITH_DATABASE = ("auth", "teams", "schedule")
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10  # uvicorn drains for 5 s (--timeout-graceful-shutdown), nginx for worker_shutdown_timeout


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
        """Every port the stack listens on, by process name."""
        names = [f"{svc}-{n}" for svc, count in INSTANCES.items() for n in range(1, count + 1)]
        names += ["health", *(f"internal-{svc}" for svc in INSTANCES)]
        ports = {name: self.base_port + offset for offset, name in enumerate(names)}
        ports["nginx"] = self.gateway_port
        return ports


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
    env.update({
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
    })
    for svc in WITH_DATABASE:
        env[f"TEAMMOA_{svc.upper()}_DATABASE_URL"] = f"{config.mysql_url}/{config.db_prefix}{svc}"
    for svc in INSTANCES:
        env[f"TEAMMOA_{svc.upper()}_URL"] = f"http://{HOST}:{ports['internal-' + svc]}"
    if not environ.get("TEAMMOA_SMTP_HOST"):
        env.setdefault("TEAMMOA_DEV_OUTBOX", "true")
    return env


def nginx_env(config: Config) -> dict[str, str]:
    """The TEAMMOA_NGINX_* variables gateway/nginx/render.py renders the stack's gateway with."""
    ports = config.ports()

    def servers(svc: str) -> str:
        return ",".join(f"{HOST}:{ports[f'{svc}-{n}']}" for n in range(1, INSTANCES[svc] + 1))

    run_dir = config.data_dir / "nginx"
    env = {
        "TEAMMOA_NGINX_LISTEN": f"{HOST}:{config.gateway_port}",
        "TEAMMOA_NGINX_WEB_ROOT": str(ROOT / "gateway" / "web"),
        "TEAMMOA_NGINX_RUN_DIR": str(run_dir / "run"),
        "TEAMMOA_NGINX_ERROR_LOG": str(config.data_dir / "logs" / "nginx-error.log"),
        "TEAMMOA_NGINX_ACCESS_LOG": str(config.data_dir / "logs" / "nginx-access.log"),
        "TEAMMOA_NGINX_WORKERS": "2",
        "TEAMMOA_NGINX_HEALTH_SERVERS": f"{HOST}:{ports['health']}",
        "TEAMMOA_NGINX_INTERNAL": ",".join(f"{svc}={ports['internal-' + svc]}" for svc in INSTANCES),
    }
    env.update({f"TEAMMOA_NGINX_{svc.upper()}_SERVERS": servers(svc) for svc in INSTANCES})
    return env


def commands(config: Config) -> dict[str, list[str]]:
    """The command line of every process, by name (nginx last: it needs its upstreams)."""
    ports, python = config.ports(), sys.executable
    uvicorn = [python, "-m", "uvicorn", "--factory", "--host", HOST, "--proxy-headers",
               "--forwarded-allow-ips", HOST, "--timeout-graceful-shutdown", "5", "--no-access-log",
               "--ws-max-size", "65536"]
    result = {}
    for svc, count in INSTANCES.items():
        for n in range(1, count + 1):
            name = f"{svc}-{n}"
            result[name] = [*uvicorn, f"services.{svc}.app:create_app", "--port", str(ports[name])]
    result["health"] = [*uvicorn, "gateway.health_aggregator:create_app", "--port", str(ports["health"])]
    conf = config.data_dir / "nginx" / "conf" / "nginx.conf"
    result["nginx"] = [nginx_binary(), "-p", str(config.data_dir / "nginx" / "run"), "-c", str(conf),
                       "-e", str(config.data_dir / "logs" / "nginx-error.log")]
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


def start(config: Config, name: str, command: list[str], env: dict[str, str]) -> dict:
    """Start one process of the stack, its output in logs/<name>.log."""
    log = config.data_dir / "logs" / f"{name}.log"
    stop_signal = "SIGQUIT" if name == "nginx" else "SIGTERM"  # nginx: finish open requests first
    return {"name": name, **spawn(command, cwd=ROOT, env=env, log=log, stop_signal=stop_signal),
            "port": config.ports()[name]}


def load_state(config: Config) -> dict | None:
    """What the last ``up`` recorded (None when nothing is)."""
    try:
        return json.loads(config.state_file.read_text())
    except (OSError, ValueError):
        return None


def save_state(config: Config, processes: list[dict]) -> None:
    state = {"url": config.url, "data_dir": str(config.data_dir), "ports": config.ports(), "processes": processes}
    config.state_file.write_text(json.dumps(state, indent=2))


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


def _listening(port: int) -> bool:
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
    code = subprocess.call([sys.executable, "-m", "services.kit.migrate", *WITH_DATABASE], cwd=ROOT,
                           env=service_env(config, environ))
    if code != 0:
        sys.exit(f"migration failed (exit {code})")


def check_worker_access(*paths: Path) -> None:
    """Run as root, nginx's workers drop to "nobody": they must be able to reach these directories."""
    if os.geteuid() != 0:
        return
    for path in paths:
        for folder in (path, *path.parents):
            if not folder.stat().st_mode & stat.S_IXOTH:
                sys.exit(f"nginx's workers (user nobody) cannot enter {folder}: choose a data directory "
                         f"outside it (TEAMMOA_DATA_DIR) or `chmod o+x {folder}`")


def render_gateway(config: Config) -> None:
    """Render the gateway config into the data directory and let nginx check it."""
    conf_dir = config.data_dir / "nginx" / "conf"
    (config.data_dir / "nginx" / "run").mkdir(parents=True, exist_ok=True)
    check_worker_access(ROOT / "gateway" / "web", config.data_dir / "nginx" / "run")
    render = [sys.executable, str(ROOT / "gateway" / "nginx" / "render.py"), "--out", str(conf_dir)]
    subprocess.run(render, check=True, stdout=subprocess.DEVNULL, env={**os.environ, **nginx_env(config)})
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
            problem = wait_until(lambda: all(_listening(e["port"]) for e in entries), entries, deadline)
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
    print(f"  logs in {config.data_dir / 'logs'}; mail outbox in {config.data_dir / 'mail'}; "
          f"stop with `deploy/stack.py down`")
    return 0


def down(config: Config) -> int:
    """Stop the processes the last ``up`` recorded."""
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


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("up", "down", "status", "migrate"):
        print(__doc__)
        return 2
    environ = dict(os.environ)
    config = Config.from_env(environ)
    command = argv[0]
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
