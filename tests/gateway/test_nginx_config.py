"""The gateway's Nginx configuration: both variants pass ``nginx -t``, and the real Nginx, run on the
rendered plain config in front of fake upstreams that echo what they received, routes every path
to the right service with the right headers.

Needs Debian's nginx: skipped with a reason when it is missing, except in CI (CI=true) where that
is a failure.
"""

from __future__ import annotations

import datetime as dt
import http.client
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.embedded import route as embedded_route
from tests.servers import free_port, listening

ROOT = Path(__file__).resolve().parents[2]
# gateway/nginx is not a package: render.py runs as a script (in the image's build stage too).
_spec = importlib.util.spec_from_file_location("nginx_render", ROOT / "gateway" / "nginx" / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UPSTREAMS = ("auth", "teams-1", "teams-2", "schedule", "realtime", "health")


def _require_nginx() -> None:
    if not Path(NGINX).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (apt-get install -y nginx)")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")


def _local_env(tmp: Path, ports: dict[str, int], listen: int) -> dict[str, str]:
    return {
        "TEAMMOA_NGINX_LISTEN": f"127.0.0.1:{listen}",
        "TEAMMOA_NGINX_TLS_LISTEN": f"127.0.0.1:{free_port()}",
        "TEAMMOA_NGINX_AUTH_SERVERS": f"127.0.0.1:{ports['auth']}",
        "TEAMMOA_NGINX_TEAMS_SERVERS": f"127.0.0.1:{ports['teams-1']},127.0.0.1:{ports['teams-2']}",
        "TEAMMOA_NGINX_SCHEDULE_SERVERS": f"127.0.0.1:{ports['schedule']}",
        "TEAMMOA_NGINX_REALTIME_SERVERS": f"127.0.0.1:{ports['realtime']}",
        "TEAMMOA_NGINX_HEALTH_SERVERS": f"127.0.0.1:{ports['health']}",
        "TEAMMOA_NGINX_WEB_ROOT": str(tmp / "web"),
        "TEAMMOA_NGINX_RUN_DIR": str(tmp / "run"),
        "TEAMMOA_NGINX_ERROR_LOG": str(tmp / "error.log"),
        "TEAMMOA_NGINX_ACCESS_LOG": str(tmp / "access.log"),
        "TEAMMOA_NGINX_TLS_CERT": str(tmp / "cert.pem"),
        "TEAMMOA_NGINX_TLS_KEY": str(tmp / "key.pem"),
        "TEAMMOA_NGINX_WORKERS": "1",
    }


def _self_signed(tmp: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def _nginx(conf: Path, run_dir: Path, *args: str) -> list[str]:
    run_dir.mkdir(parents=True, exist_ok=True)
    return [NGINX, "-p", str(run_dir), "-c", str(conf), "-e", str(run_dir / "startup-error.log"), *args]


class _Echo(BaseHTTPRequestHandler):
    """A fake service: answers with its name, the path and the headers it received."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps(
            {"upstream": self.server.name, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", "from-the-service")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(name="gateway", scope="module")
def fx_gateway():
    """The real Nginx on the rendered plain config, in front of one echo server per upstream."""
    _require_nginx()
    # Not under pytest's tmp root (mode 0700): run as root, nginx's workers drop to "nobody".
    tmp = Path(tempfile.mkdtemp(prefix="teammoa-nginx-"))
    tmp.chmod(0o755)
    (tmp / "web" / "js").mkdir(parents=True)
    (tmp / "web" / "index.html").write_text("<!doctype html><title>TeamMoa</title>")
    (tmp / "web" / "js" / "app.js").write_text("export {};")
    (tmp / "web" / "js" / "app.0123abcd.js").write_text("export {};")
    (tmp / "web" / "logo.png").write_bytes(b"\x89PNG\r\n")
    servers = {}
    for name in UPSTREAMS:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
        server.name = name
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    ports = {name: server.server_address[1] for name, server in servers.items()}
    listen, status = free_port(), free_port()
    env = {**_local_env(tmp, ports, listen), "TEAMMOA_NGINX_STATUS_LISTEN": f"127.0.0.1:{status}"}
    conf = render.render(tmp / "conf", env, tls=False)
    process = subprocess.Popen(
        _nginx(conf, tmp / "run"), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while not listening(listen):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.05)
        yield {"port": listen, "status_port": status, "dir": tmp}
    finally:
        os.killpg(process.pid, signal.SIGQUIT)
        process.wait(10)
        process.stderr.close()
        for server in servers.values():
            server.shutdown()
            server.server_close()
        shutil.rmtree(tmp, ignore_errors=True)


def _get(gateway, path: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", gateway["port"], timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def _upstream(gateway, path: str, **kwargs) -> str:
    response, data = _get(gateway, path, **kwargs)
    assert response.status == 200, (path, response.status, data[:200])
    return json.loads(data)["upstream"]


def _render_for_check(tmp: Path, tls: bool) -> Path:
    (tmp / "web").mkdir(exist_ok=True)
    _self_signed(tmp)
    ports = {name: 9000 + n for n, name in enumerate(UPSTREAMS)}
    env = {
        **_local_env(tmp, ports, free_port()),
        "TEAMMOA_NGINX_REAL_IP_FROM": "10.0.0.0/8,192.0.2.1",
        "TEAMMOA_NGINX_INTERNAL": "auth=9101,teams=9102,schedule=9103,realtime=9104",
        "TEAMMOA_NGINX_STATUS_LISTEN": "127.0.0.1:9105",
    }
    return render.render(tmp / "conf", env, tls=tls)


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_nginx_accepts_the_rendered_config(tmp_path, tls):
    _require_nginx()
    conf = _render_for_check(tmp_path, tls)
    result = subprocess.run(_nginx(conf, tmp_path / "run", "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_tls_variant_redirects_plain_http_and_sends_hsts(tmp_path):
    conf = _render_for_check(tmp_path, tls=True)
    text = conf.read_text()
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text
    assert "return 308 https://$host$request_uri;" in text
    assert "Strict-Transport-Security" in (conf.parent / "headers.conf").read_text()


def test_the_plain_variant_has_no_tls_and_no_hsts(tmp_path):
    conf = _render_for_check(tmp_path, tls=False)
    assert "ssl" not in conf.read_text()
    assert "Strict-Transport-Security" not in (conf.parent / "headers.conf").read_text()


def test_the_container_defaults_name_the_compose_services():
    values, flags = render.variables({})
    assert "server auth:8000" in values["auth_servers"]
    assert "server realtime:8000" in values["realtime_servers"]
    assert flags == {"tls": False, "real_ip": False, "internal": False, "user": False, "status": False}


def test_a_malformed_upstream_address_is_refused():
    with pytest.raises(render.RenderError, match="not host:port"):
        render.variables({"TEAMMOA_NGINX_AUTH_SERVERS": "auth:8000; include /etc/passwd"})


def test_an_unknown_placeholder_or_an_unclosed_section_is_refused():
    with pytest.raises(render.RenderError, match="unknown placeholder"):
        render.render_text("listen {{ nope }};\n", {}, {})
    with pytest.raises(render.RenderError, match="not closed"):
        render.render_text("#% if tls\nssl on;\n", {}, {"tls": True})


def test_sections_keep_only_the_lines_of_the_variant():
    text = "a\n#% if tls\nb\n#% else\nc\n#% endif\nd\n"
    assert render.render_text(text, {}, {"tls": True}) == "a\nb\nd\n"
    assert render.render_text(text, {}, {"tls": False}) == "a\nc\nd\n"


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/users/login/", "auth"),
        ("/api/v1/users", "auth"),
        ("/api/v1/users/oauth/providers/", "auth"),  # sign-in with a provider: start, the redirect URI, sign-up
        ("/api/v1/users/oauth/google/start/", "auth"),
        ("/api/v1/users/oauth/github/callback/?code=c0de&state=st4te", "auth"),
        ("/api/v1/users/oauth/signup/", "auth"),
        ("/api/v1/users/me/identities/3/", "auth"),
        ("/.well-known/jwks.json", "auth"),
        ("/api/v1/teams/7/schedules/me/?week=2026-11-23", "schedule"),
        ("/api/v1/teams/7/schedules", "schedule"),
        ("/api/v1/schedules/openapi.json", "schedule"),
        ("/api/v1/teams/openapi.json", "teams"),
        ("/api/v1/teams/7/todos/", "teams"),
        ("/api/v1/teams/7/schedules-archive/", "teams"),
        ("/ws/", "realtime"),
        ("/health/", "health"),
    ],
)
def test_each_path_reaches_its_service(gateway, path, upstream):
    assert _upstream(gateway, path).removesuffix("-1").removesuffix("-2") == upstream
    if upstream != "health":  # the embedded gateway routes the same way
        assert embedded_route(path.split("?")[0]) == upstream


def test_each_service_health_is_proxied_to_its_own_health_endpoint(gateway):
    for service in ("auth", "schedule", "realtime"):
        response, data = _get(gateway, f"/health/{service}/")
        assert response.status == 200
        assert json.loads(data) == {**json.loads(data), "upstream": service, "path": "/health"}
    assert json.loads(_get(gateway, "/health/teams")[1])["path"] == "/health"


def test_requests_are_spread_over_both_teams_instances(gateway):
    seen = {_upstream(gateway, "/api/v1/teams/") for _ in range(6)}
    assert seen == {"teams-1", "teams-2"}


@pytest.mark.parametrize(
    "path",
    [
        "/internal/users/batch",
        "/internal",
        "/metrics",
        "/metrics/",
        "/api/v1/users/../../../internal/users/batch",
        "/api/v1/users/..%2f..%2f..%2finternal/users/batch",
        "/api/v1/teams/1/%2e%2e/%2e%2e/%2e%2e/internal/teams/1/members/",
    ],
)
def test_internal_endpoints_and_metrics_are_never_routed(gateway, path):
    for method in ("GET", "POST"):
        response, data = _get(gateway, path, method=method)
        assert response.status == 404
        assert json.loads(data)["error"]["code"] == "not_found"


def test_the_status_page_for_the_exporter_is_on_its_own_listener_only(gateway):
    conn = http.client.HTTPConnection("127.0.0.1", gateway["status_port"], timeout=5)
    conn.request("GET", "/stub_status")
    response = conn.getresponse()
    assert response.status == 200
    assert response.read().startswith(b"Active connections:")
    conn.close()
    response, data = _get(gateway, "/stub_status")
    assert b"Active connections" not in data


def test_the_gateway_answers_its_own_health(gateway):
    response, data = _get(gateway, "/health/gateway/")
    assert response.status == 200
    assert json.loads(data)["status"] == "ok"


def test_an_unknown_api_path_is_a_json_404_not_the_app(gateway):
    response, data = _get(gateway, "/api/v2/nothing/")
    assert response.status == 404
    assert json.loads(data)["error"]["code"] == "not_found"


def test_the_client_address_is_set_at_the_edge_and_never_taken_from_the_client(gateway):
    _, data = _get(gateway, "/api/v1/users/me/", headers={"X-Forwarded-For": "203.0.113.9"})
    headers = json.loads(data)["headers"]
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"


def test_the_service_credential_header_never_passes_the_gateway(gateway):
    _, data = _get(gateway, "/api/v1/teams/", headers={"X-TeamMoa-Service-Token": "guess"})
    assert "x-teammoa-service-token" not in json.loads(data)["headers"]


def test_a_request_id_is_made_when_absent_and_kept_when_given(gateway):
    response, data = _get(gateway, "/api/v1/teams/")
    made = response.getheader("X-Request-ID")
    assert len(made) == 32 and made == json.loads(data)["headers"]["x-request-id"]
    assert response.msg.get_all("X-Request-ID") == [made]  # the service's own copy is not repeated
    response, data = _get(gateway, "/api/v1/teams/", headers={"X-Request-ID": "client-trace.42"})
    assert response.getheader("X-Request-ID") == "client-trace.42"
    assert json.loads(data)["headers"]["x-request-id"] == "client-trace.42"
    response, data = _get(gateway, "/api/v1/teams/", headers={"X-Request-ID": "bad id with spaces"})
    assert response.getheader("X-Request-ID") != "bad id with spaces"


def test_a_websocket_upgrade_is_passed_to_realtime(gateway):
    _, data = _get(
        gateway,
        "/ws/",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZQ==",
        },
    )
    body = json.loads(data)
    assert body["upstream"] == "realtime"
    assert body["headers"]["upgrade"] == "websocket"
    assert body["headers"]["connection"] == "upgrade"


def test_plain_requests_keep_upstream_connections_alive(gateway):
    _, data = _get(gateway, "/api/v1/users/me/")
    assert "connection" not in json.loads(data)["headers"]  # no "close": nginx may reuse it


def test_the_app_is_served_with_security_headers_and_a_spa_fallback(gateway):
    index, body = _get(gateway, "/")
    page, page_body = _get(gateway, "/teams/7/board")
    assert index.status == page.status == 200
    assert body == page_body and b"TeamMoa" in body
    for response in (index, page):
        assert response.getheader("Content-Security-Policy").startswith("default-src 'self'; script-src 'self';")
        assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy")
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert response.getheader("X-Frame-Options") == "DENY"
        assert response.getheader("Referrer-Policy") == "same-origin"
        assert response.getheader("Cache-Control") == "no-cache"
    assert _get(gateway, "/js/missing.js")[0].status == 404


def test_modules_revalidate_and_hashed_files_are_cached_for_good(gateway):
    module, _ = _get(gateway, "/js/app.js")
    assert module.getheader("Cache-Control") == "no-cache" and module.getheader("ETag")
    assert _get(gateway, "/js/app.0123abcd.js")[0].getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert _get(gateway, "/logo.png")[0].getheader("Cache-Control") == "public, max-age=86400"
    assert _get(gateway, "/api/v1/teams/")[0].getheader("Cache-Control") is None


def test_an_upload_over_the_limit_is_refused_with_the_error_envelope(gateway):
    conn = http.client.HTTPConnection("127.0.0.1", gateway["port"], timeout=5)
    conn.putrequest("POST", "/api/v1/teams/1/posts/1/files/")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(22 * 1024 * 1024))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "payload_too_large"
    conn.close()


def test_an_upload_at_the_limit_passes(gateway):
    body = b"x" * (20 * 1024 * 1024 + 64 * 1024)
    response, data = _get(
        gateway,
        "/api/v1/teams/1/posts/1/files/",
        method="POST",
        body=body,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status == 200 and json.loads(data)["upstream"].startswith("teams")


def test_every_request_is_logged_as_one_json_line_without_its_query(gateway):
    _get(gateway, "/api/v1/users/verify-email/?token=secret-token", headers={"X-Request-ID": "log-check-1"})
    time.sleep(0.1)
    lines = [json.loads(line) for line in (gateway["dir"] / "access.log").read_text().splitlines()]
    entry = next(line for line in lines if line["request_id"] == "log-check-1")
    assert entry["path"] == "/api/v1/users/verify-email/" and entry["status"] == 200
    assert "secret-token" not in (gateway["dir"] / "access.log").read_text()
