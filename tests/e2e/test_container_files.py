"""The container, compose and CI files, checked statically (no Docker engine here): compose files
against the Compose Specification and against each other, Dockerfiles with hadolint and the
project's image rules, workflows for the jobs they must have, env.example for every variable."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.kit import serve
from services.kit.settings import SERVICES, SERVICES_WITH_DATABASE

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPOSE_FILES = (ROOT / "compose.yml", ROOT / "deploy" / "compose.prod.yml")
SERVICE_DOCKERFILE = ROOT / "services" / "Dockerfile"  # one file, an image per service (--build-arg SERVICE)
DOCKERFILES = (SERVICE_DOCKERFILE, ROOT / "gateway" / "Dockerfile")
WORKFLOWS = ROOT / ".github" / "workflows"
IMAGES = {*SERVICES, "gateway"}


def _tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or pytest.fail(f"{name} is not installed"))


def _compose(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _on(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True


def test_the_compose_files_follow_the_compose_specification():
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", *map(str, COMPOSE_FILES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_schema_check_catches_a_mistake(tmp_path):
    broken = tmp_path / "compose.yml"
    broken.write_text("services:\n  auth:\n    image: teammoa-auth\n    depends_on: {redis: {condition: sometimes}}\n")
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_references_resolve(path):
    doc = _compose(path)
    services, volumes, networks = doc["services"], doc.get("volumes") or {}, doc.get("networks") or {}
    for name, service in services.items():
        for target in service.get("depends_on") or {}:
            assert target in services, f"{name} depends on unknown service {target}"
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source", "")
            if source and not source.startswith(("/", ".", "$", "~")):
                assert source in volumes, f"{name} mounts undeclared volume {source}"
        attached = service.get("networks") or []
        for network in attached if isinstance(attached, list) else list(attached):
            assert network in networks, f"{name} joins undeclared network {network}"
        build = service.get("build")
        if isinstance(build, dict):
            assert (path.parent / build.get("context", ".") / build["dockerfile"]).exists() or (
                ROOT / build["dockerfile"]
            ).exists(), f"{name}: no {build['dockerfile']}"


def test_development_services_start_after_their_own_migration_completed():
    services = _compose(ROOT / "compose.yml")["services"]
    for svc in ("auth", "teams", "schedule"):
        migrate = services[f"migrate-{svc}"]
        assert migrate["command"] == ["python", "-m", "services.kit.migrate", svc]
        assert services[svc]["depends_on"][f"migrate-{svc}"] == {"condition": "service_completed_successfully"}
        assert migrate["image"] == services[svc]["image"]
    assert set(services["gateway"]["depends_on"]) >= set(SERVICES)


def test_production_hosts_never_migrate_by_themselves():
    services = _compose(ROOT / "deploy" / "compose.prod.yml")["services"]
    for svc in ("auth", "teams", "schedule"):
        assert services[f"migrate-{svc}"]["profiles"] == ["migrate"]
    for name, service in services.items():
        assert not any(target.startswith("migrate-") for target in service.get("depends_on") or {}), name
    assert services["gateway"]["command"] == ["-c", "/etc/teammoa/nginx/tls/nginx.conf"]


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_the_gateway_is_the_only_trusted_proxy(path):
    doc = _compose(path)
    gateway_ip = doc["services"]["gateway"]["networks"]["backend"]["ipv4_address"]
    text = path.read_text()
    assert f"FORWARDED_ALLOW_IPS: {gateway_ip}" in text
    assert not re.search(r"FORWARDED_ALLOW_IPS: ['\"]?\*", text)


def test_the_dockerfiles_pass_hadolint():
    result = subprocess.run([_tool("hadolint"), *map(str, DOCKERFILES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_service_image_is_multi_stage_non_root_health_checked_and_holds_only_kit_and_itself():
    text = SERVICE_DOCKERFILE.read_text()
    assert len(re.findall(r"^FROM python:3\.11-slim AS ", text, re.M)) == 2
    copied = {line.split()[1] for line in text.splitlines() if line.startswith("COPY ") and "--from" not in line}
    assert copied == {"requirements/app.txt", "services/__init__.py", "services/kit", "services/${SERVICE}"}
    assert re.search(r"^ARG SERVICE$", text, re.M) and "SERVICE=${SERVICE}" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*urllib\.request\.urlopen\('http://127\.0\.0\.1:8000/health'", text, re.M)
    assert re.search(r'^CMD \["python", "-m", "services\.kit\.serve"\]$', text, re.M)


@pytest.mark.parametrize("svc", SERVICES)
def test_every_service_runs_with_the_one_uvicorn_command_line(svc):
    args = serve.uvicorn_args(svc)
    assert args[:2] == [f"services.{svc}.app:create_app", "--factory"]
    assert "--proxy-headers" in args and args[args.index("--timeout-graceful-shutdown") + 1] == "5"
    assert args[args.index("--ws-per-message-deflate") + 1] == "false"
    assert serve.uvicorn_args(svc, extra=["--port", "9"])[-2:] == ["--port", "9"]  # extra options win (last)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_builds_every_service_image_from_the_one_dockerfile(path):
    for name, service in _compose(path)["services"].items():
        build = service.get("build")
        if isinstance(build, dict) and build["dockerfile"] == "services/Dockerfile":
            assert build["args"]["SERVICE"] in SERVICES, name


def test_the_gateway_image_renders_both_variants_and_runs_unprivileged():
    text = (ROOT / "gateway" / "Dockerfile").read_text()
    assert "render.py --out /out/plain" in text and "render.py --tls --out /out/tls" in text
    assert re.search(r"^USER 101:101", text, re.M) and "COPY gateway/web /usr/share/teammoa/web" in text


def test_ci_lints_and_tests_with_mariadb_redis_and_chromium():
    ci = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    assert {"push", "pull_request", "workflow_call"} <= set(_on(ci))
    assert set(ci["jobs"]) == {"lint", "test"}
    test = ci["jobs"]["test"]
    assert set(test["services"]) == {"mariadb", "redis"}
    steps = "\n".join(str(step.get("run", "")) for step in test["steps"])
    assert "chromium" in steps and "nginx" in steps and "pytest" in steps
    lint = "\n".join(str(step.get("run", "")) for step in ci["jobs"]["lint"]["steps"])
    assert "ruff check" in lint and "hadolint" in lint and "check-jsonschema" in lint


def test_deploy_builds_only_what_changed_and_rolls_out_one_host_at_a_time():
    deploy = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    jobs = deploy["jobs"]
    assert set(jobs) == {"ci", "changes", "build", "migrate", "rollout"}
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    filters = yaml.safe_load(next(s for s in jobs["changes"]["steps"] if s.get("id") == "filter")["with"]["filters"])
    assert set(filters) == IMAGES
    for image, patterns in filters.items():
        for pattern in patterns:
            assert (ROOT / pattern.split("*")[0].rstrip("/")).exists(), f"{image}: {pattern} matches nothing"
    assert "fromJSON(needs.changes.outputs.images)" in jobs["build"]["strategy"]["matrix"]["image"]
    assert set(jobs["build"]["needs"]) == {"ci", "changes"}
    assert jobs["migrate"]["needs"] == ["changes", "build"]
    rollout = jobs["rollout"]
    assert rollout["needs"] == ["changes", "migrate"]
    assert rollout["strategy"]["max-parallel"] == 1 and rollout["strategy"]["fail-fast"] is True
    assert "rollout.sh update" in rollout["steps"][-1]["run"]


def _rollout(tmp_path: Path, *args: str, healthy: bool) -> subprocess.CompletedProcess:
    """Run deploy/rollout.sh from a copy of the deploy folder, with fake docker and curl on PATH."""
    (tmp_path / "deploy").mkdir(exist_ok=True)
    shutil.copy(ROOT / "deploy" / "rollout.sh", tmp_path / "deploy" / "rollout.sh")
    fakes = tmp_path / "bin"
    fakes.mkdir(exist_ok=True)
    (fakes / "docker").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/docker.log\n')
    (fakes / "curl").write_text(f"#!/bin/sh\nexit {0 if healthy else 22}\n")
    for fake in fakes.iterdir():
        fake.chmod(0o755)
    env = {"PATH": f"{fakes}:/usr/bin:/bin", "TEAMMOA_HEALTH_WAIT_S": "1"}
    return subprocess.run(
        ["bash", str(tmp_path / "deploy" / "rollout.sh"), *args], env=env, capture_output=True, text=True, timeout=30
    )


def test_a_rollout_switches_the_changed_images_and_passes_the_health_gate(tmp_path):
    (tmp_path / "tags.env").write_text("TEAMMOA_AUTH_TAG=old\nTEAMMOA_SCHEDULE_TAG=kept\n")
    result = _rollout(tmp_path, "update", "abc123", "auth", "gateway", healthy=True)
    assert result.returncode == 0, result.stderr
    tags = (tmp_path / "tags.env").read_text()
    assert "TEAMMOA_AUTH_TAG=abc123" in tags and "TEAMMOA_GATEWAY_TAG=abc123" in tags
    assert "TEAMMOA_SCHEDULE_TAG=kept" in tags and "old" not in tags
    calls = (tmp_path / "docker.log").read_text().splitlines()
    assert calls[-1].endswith("up -d --no-deps auth health gateway")  # a new gateway needs no reload


def test_a_rollout_of_a_service_reloads_the_gateway_to_resolve_its_new_containers(tmp_path):
    (tmp_path / "tags.env").write_text("")
    assert _rollout(tmp_path, "update", "abc123", "realtime", healthy=True).returncode == 0
    calls = (tmp_path / "docker.log").read_text().splitlines()
    assert calls[-2].endswith("up -d --no-deps realtime") and calls[-1].endswith("kill -s HUP gateway")


def test_a_rollout_that_fails_its_health_gate_puts_the_previous_version_back(tmp_path):
    (tmp_path / "tags.env").write_text("TEAMMOA_TEAMS_TAG=old\n")
    result = _rollout(tmp_path, "update", "abc123", "teams", healthy=False)
    assert result.returncode == 1
    assert (tmp_path / "tags.env").read_text() == "TEAMMOA_TEAMS_TAG=old\n"
    calls = (tmp_path / "docker.log").read_text().splitlines()
    assert calls[-2].endswith("up -d --no-deps teams") and calls[-1].endswith("kill -s HUP gateway")


def test_migrations_run_once_for_the_images_that_own_a_database(tmp_path):
    (tmp_path / "tags.env").write_text("")
    result = _rollout(tmp_path, "migrate", "abc123", "auth", "realtime", "gateway", healthy=True)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "docker.log").read_text().splitlines()
    assert len(calls) == 1 and calls[0].endswith("--profile migrate run --rm migrate-auth")


def _variables_read() -> set[str]:
    names = set()
    for folder in ("services", "gateway"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"TEAMMOA_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    names |= {f"TEAMMOA_{svc.upper()}_URL" for svc in SERVICES}
    names |= {f"TEAMMOA_{svc.upper()}_DATABASE_URL" for svc in SERVICES_WITH_DATABASE}
    return names


def test_env_example_documents_every_variable_the_code_reads():
    documented = set(re.findall(r"^(TEAMMOA_[A-Z0-9_]+)=", (ROOT / "deploy" / "env.example").read_text(), re.M))
    assert not _variables_read() - documented, "add these to deploy/env.example"
