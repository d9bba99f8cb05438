"""Where the local stack runs and what each of its processes runs with: ports, environments, command lines."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from services.kit.serve import GRACEFUL_SHUTDOWN_S, uvicorn_command
from tools.common import HOST, ROOT, locate

INSTANCES = {"auth": 1, "teams": 2, "schedule": 1, "realtime": 2}
WITH_DATABASE = ("auth", "teams", "schedule")
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 2 * GRACEFUL_SHUTDOWN_S  # uvicorn drains for 5 s, nginx for worker_shutdown_timeout
UPSTREAMS = (*INSTANCES, "health")  # the gateway's upstream groups of the stack's own processes
# Single-instance processes: a rolling restart starts their replacement on a spare port first (blue/green).
SWAPPED = (*(f"{svc}-1" for svc, count in INSTANCES.items() if count == 1), "health")
# Nginx's stub_status listener and the optional monitoring processes (tools/monitor.py), last.
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
    return uvicorn_command(upstream_of(name), host=HOST, port=port, extra=["--forwarded-allow-ips", HOST])


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
    return locate("nginx") or "/usr/sbin/nginx"
