"""Render the gateway's Nginx configuration from ``TEAMMOA_NGINX_*`` environment variables.

    python gateway/nginx/render.py --out DIR [--tls]

writes ``DIR/nginx.conf`` and the files it includes. Standard library only, so the gateway image
renders it in a bare Python build stage and nothing like envsubst is needed at run time.

Template syntax (``*.template``): ``{{ name }}`` is replaced by a value (an unknown name is an
error); lines ``#% if flag`` / ``#% else`` / ``#% endif`` keep or drop the lines between them
(flags: ``tls``, ``real_ip``, ``internal``, ``user``, ``status``; they may nest). ``*.conf`` and ``mime.types``
are copied as they are.

Variables (defaults fit the container images; the local stack sets its own):

    TEAMMOA_NGINX_TLS                 true: HTTPS server + HTTP->HTTPS redirect + HSTS (or pass --tls)
    TEAMMOA_NGINX_LISTEN              plain HTTP listen address or port            (8080)
    TEAMMOA_NGINX_TLS_LISTEN          HTTPS listen address or port                 (8443)
    TEAMMOA_NGINX_PUBLIC_HTTPS_PORT   the HTTPS port clients see, for redirects    (443)
    TEAMMOA_NGINX_TLS_CERT / _KEY     certificate chain and key (PEM)              (/etc/teammoa/tls/...)
    TEAMMOA_NGINX_SERVER_NAME         server_name                                  (_)
    TEAMMOA_NGINX_WEB_ROOT            the browser UI (gateway/web)                 (/usr/share/teammoa/web)
    TEAMMOA_NGINX_AUTH_SERVERS        comma-separated host:port of each instance   (auth:8000)
    TEAMMOA_NGINX_TEAMS_SERVERS                                                    (teams:8000)
    TEAMMOA_NGINX_SCHEDULE_SERVERS                                                 (schedule:8000)
    TEAMMOA_NGINX_REALTIME_SERVERS                                                 (realtime:8000)
    TEAMMOA_NGINX_HEALTH_SERVERS      the health aggregator                        (health:8000)
    TEAMMOA_NGINX_MAX_CONNS           requests at once to one auth/teams/schedule instance; beyond, on
                                      every instance, a fast 503 + Retry-After (0: no limit)  (128)
    TEAMMOA_NGINX_INTERNAL            service=port,... loopback service-to-service listeners ("")
    TEAMMOA_NGINX_STATUS_LISTEN       stub_status for the Prometheus exporter ("": none), never public
    TEAMMOA_NGINX_REAL_IP_FROM        comma-separated CIDRs of a load balancer to trust ("")
    TEAMMOA_NGINX_RUN_DIR             pid file and temp files                      (/tmp/nginx)
    TEAMMOA_NGINX_ERROR_LOG           error log                                    (/dev/stderr)
    TEAMMOA_NGINX_ACCESS_LOG          access log (JSON lines)                      (/dev/stdout)
    TEAMMOA_NGINX_WORKERS             worker_processes                             (auto)
    TEAMMOA_NGINX_USER                worker user when the master runs as root     ("")
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVICES = ("auth", "teams", "schedule", "realtime")
LIMITED = ("auth", "teams", "schedule")  # request/response services: their upstreams carry max_conns
UPSTREAM_FAILOVER = "max_fails=1 fail_timeout=2s"  # skip a dead instance for 2 s, then try it again
_PLACEHOLDER = re.compile(r"{{\s*([a-z_]+)\s*}}")
_DIRECTIVE = re.compile(r"^\s*#%\s*(if|else|endif)\b\s*(\w*)\s*$")
_SERVER = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$|^unix:/[\w./\-]+$")


class RenderError(ValueError):
    """The variables or a template cannot make a valid configuration."""


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _servers(name: str, value: str, max_conns: int = 0) -> str:
    """``server`` lines of an upstream block from a comma-separated list of host:port."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise RenderError(f"no server for the {name} upstream")
    for item in items:
        if not _SERVER.match(item):
            raise RenderError(f"{name}: {item!r} is not host:port")
    limit = f" max_conns={max_conns}" if max_conns > 0 else ""
    return "\n".join(f"        server {item} {UPSTREAM_FAILOVER}{limit};" for item in items)


def _internal_servers(value: str) -> str:
    """One loopback listener per service for service-to-service calls."""
    blocks = []
    for item in (part.strip() for part in value.split(",") if part.strip()):
        service, _, port = item.partition("=")
        if service not in SERVICES or not port.isdigit():
            raise RenderError(f"TEAMMOA_NGINX_INTERNAL: {item!r} is not service=port")
        blocks.append(
            "    server {\n"
            f"        listen 127.0.0.1:{port};\n"
            "        proxy_http_version 1.1;\n"
            "        proxy_set_header Host $host;\n"
            '        proxy_set_header Connection "";\n'
            "        proxy_set_header X-Request-ID $teammoa_request_id;\n"
            '        proxy_set_header X-Request-Start "t=${msec}";\n'
            "        proxy_hide_header X-Request-ID;\n"
            "        proxy_connect_timeout 1s;\n"
            "        proxy_read_timeout 30s;\n"
            "        location / {\n"
            f"            proxy_pass http://{service};\n"
            "        }\n"
            "    }"
        )
    return "\n".join(blocks)


def _real_ip(value: str) -> str:
    lines = []
    for item in (part.strip() for part in value.split(",") if part.strip()):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise RenderError(f"TEAMMOA_NGINX_REAL_IP_FROM: {item!r} is not an address or CIDR") from None
        lines.append(f"    set_real_ip_from {item};")
    return "\n".join(lines)


def variables(environ: Mapping[str, str], *, tls: bool | None = None) -> tuple[dict[str, str], dict[str, bool]]:
    """The values and flags a set of environment variables gives."""

    def env(name: str, default: str) -> str:
        return environ.get(f"TEAMMOA_NGINX_{name}", default)

    tls = _flag(env("TLS", "false")) if tls is None else tls
    https_port = env("PUBLIC_HTTPS_PORT", "443")
    values = {
        "variant": "tls" if tls else "plain",
        "listen": env("LISTEN", "8080"),
        "tls_listen": env("TLS_LISTEN", "8443"),
        "https_port_suffix": "" if https_port == "443" else f":{https_port}",
        "tls_cert": env("TLS_CERT", "/etc/teammoa/tls/fullchain.pem"),
        "tls_key": env("TLS_KEY", "/etc/teammoa/tls/privkey.pem"),
        "server_name": env("SERVER_NAME", "_"),
        "web_root": env("WEB_ROOT", "/usr/share/teammoa/web"),
        "run_dir": env("RUN_DIR", "/tmp/nginx"),  # noqa: S108 - the container's writable place
        "error_log": env("ERROR_LOG", "/dev/stderr"),
        "access_log": env("ACCESS_LOG", "/dev/stdout"),
        "worker_processes": env("WORKERS", "auto"),
        "user": env("USER", ""),
        "real_ip_from": _real_ip(env("REAL_IP_FROM", "")),
        "internal_servers": _internal_servers(env("INTERNAL", "")),
        "status_listen": env("STATUS_LISTEN", ""),
        "health_servers": _servers("health", env("HEALTH_SERVERS", "health:8000")),
    }
    max_conns = env("MAX_CONNS", "128")
    if not max_conns.isdigit():
        raise RenderError(f"TEAMMOA_NGINX_MAX_CONNS: {max_conns!r} is not a number")
    for service in SERVICES:
        servers = env(f"{service.upper()}_SERVERS", f"{service}:8000")
        # Admission at the edge: at most max_conns requests at once per API instance; realtime's are sockets.
        limit = int(max_conns) if service in LIMITED else 0
        values[f"{service}_servers"] = _servers(service, servers, limit)
        values[f"{service}_health_servers"] = _servers(service, servers)  # health is never refused for load
    flags = {
        "tls": tls,
        "real_ip": bool(values["real_ip_from"]),
        "internal": bool(values["internal_servers"]),
        "user": bool(values["user"]),
        "status": bool(values["status_listen"]),
    }
    return values, flags


def render_text(text: str, values: Mapping[str, str], flags: Mapping[str, bool]) -> str:
    """Apply the ``#% if`` sections, then the ``{{ name }}`` placeholders."""
    kept: list[str] = []
    stack: list[bool] = []  # whether each open section keeps its lines
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        directive = _DIRECTIVE.match(line)
        if directive is None:
            if all(stack):
                kept.append(line)
            continue
        word, flag = directive.groups()
        if word == "if":
            if flag not in flags:
                raise RenderError(f"line {number}: unknown flag {flag!r}")
            stack.append(flags[flag])
        elif not stack:
            raise RenderError(f"line {number}: #% {word} without #% if")
        elif word == "else":
            stack[-1] = not stack[-1]
        else:
            stack.pop()
    if stack:
        raise RenderError("a #% if section is not closed")

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise RenderError(f"unknown placeholder {{{{ {name} }}}}")
        return values[name]

    return _PLACEHOLDER.sub(value, "".join(kept))


def render(out: Path, environ: Mapping[str, str], *, tls: bool | None = None) -> Path:
    """Write nginx.conf and its includes into ``out``; return the path of nginx.conf."""
    values, flags = variables(environ, tls=tls)
    out.mkdir(parents=True, exist_ok=True)
    for source in sorted(HERE.iterdir()):
        if source.suffix == ".template":
            (out / source.stem).write_text(render_text(source.read_text(), values, flags))
        elif source.suffix == ".conf" or source.name == "mime.types":
            shutil.copyfile(source, out / source.name)
    return out / "nginx.conf"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render TeamMoa's Nginx configuration from TEAMMOA_NGINX_*.")
    parser.add_argument("--out", type=Path, required=True, help="directory to write nginx.conf and its includes")
    parser.add_argument("--tls", action="store_true", default=None, help="the HTTPS variant (or TEAMMOA_NGINX_TLS)")
    args = parser.parse_args(argv)
    try:
        path = render(args.out, os.environ, tls=args.tls)
    except RenderError as exc:
        print(f"render.py: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
