"""The shipped monitoring, checked offline with Debian's promtool: the generated rules and dashboards
are what deploy/monitoring/generate.py makes, the Prometheus configs and rules are valid, every alert
has unit tests that see it fire and see it stay quiet, those tests pass and can fail, and
docs/operations.md has a runbook line for every alert. The live side is tests/e2e/test_monitoring.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import yaml

from .promql import DASHBOARDS, MONITORING, ROOT, alert_rules, metric_names, recorded_names, rule_groups, tool

UNIT_TESTS = (MONITORING / "tests" / "alerts.test.yml", MONITORING / "tests" / "alerts-long.test.yml")


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=MONITORING, capture_output=True, text=True, timeout=120)


def test_the_generated_rules_dashboards_and_unit_tests_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(MONITORING / "generate.py"), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_compose_config_and_its_rules():
    result = _run(tool("promtool"), "check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout


def test_promtool_accepts_the_rules():
    result = _run(tool("promtool"), "check", "rules", "rules/recording.yml", "rules/alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_that_fires_and_one_that_stays_quiet():
    tests = [case for path in UNIT_TESTS for case in yaml.safe_load(path.read_text())["tests"]]
    fires, quiet = set(), set()
    for case in tests:
        for check in case["alert_rule_test"]:
            (fires if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names and names <= fires, f"no firing test for {sorted(names - fires)}"
    assert names <= quiet, f"no quiet test for {sorted(names - quiet)}"


def test_the_alert_unit_tests_pass_in_promtool():
    result = _run(tool("promtool"), "test", "rules", *(str(path.relative_to(MONITORING)) for path in UNIT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(UNIT_TESTS)


def test_the_unit_tests_catch_an_alert_that_would_never_fire(tmp_path):
    """The same tests against rules where instance-down looks for the wrong value: they must fail."""
    shutil.copytree(MONITORING / "rules", tmp_path / "rules")
    shutil.copytree(MONITORING / "tests", tmp_path / "tests")
    alerts = tmp_path / "rules" / "alerts.yml"
    text = alerts.read_text()
    broken = text.replace('up{job=~"auth|teams|schedule|realtime"} == 0', 'up{job=~"auth|teams|schedule|realtime"} == 2')
    assert broken != text
    alerts.write_text(broken)
    result = subprocess.run(
        [tool("promtool"), "test", "rules", "tests/alerts.test.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "TeamMoaInstanceDown fires" in result.stdout + result.stderr


def test_every_alert_says_how_bad_it_is_and_what_to_do():
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["runbook"], rule["alert"]
        assert rule["for"], rule["alert"]


def test_docs_operations_has_a_runbook_line_for_every_alert():
    text = (ROOT / "docs" / "operations.md").read_text()
    for rule in alert_rules():
        assert f"`{rule['alert']}`" in text, f"docs/operations.md does not mention {rule['alert']}"
        assert rule["annotations"]["runbook"] in text, f"docs/operations.md lacks the runbook of {rule['alert']}"


def test_the_rules_read_only_recorded_series_they_define_or_scraped_metrics():
    recorded = recorded_names()
    for group in rule_groups():
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                assert not name.startswith(("job:", "job_")) or name in recorded, f"{name} is not recorded anywhere"


def test_the_dashboards_are_grafana_json_with_unique_ids_and_queries():
    assert {path.stem for path in DASHBOARDS} == {"overview", "service", "realtime"}
    uids = set()
    recorded = recorded_names()
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        assert board["uid"] not in uids
        uids.add(board["uid"])
        assert board["panels"], path.name
        for panel in board["panels"]:
            assert panel["targets"], f"{path.name}: {panel['title']} has no query"
            for target in panel["targets"]:
                for name in metric_names(target["expr"]):
                    assert ":" not in name or name in recorded, f"{path.name}: {name} is not a recording rule"


def test_the_metric_name_reader_finds_the_names_and_nothing_else():
    expr = (
        'histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket{route=~"/api/.*"}[5m])))'
        ' / on (job) group_left job:slo_latency_bad:ratio_rate5m > 1e3 and up{job="x"} == 0 or time() < 14 * 86400'
    )
    assert metric_names(expr) == {"http_request_duration_seconds_bucket", "job:slo_latency_bad:ratio_rate5m", "up"}


def test_the_kubernetes_scrape_config_passes_promtool_but_for_its_service_discovery(tmp_path):
    """Debian's Prometheus is built without Kubernetes service discovery: promtool checks the rest
    (relabelling included) with the pod discovery swapped for a static target."""
    config = yaml.safe_load((ROOT / "deploy" / "k8s" / "monitoring" / "prometheus.yml").read_text())
    pods = config["scrape_configs"][0]
    assert pods["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["teammoa"]}}]
    del pods["kubernetes_sd_configs"]
    pods["static_configs"] = [{"targets": ["10.0.0.1:8000"]}]
    config["rule_files"] = [str(MONITORING / "rules" / "*.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    targets = {target["target_label"] for target in pods["relabel_configs"] if "target_label" in target}
    assert {"job", "__address__", "__metrics_path__"} <= targets


def test_the_operator_rule_holds_exactly_the_shipped_rules():
    rule = yaml.safe_load((ROOT / "deploy" / "k8s" / "monitoring" / "prometheus-rule.yaml").read_text())
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == rule_groups()


def test_the_compose_monitoring_profiles_mount_the_shipped_config_and_dashboards():
    for path in (ROOT / "compose.yml", ROOT / "deploy" / "compose.prod.yml"):
        services = yaml.safe_load(path.read_text())["services"]
        for name in ("prometheus", "grafana", "mysqld-exporter", "redis-exporter", "nginx-exporter"):
            assert services[name]["profiles"] == ["monitoring"], (path.name, name)
        mounts = [volume.split(":")[:2] for volume in services["prometheus"]["volumes"]]
        source = next(src for src, dst in mounts if dst == "/etc/teammoa/monitoring")
        assert (path.parent / source / "prometheus.yml").resolve() == MONITORING / "prometheus.yml"
        for volume in services["grafana"]["volumes"]:
            assert (path.parent / volume.split(":")[0]).resolve().is_dir(), (path.name, volume)
