"""The Kubernetes manifests (deploy/k8s): rendered offline (deploy/k8s/render.py) for the base and
every overlay, validated against the Kubernetes API schemas of named versions, and held to the
project's own rules: probes, resources, security context, graceful rollouts, disruption budgets,
autoscalers, the Ingress's routes, and secrets that production refuses."""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from services.kit import serve
from services.kit.settings import SERVICES, ConfigurationError, Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
TARGETS = {"base": K8S / "base", "production": K8S / "overlays" / "production"}
OVERLAYS = ("production",)
KUBERNETES_VERSIONS = ("1.30", "1.37")  # the oldest release the manifests claim, the newest schemas at hand
PLACEHOLDER_TAG = "set-by-overlay"
AUTOSCALED = ("teams", "schedule", "realtime")

_spec = importlib.util.spec_from_file_location("k8s_render", K8S / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)


def _kubernetes_validate():
    """The schema validator; missing is a skip on a laptop and a failure in CI."""
    try:
        import kubernetes_validate
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("kubernetes-validate is not installed (requirements/dev.txt): CI must validate the manifests")
        pytest.skip("kubernetes-validate is not installed (pip install -r requirements/dev.txt)")
    return kubernetes_validate


@pytest.fixture(name="rendered", scope="module")
def fx_rendered() -> dict[str, list[dict]]:
    return {name: render.build(path) for name, path in TARGETS.items()}


@pytest.fixture(name="example_secret", scope="module")
def fx_example_secret() -> dict:
    return yaml.safe_load((K8S / "secret.example.yaml").read_text())


def objects_of(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects: list[dict], kind: str, name: str) -> dict:
    (found,) = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    return found


def pod_specs(objects: list[dict]):
    """(workload, pod spec) for every Deployment, Job and CronJob."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield obj, obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            yield obj, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(objects: list[dict]):
    for workload, pod in pod_specs(objects):
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            yield workload, pod, container


def image_name(image: str) -> str:
    """``ghcr.io/teammoa/teammoa-auth:1.2`` -> ``teammoa-auth``."""
    return image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


def graceful_shutdown_s(image: str) -> int:
    """How long the image's process drains after its stop signal, read from its own build files."""
    name = image_name(image)
    if name == "teammoa-gateway":
        text = (ROOT / "gateway" / "nginx" / "nginx.conf.template").read_text()
        return int(re.search(r"^\s*worker_shutdown_timeout\s+(\d+)s;", text, re.M).group(1))
    dockerfile = ROOT / "gateway" / "Dockerfile" if name == "teammoa-health" else ROOT / "services" / "Dockerfile"
    commands = re.findall(r"^CMD \[(.*?)\]$", dockerfile.read_text().replace("\\\n", ""), re.M)
    assert any('"python", "-m", "services.kit.serve"' in cmd for cmd in commands), "the image must run kit/serve.py"
    return serve.GRACEFUL_SHUTDOWN_S


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_every_manifest_validates_against_the_kubernetes_schemas(rendered, example_secret, target, version):
    validator = _kubernetes_validate()
    failures = []
    for obj in [*rendered[target], example_secret]:
        try:
            validator.validate(obj, version, strict=True)  # strict: an unknown or misspelt field fails
        except (validator.ValidationError, validator.SchemaNotFoundError) as exc:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {getattr(exc, 'message', exc)}")
    assert failures == []


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_has_cpu_and_memory_requests_within_limits(rendered, target):
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "": 1}

    def quantity(value) -> float:
        number, unit = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|)", str(value)).groups()
        return float(number) * units[unit]

    for workload, _, container in containers(rendered[target]):
        resources = container.get("resources", {})
        for resource in ("cpu", "memory"):
            request, limit = resources["requests"][resource], resources["limits"][resource]
            assert quantity(request) <= quantity(limit), (workload["metadata"]["name"], container["name"])


@pytest.mark.parametrize("target", TARGETS)
def test_every_deployment_container_has_readiness_and_liveness_probes(rendered, target):
    for deployment in objects_of(rendered[target], "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert "readinessProbe" in container and "livenessProbe" in container, container["name"]
            if image_name(container["image"]).removeprefix("teammoa-") in SERVICES:
                assert container["readinessProbe"]["httpGet"]["path"] == "/health"  # dependencies up
                assert container["livenessProbe"]["httpGet"]["path"] == "/livez"  # never asks MySQL or Redis
                assert container["startupProbe"]["httpGet"]["path"] == "/livez"


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_runs_unprivileged_on_a_read_only_root_filesystem(rendered, target):
    for workload, pod, container in containers(rendered[target]):
        where = f"{workload['metadata']['name']}/{container['name']}"
        merged = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
        assert merged.get("runAsNonRoot") is True, where
        assert merged.get("runAsUser", 1) != 0, where
        assert merged["seccompProfile"]["type"] == "RuntimeDefault", where
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["capabilities"]["drop"] == ["ALL"], where
        mounts = {mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts", [])}
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        writable = "/tmp/nginx" if image_name(container["image"]) == "teammoa-gateway" else "/tmp"
        assert "emptyDir" in volumes[mounts[writable]], f"{where}: {writable} must be a writable emptyDir"
        assert pod.get("automountServiceAccountToken") is False, where


@pytest.mark.parametrize("target", TARGETS)
def test_termination_grace_outlasts_the_prestop_delay_and_the_graceful_shutdown(rendered, target):
    for deployment in objects_of(rendered[target], "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"]:
            command = container["lifecycle"]["preStop"]["exec"]["command"]
            assert command[0] == "sleep", container["name"]
            needed = int(command[1]) + graceful_shutdown_s(container["image"])
            assert pod["terminationGracePeriodSeconds"] > needed, (deployment["metadata"]["name"], container["name"])
        strategy = deployment["spec"]["strategy"]["rollingUpdate"]
        assert strategy["maxUnavailable"] == 0, deployment["metadata"]["name"]


def test_graceful_shutdown_is_read_from_the_images(rendered):
    images = {
        image_name(c["image"]): graceful_shutdown_s(c["image"])
        for _, _, c in containers(rendered["base"])
        if image_name(c["image"]).startswith("teammoa-")  # not the backup job's mariadb client image
    }
    assert images["teammoa-auth"] == 5 and images["teammoa-realtime"] == 5
    assert images["teammoa-gateway"] >= 5


@pytest.mark.parametrize("target", TARGETS)
def test_image_tags_are_never_latest_or_missing(rendered, target):
    for workload, _, container in containers(rendered[target]):
        image = container["image"]
        name_and_tag = image.split("@")[0].rsplit("/", 1)[-1]
        assert "@sha256:" in image or ":" in name_and_tag, f"{workload['metadata']['name']}: {image} has no tag"
        assert not image.endswith(":latest"), image
        if target in OVERLAYS:
            assert PLACEHOLDER_TAG not in image, f"the overlay {target} leaves {image} untagged"


@pytest.mark.parametrize("target", TARGETS)
def test_every_deployment_has_one_disruption_budget_and_two_pods_at_least(rendered, target):
    objects = rendered[target]
    budgets = objects_of(objects, "PodDisruptionBudget")
    scalers = {hpa["spec"]["scaleTargetRef"]["name"]: hpa for hpa in objects_of(objects, "HorizontalPodAutoscaler")}
    for deployment in objects_of(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [pdb for pdb in budgets if pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, deployment["metadata"]["name"]
        name = deployment["metadata"]["name"]
        replicas = scalers[name]["spec"]["minReplicas"] if name in scalers else deployment["spec"]["replicas"]
        assert replicas >= 2, f"{name}: a budget of one pod cannot keep it up through a drain"


@pytest.mark.parametrize("target", TARGETS)
def test_teams_schedule_and_realtime_scale_with_an_autoscaler(rendered, target):
    objects = rendered[target]
    scalers = {hpa["spec"]["scaleTargetRef"]["name"]: hpa for hpa in objects_of(objects, "HorizontalPodAutoscaler")}
    assert set(AUTOSCALED) <= set(scalers)
    for name in AUTOSCALED:
        assert scalers[name]["apiVersion"] == "autoscaling/v2"
        assert scalers[name]["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert "replicas" not in one(objects, "Deployment", name)["spec"], f"{name}: an apply would undo the HPA"


def ingress_route(objects: list[dict], path: str) -> str:
    """The Service ingress-nginx sends ``path`` to: with use-regex every path of the host is an
    anchored, case-insensitive regex, tried longest first."""
    candidates = []
    for ingress in objects_of(objects, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for item in rule["http"]["paths"]:
                candidates.append((item["path"], item["backend"]["service"]["name"]))
    for pattern, service in sorted(candidates, key=lambda c: len(c[0]), reverse=True):
        if re.match(pattern, path, re.IGNORECASE):
            return service
    return "default-backend"


ROUTES = {
    "/api/v1/users/login/": "auth",
    "/api/v1/users/me": "auth",
    "/.well-known/jwks.json": "auth",
    "/api/v1/teams/12/schedules/": "schedule",
    "/api/v1/teams/12/schedules/export.ics": "schedule",
    "/api/v1/schedules/openapi.json": "schedule",
    "/api/v1/teams/": "teams",
    "/api/v1/teams/12/todos/": "teams",
    "/api/v1/teams/openapi.json": "teams",
    "/api/v1/teams/12/schedulesx/": "teams",
    "/api/v1/teams/abc/schedules/": "schedule",
    "/api/v1/schedules": "schedule",
    "/api/v1/schedulesx": "gateway",
    "/ws/": "realtime",
    "/ws": "realtime",
    "/": "gateway",
    "/teams/12/schedule": "gateway",
    "/health/": "gateway",
    "/js/app.js": "gateway",
    "/internal/users/batch": "gateway",
    "/internal/teams/1/members/": "gateway",
    "/metrics": "gateway",
}


@pytest.mark.parametrize("target", TARGETS)
def test_the_ingress_routes_as_the_gateway_does(rendered, target):
    objects = rendered[target]
    assert {path: ingress_route(objects, path) for path in ROUTES} == ROUTES
    for ingress in objects_of(objects, "Ingress"):
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/use-regex"] == "true"  # one Ingress with it makes all regex
        for rule in ingress["spec"]["rules"]:
            for item in rule["http"]["paths"]:
                assert not re.match(r"/(internal|metrics)", item["path"]), item["path"]
                if re.search(r"[\[\]()+*?^$|\\]", item["path"]):
                    assert item["pathType"] == "ImplementationSpecific", item["path"]
    assert (
        one(objects, "Ingress", "teammoa")["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "21m"
    )
    ws = one(objects, "Ingress", "teammoa-ws")["metadata"]["annotations"]
    assert int(ws["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(ws["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600


def test_what_the_ingress_leaves_to_the_gateway_the_gateway_refuses():
    routes = (ROOT / "gateway" / "nginx" / "routes.conf").read_text()
    for prefix in ("/internal", "/metrics"):
        assert re.search(rf"location \^~ {prefix} {{\s*default_type application/json;\s*return 404", routes), prefix


def production_environ(objects: list[dict], secret: dict) -> dict[str, str]:
    return {**one(objects, "ConfigMap", "teammoa-config")["data"], **secret["stringData"]}


@pytest.mark.parametrize("target", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_production_refuses_the_example_secret(rendered, example_secret, target, service, tmp_path):
    environ = {**production_environ(rendered[target], example_secret), "TEAMMOA_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigurationError, match="TEAMMOA_SERVICE_TOKEN"):
        Settings(service, environ).check()
    environ["TEAMMOA_SERVICE_TOKEN"] = secrets.token_urlsafe(48)  # the placeholder is all that stood in the way
    settings = Settings(service, environ)
    settings.check()
    assert settings.mode == "production" and settings.cookie_secure and not settings.auto_migrate


@pytest.mark.parametrize("target", TARGETS)
def test_secrets_come_only_from_the_secret_the_example_describes(rendered, example_secret, target):
    objects = rendered[target]
    assert objects_of(objects, "Secret") == []  # never in a kustomization: a deploy must not overwrite it
    config = one(objects, "ConfigMap", "teammoa-config")["data"]
    assert not [key for key in config if re.search(r"TOKEN|PASSWORD|SECRET", key)]
    assert not [value for value in config.values() if re.search(r"://[^/@]*:[^/@]*@", value)]  # no password in a URL
    for workload, _, container in containers(objects):
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == example_secret["metadata"]["name"], workload["metadata"]["name"]
                assert ref["key"] in example_secret["stringData"], (workload["metadata"]["name"], ref["key"])
    assert all("CHANGE-ME" in value for value in example_secret["stringData"].values())


@pytest.mark.parametrize("target", TARGETS)
def test_migrations_run_in_a_job_of_each_service_image_before_the_rollout(rendered, target):
    objects = rendered[target]
    job = one(objects, "Job", "teammoa-migrate")
    assert job["metadata"]["labels"]["teammoa/stage"] == "migrate"
    assert [
        obj["metadata"]["name"] for obj in objects if obj["metadata"].get("labels", {}).get("teammoa/stage") == "migrate"
    ] == ["teammoa-migrate"]
    commands = {image_name(c["image"]): c["command"] for c in job["spec"]["template"]["spec"]["containers"]}
    assert commands == {
        f"teammoa-{svc}": ["python", "-m", "services.kit.migrate", svc] for svc in ("auth", "teams", "schedule")
    }
    assert one(objects, "ConfigMap", "teammoa-config")["data"]["TEAMMOA_AUTO_MIGRATE"] == "false"


@pytest.mark.parametrize("target", TARGETS)
def test_the_purge_runs_as_a_cronjob_that_never_overlaps(rendered, target):
    cron = one(rendered[target], "CronJob", "auth-purge-unverified")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert image_name(container["image"]) == "teammoa-auth"
    assert container["command"] == ["python", "-m", "services.auth", "purge-unverified"]


@pytest.mark.parametrize("target", TARGETS)
def test_the_backup_cronjob_dumps_every_database_and_the_files_without_overlapping(rendered, target):
    objects = rendered[target]
    cron = one(objects, "CronJob", "teammoa-backup")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    script = container["command"][-1]
    for database in ("auth", "teams", "schedule"):
        assert database in script
    assert "--single-transaction" in script and "tar -C /data/files" in script
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    assert claims == {"files": "teams-files", "backups": "teammoa-backups"}
    assert {"name": "files", "mountPath": "/data/files", "readOnly": True} in container["volumeMounts"]
    one(objects, "PersistentVolumeClaim", "teammoa-backups")


@pytest.mark.parametrize("target", TARGETS)
def test_every_service_pod_asks_to_be_scraped_on_its_metrics_port(rendered, target):
    for name in ("auth", "teams", "schedule", "realtime"):
        annotations = one(rendered[target], "Deployment", name)["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "8000",
            "prometheus.io/path": "/metrics",
        }


@pytest.mark.parametrize("target", TARGETS)
def test_mysql_and_redis_are_external_and_teams_files_are_shared(rendered, target):
    objects = rendered[target]
    assert objects_of(objects, "StatefulSet") == []
    for name in ("mysql", "redis"):
        assert one(objects, "Service", name)["spec"]["type"] == "ExternalName"
    claim = one(objects, "PersistentVolumeClaim", "teams-files")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    pod = one(objects, "Deployment", "teams")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    files_dir = {env["name"]: env.get("value") for env in container["env"]}["TEAMMOA_FILES_DIR"]
    volume = next(v["name"] for v in pod["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") == "teams-files")
    assert {"name": volume, "mountPath": files_dir} in container["volumeMounts"]


def test_the_renderer_merges_patches_as_kustomize_does():
    base = {"spec": {"containers": [{"name": "a", "env": [{"name": "X", "value": "1"}]}], "keep": 1, "drop": 2}}
    patch = {"spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]}], "drop": None}}
    assert render.merge(base, patch) == {
        "spec": {"containers": [{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}], "keep": 1}
    }
    doc = {"spec": {"rules": [{"host": "a"}], "tls": [{"hosts": ["a"]}]}}
    assert render.json6902(
        doc,
        [
            {"op": "replace", "path": "/spec/rules/0/host", "value": "b"},
            {"op": "add", "path": "/spec/tls/0/hosts/-", "value": "c"},
        ],
    ) == {"spec": {"rules": [{"host": "b"}], "tls": [{"hosts": ["a", "c"]}]}}
    with pytest.raises(render.RenderError):
        render.json6902(doc, [{"op": "replace", "path": "/spec/nothing", "value": 1}])


@pytest.mark.parametrize("target", TARGETS)
def test_the_offline_render_equals_kubectl_kustomize_where_kubectl_exists(rendered, target):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl here: the offline render is checked by the rules above only")
    built = subprocess.run([kubectl, "kustomize", str(TARGETS[target])], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    by_identity = {(obj["kind"], obj["metadata"]["name"]): obj for obj in yaml.safe_load_all(built.stdout) if obj}
    assert by_identity == {(obj["kind"], obj["metadata"]["name"]): obj for obj in rendered[target]}


def test_the_renderer_refuses_what_it_cannot_render(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: []\ncommonLabels: {a: b}\n")
    with pytest.raises(render.RenderError, match="commonLabels"):
        render.build(tmp_path)


FAKE_KUBECTL = """#!/usr/bin/env bash
echo "$*" >> "$KUBECTL_LOG"
case "$*" in
  *"get job teammoa-migrate"*) echo "$MIGRATION_STATE" ;;
esac
"""


@pytest.fixture(name="fake_kubectl")
def fx_fake_kubectl(tmp_path) -> tuple[Path, Path]:
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    return kubectl, tmp_path / "calls.log"


def run_deploy(fake_kubectl, state: str, **extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    kubectl, log = fake_kubectl
    env = {**os.environ, "KUBECTL": str(kubectl), "KUBECTL_LOG": str(log), "MIGRATION_STATE": state, **extra}
    result = subprocess.run(["bash", str(K8S / "deploy.sh")], env=env, capture_output=True, text=True, timeout=30)
    return result, log.read_text().splitlines()


def test_deploy_migrates_before_it_rolls_out(fake_kubectl):
    result, calls = run_deploy(fake_kubectl, "SuccessCriteriaMet Complete")
    assert result.returncode == 0, result.stderr
    steps = [
        next(n for n, call in enumerate(calls) if marker in call)
        for marker in (
            "-l teammoa/stage=prepare",
            "delete job teammoa-migrate",
            "-l teammoa/stage=migrate",
            "get job teammoa-migrate",
            "-l teammoa/stage!=migrate",
            "rollout status deployment/realtime",
        )
    ]
    assert steps == sorted(steps)


def test_deploy_rolls_nothing_out_when_the_migrations_fail(fake_kubectl):
    result, calls = run_deploy(fake_kubectl, "FailureTarget Failed")
    assert result.returncode == 1
    assert "migrations did not complete" in result.stderr
    assert not [call for call in calls if "stage!=migrate" in call or "rollout" in call]


def test_a_rollback_past_a_migration_can_skip_the_migrations(fake_kubectl):
    result, calls = run_deploy(fake_kubectl, "", TEAMMOA_SKIP_MIGRATIONS="true")
    assert result.returncode == 0, result.stderr
    assert not [call for call in calls if "migrate" in call and "stage!=migrate" not in call]
    assert any("-l teammoa/stage!=migrate" in call for call in calls)
