"""Generate TeamMoa's Prometheus rules and Grafana dashboards from one description (this file).

    python deploy/monitoring/generate.py           write rules/*.yml and grafana/dashboards/*.json
    python deploy/monitoring/generate.py --check   exit 1 when a written file differs from what this generates

The SLOs, the recording rules, the multi-window burn-rate alerts and the other alerts live here, so
the rules, the dashboards and docs/operations.md use the same names. The tests (tests/monitoring)
run ``--check``, ``promtool check rules`` and ``promtool test rules`` on the output, and compare every
metric named in a rule or dashboard with a live scrape of the local stack.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
RULES_DIR = HERE / "rules"
DASHBOARDS_DIR = HERE / "grafana" / "dashboards"

SERVICES = ("auth", "teams", "schedule", "realtime")  # Prometheus job = service name
API_SERVICES = ("auth", "teams", "schedule")  # those with an HTTP API the SLOs cover
SERVICE_JOBS = "|".join(SERVICES)
API = 'job=~"auth|teams|schedule",route=~"/api/.*"'  # API requests (not /health, /metrics, /livez)
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@dataclass(frozen=True)
class Slo:
    name: str  # availability | latency
    objective: float  # the fraction of good events
    description: str
    bad_ratio: str  # PromQL of the bad events' ratio over a window: {w} is replaced

    @property
    def budget(self) -> float:
        return round(1 - self.objective, 6)

    def record(self, window: str) -> str:
        return f"job:slo_{self.name}_bad:ratio_rate{window}"


SLOS = (
    Slo(
        name="availability",
        objective=0.999,
        description="99.9 % of API requests of auth, teams and schedule answer without a 5xx (30 days)",
        bad_ratio=(
            f'sum by (job) (rate(http_requests_total{{{API},status=~"5.."}}[{{w}}]))'
            f" / sum by (job) (rate(http_requests_total{{{API}}}[{{w}}]))"
        ),
    ),
    Slo(
        name="latency",
        objective=0.99,
        description="99 % of API reads (GET) of auth, teams and schedule answer within 200 ms (30 days)",
        bad_ratio=(
            f'1 - sum by (job) (rate(http_request_duration_seconds_bucket{{{API},method="GET",le="0.2"}}[{{w}}]))'
            f' / sum by (job) (rate(http_request_duration_seconds_count{{{API},method="GET"}}[{{w}}]))'
        ),
    ),
)

# Multi-window, multi-burn-rate alerts (Google SRE workbook, chapter 5): (long window, short window,
# burn rate). A 14.4x burn spends 2 % of a 30-day budget in an hour; 6x spends 5 % in six hours;
# 3x and 1x are the slow leaks a ticket is enough for.
FAST_BURN = (("1h", "5m", 14.4), ("6h", "30m", 6))
SLOW_BURN = (("1d", "2h", 3), ("3d", "6h", 1))


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    duration: str
    severity: str  # page: act now; ticket: act within the working day
    summary: str
    runbook: str  # what to do, one line (docs/operations.md prints it)

    def rule(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.duration,
            "labels": {"severity": self.severity},
            "annotations": {
                "summary": self.summary,
                "runbook": self.runbook,
                "runbook_url": f"docs/operations.md#{self.name.lower()}",
            },
        }


def burn_expr(slo: Slo, windows: tuple[tuple[str, str, float], ...]) -> str:
    parts = [
        f"({slo.record(long)} > ({rate} * {slo.budget}) and {slo.record(short)} > ({rate} * {slo.budget}))"
        for long, short, rate in windows
    ]
    return " or ".join(parts)


def burn_alerts() -> list[Alert]:
    alerts = []
    for slo in SLOS:
        title = slo.name.capitalize()
        alerts.append(
            Alert(
                name=f"TeamMoa{title}BudgetFastBurn",
                expr=burn_expr(slo, FAST_BURN),
                duration="2m",
                severity="page",
                summary=f"{{{{ $labels.job }}}} burns its {slo.name} error budget fast ({slo.description})",
                runbook=(
                    "Open the service dashboard: which routes fail or are slow, since when; check the instances' logs "
                    "(request ids), the dependencies' alerts and the last deploy — roll back a bad release first."
                ),
            )
        )
        alerts.append(
            Alert(
                name=f"TeamMoa{title}BudgetSlowBurn",
                expr=burn_expr(slo, SLOW_BURN),
                duration="15m",
                severity="ticket",
                summary=f"{{{{ $labels.job }}}} spends its {slo.name} error budget faster than it lasts",
                runbook=(
                    "A slow leak: find the routes with the highest error ratio or p99 on the service dashboard "
                    "over the last days and fix or capacity-plan within the week."
                ),
            )
        )
    return alerts


OTHER_ALERTS = (
    Alert(
        name="TeamMoaInstanceDown",
        expr=f'up{{job=~"{SERVICE_JOBS}"}} == 0',
        duration="1m",
        severity="ticket",
        summary="{{ $labels.job }} instance {{ $labels.instance }} does not answer its /metrics",
        runbook=(
            "The others carry the load: read the instance's log for why it exited or hangs; restart it "
            "(`make stack-restart`, `docker compose restart`, or let Kubernetes replace the pod)."
        ),
    ),
    Alert(
        name="TeamMoaServiceDown",
        expr=f'sum by (job) (up{{job=~"{SERVICE_JOBS}"}}) == 0',
        duration="1m",
        severity="page",
        summary="every instance of {{ $labels.job }} is down",
        runbook=(
            "Users see errors now: check the instances' logs and the database/Redis alerts; roll back the last "
            "release if it started with it; start the instances again."
        ),
    ),
    Alert(
        name="TeamMoaGatewayDown",
        expr='nginx_up == 0 or up{job="nginx"} == 0',
        duration="1m",
        severity="page",
        summary="the Nginx gateway {{ $labels.instance }} does not answer its status page",
        runbook="Nothing reaches the services through this gateway: `nginx -t` the config, read its error log, restart it.",
    ),
    Alert(
        name="TeamMoaDatabaseDown",
        expr='mysql_up == 0 or up{job="mysqld"} == 0',
        duration="1m",
        severity="page",
        summary="MariaDB {{ $labels.instance }} is unreachable",
        runbook=(
            "auth, teams and schedule answer 503: check mariadbd (disk full? crashed? `journalctl -u mariadb`), "
            "restart it; restore from the last backup (make restore) only if its data is lost."
        ),
    ),
    Alert(
        name="TeamMoaRedisDown",
        expr='redis_up == 0 or up{job="redis"} == 0',
        duration="1m",
        severity="page",
        summary="Redis {{ $labels.instance }} is unreachable",
        runbook=(
            "Realtime closes every socket (1012) and refuses new ones, limits fall back to each process: "
            "restart redis-server; nothing durable is lost (Redis holds no business data)."
        ),
    ),
    Alert(
        name="TeamMoaShedding",
        expr="sum by (job, instance) (rate(admission_refused_total[5m])) > 0.1",
        duration="10m",
        severity="ticket",
        summary="{{ $labels.instance }} refuses requests as overloaded (503 + Retry-After) for 10 minutes",
        runbook=(
            "More load than the instances serve: add instances (or let the autoscaler), and find the costly route on "
            "the service dashboard; TEAMMOA_MAX_IN_FLIGHT bounds the work per process."
        ),
    ),
    Alert(
        name="TeamMoaRealtimeSlowConsumers",
        expr="sum by (job, instance) (increase(teammoa_realtime_slow_consumer_closes_total[10m])) > 10",
        duration="5m",
        severity="ticket",
        summary="{{ $labels.instance }} closes many sockets as too slow (4008)",
        runbook=(
            "Clients cannot keep up with a channel's traffic: look for a chatty map or a client stuck on a slow "
            "network; raise TEAMMOA_REALTIME_OUTBOX_MAX only if the instance has memory to spare."
        ),
    ),
    Alert(
        name="TeamMoaDeactivationRelayBacklog",
        expr="max by (job, instance) (teammoa_deactivation_relay_pending) > 0",
        duration="15m",
        severity="ticket",
        summary="account deactivations wait to reach the teams service ({{ $labels.instance }})",
        runbook=(
            "auth retries every 30 s: check that teams answers POST /internal/users/{id}/deactivated (its "
            "instances, the service token); the rows in pending_deactivations go once it does."
        ),
    ),
    Alert(
        name="TeamMoaUploadsDiskLow",
        expr="teammoa_files_disk_free_bytes / teammoa_files_disk_size_bytes < 0.10",
        duration="5m",
        severity="page",
        summary="less than 10 % free on the uploads' filesystem ({{ $labels.instance }})",
        runbook="Grow the volume (or free space) before uploads fail; check for a runaway uploader in the access log.",
    ),
    Alert(
        name="TeamMoaUploadsDiskFillingUp",
        expr="predict_linear(teammoa_files_disk_free_bytes[6h], 86400) < 0",
        duration="30m",
        severity="ticket",
        summary="the uploads' filesystem fills up within a day at the last 6 hours' pace",
        runbook="Plan the volume's growth today; look for an unusual upload pattern (one team, one user).",
    ),
    Alert(
        name="TeamMoaCertificateExpiresSoon",
        expr='probe_ssl_earliest_cert_expiry{job="tls"} - time() < 14 * 86400',
        duration="1h",
        severity="ticket",
        summary="the TLS certificate of {{ $labels.instance }} expires within 14 days",
        runbook=(
            "Renew the certificate Nginx serves (TEAMMOA_NGINX_TLS_CERT; certbot renew or your CA) and reload "
            "nginx; check why automatic renewal did not run."
        ),
    ),
)


def alerts() -> list[Alert]:
    return [*burn_alerts(), *OTHER_ALERTS]


def recording_rules() -> dict[str, Any]:
    http = [
        {
            "record": "job_route_method:http_requests:rate5m",
            "expr": "sum by (job, route, method) (rate(http_requests_total[5m]))",
        },
        {
            "record": "job_route:http_errors:ratio_rate5m",
            "expr": (
                'sum by (job, route) (rate(http_requests_total{status=~"5.."}[5m]))'
                " / sum by (job, route) (rate(http_requests_total[5m]))"
            ),
        },
    ]
    for quantile in (50, 95, 99):
        http.append(
            {
                "record": f"job_route_method:http_request_duration_seconds:p{quantile}_5m",
                "expr": (
                    f"histogram_quantile(0.{quantile}, "
                    "sum by (job, route, method, le) (rate(http_request_duration_seconds_bucket[5m])))"
                ),
            }
        )
    slo = [
        {"record": slo.record(window), "expr": slo.bad_ratio.replace("{w}", window)} for slo in SLOS for window in WINDOWS
    ]
    return {
        "groups": [
            {"name": "teammoa-http", "rules": http},
            {"name": "teammoa-slo", "rules": slo},
        ]
    }


def alerting_rules() -> dict[str, Any]:
    return {"groups": [{"name": "teammoa-alerts", "rules": [alert.rule() for alert in alerts()]}]}


# promtool unit tests: for every alert, series it must fire on and series it must stay quiet on ---

TEAMS_READ = 'http_requests_total{job="teams",instance="teams-1",route="/api/v1/teams/",method="GET",status="%s"}'
TEAMS_BUCKET = (
    'http_request_duration_seconds_bucket{job="teams",instance="teams-1",route="/api/v1/teams/",method="GET",le="%s"}'
)
TEAMS_COUNT = 'http_request_duration_seconds_count{job="teams",instance="teams-1",route="/api/v1/teams/",method="GET"}'


@dataclass(frozen=True)
class Scenario:
    alert: str
    fires: bool
    what: str
    series: tuple[tuple[str, str], ...]  # (series, promtool expanding notation), one sample per interval
    eval_time: str
    labels: tuple[tuple[str, str], ...] = ()  # the firing alert's labels (besides alertname and severity)
    interval: str = "1m"


def _requests(ok_per_min: int, errors_per_min: int, samples: int) -> tuple[tuple[str, str], ...]:
    return ((TEAMS_READ % "200", f"0+{ok_per_min}x{samples}"), (TEAMS_READ % "500", f"0+{errors_per_min}x{samples}"))


def _reads(fast_per_min: int, slow_per_min: int, samples: int) -> tuple[tuple[str, str], ...]:
    total = fast_per_min + slow_per_min
    return (
        (TEAMS_BUCKET % "0.2", f"0+{fast_per_min}x{samples}"),
        (TEAMS_BUCKET % "+Inf", f"0+{total}x{samples}"),
        (TEAMS_COUNT, f"0+{total}x{samples}"),
    )


TEAMS_JOB = (("job", "teams"),)
SCENARIOS = (
    Scenario(
        "TeamMoaAvailabilityBudgetFastBurn",
        True,
        "10 % of requests fail for an hour",
        _requests(600, 60, 90),
        "70m",
        TEAMS_JOB,
    ),
    Scenario(
        "TeamMoaAvailabilityBudgetFastBurn", False, "0.5 % fail: within the fast thresholds", _requests(995, 5, 90), "70m"
    ),
    Scenario(
        "TeamMoaAvailabilityBudgetFastBurn",
        False,
        "a burst of errors 50 minutes ago, none since",
        ((TEAMS_READ % "200", "0+600x90"), (TEAMS_READ % "500", "0x20 600x70")),
        "70m",
    ),
    Scenario(
        "TeamMoaAvailabilityBudgetSlowBurn", True, "0.5 % fail for a day", _requests(995, 5, 30), "26h", TEAMS_JOB, "1h"
    ),
    Scenario(
        "TeamMoaAvailabilityBudgetSlowBurn",
        False,
        "0.05 % fail for a day",
        _requests(19990, 10, 30),
        "26h",
        interval="1h",
    ),
    Scenario("TeamMoaLatencyBudgetFastBurn", True, "30 % of reads slower than 200 ms", _reads(70, 30, 90), "70m", TEAMS_JOB),
    Scenario("TeamMoaLatencyBudgetFastBurn", False, "0.5 % of reads slower than 200 ms", _reads(995, 5, 90), "70m"),
    Scenario("TeamMoaLatencyBudgetSlowBurn", True, "4 % of reads slow for a day", _reads(96, 4, 30), "26h", TEAMS_JOB, "1h"),
    Scenario(
        "TeamMoaLatencyBudgetSlowBurn", False, "0.5 % of reads slow for a day", _reads(995, 5, 30), "26h", interval="1h"
    ),
    Scenario(
        "TeamMoaInstanceDown",
        True,
        "one teams instance stops answering",
        (('up{job="teams",instance="teams-1"}', "1x5 0x10"), ('up{job="teams",instance="teams-2"}', "1x15")),
        "10m",
        (("instance", "teams-1"), ("job", "teams")),
    ),
    Scenario(
        "TeamMoaInstanceDown",
        False,
        "down for less than a minute (a restart)",
        (('up{job="teams",instance="teams-1"}', "1x5 0 1x10"),),
        "7m",
    ),
    Scenario(
        "TeamMoaServiceDown",
        True,
        "both teams instances down",
        (('up{job="teams",instance="teams-1"}', "1x5 0x10"), ('up{job="teams",instance="teams-2"}', "1x5 0x10")),
        "10m",
        TEAMS_JOB,
    ),
    Scenario(
        "TeamMoaServiceDown",
        False,
        "one of two teams instances down",
        (('up{job="teams",instance="teams-1"}', "1x5 0x10"), ('up{job="teams",instance="teams-2"}', "1x15")),
        "10m",
    ),
    Scenario(
        "TeamMoaGatewayDown",
        True,
        "the exporter answers, Nginx does not",
        (('nginx_up{job="nginx",instance="gw"}', "1x5 0x10"), ('up{job="nginx",instance="gw"}', "1x15")),
        "10m",
        (("instance", "gw"), ("job", "nginx")),
    ),
    Scenario(
        "TeamMoaGatewayDown",
        False,
        "Nginx answers",
        (('nginx_up{job="nginx",instance="gw"}', "1x15"), ('up{job="nginx",instance="gw"}', "1x15")),
        "10m",
    ),
    Scenario(
        "TeamMoaDatabaseDown",
        True,
        "mysqld_exporter cannot reach MariaDB",
        (('mysql_up{job="mysqld",instance="db"}', "1x5 0x10"), ('up{job="mysqld",instance="db"}', "1x15")),
        "10m",
        (("instance", "db"), ("job", "mysqld")),
    ),
    Scenario(
        "TeamMoaDatabaseDown",
        False,
        "MariaDB answers",
        (('mysql_up{job="mysqld",instance="db"}', "1x15"), ('up{job="mysqld",instance="db"}', "1x15")),
        "10m",
    ),
    Scenario(
        "TeamMoaRedisDown",
        True,
        "redis_exporter cannot reach Redis",
        (('redis_up{job="redis",instance="redis"}', "1x5 0x10"), ('up{job="redis",instance="redis"}', "1x15")),
        "10m",
        (("instance", "redis"), ("job", "redis")),
    ),
    Scenario(
        "TeamMoaRedisDown",
        False,
        "a 30-second Redis blip",
        (('redis_up{job="redis",instance="redis"}', "1x5 0 1x10"), ('up{job="redis",instance="redis"}', "1x15")),
        "10m",
    ),
    Scenario(
        "TeamMoaShedding",
        True,
        "30 requests a minute refused for 20 minutes",
        (('admission_refused_total{job="teams",instance="teams-1"}', "0+30x25"),),
        "20m",
        (("instance", "teams-1"), ("job", "teams")),
    ),
    Scenario(
        "TeamMoaShedding",
        False,
        "a burst of refusals for two minutes",
        (('admission_refused_total{job="teams",instance="teams-1"}', "0x5 0+100x2 200x18"),),
        "20m",
    ),
    Scenario(
        "TeamMoaRealtimeSlowConsumers",
        True,
        "3 slow sockets closed a minute for 20 minutes",
        (('teammoa_realtime_slow_consumer_closes_total{job="realtime",instance="rt-1"}', "0+3x20"),),
        "20m",
        (("instance", "rt-1"), ("job", "realtime")),
    ),
    Scenario(
        "TeamMoaRealtimeSlowConsumers",
        False,
        "one slow socket every few minutes",
        (('teammoa_realtime_slow_consumer_closes_total{job="realtime",instance="rt-1"}', "0 0 0 1 1 1 1 2 2 2 2 3x10"),),
        "20m",
    ),
    Scenario(
        "TeamMoaDeactivationRelayBacklog",
        True,
        "two deactivations undelivered for 20 minutes",
        (('teammoa_deactivation_relay_pending{job="auth",instance="auth-1"}', "2x25"),),
        "20m",
        (("instance", "auth-1"), ("job", "auth")),
    ),
    Scenario(
        "TeamMoaDeactivationRelayBacklog",
        False,
        "a deactivation delivered on a retry after 2 minutes",
        (('teammoa_deactivation_relay_pending{job="auth",instance="auth-1"}', "0x5 1 1 0x18"),),
        "20m",
    ),
    Scenario(
        "TeamMoaUploadsDiskLow",
        True,
        "5 % free",
        (
            ('teammoa_files_disk_free_bytes{job="teams",instance="teams-1"}', "50x15"),
            ('teammoa_files_disk_size_bytes{job="teams",instance="teams-1"}', "1000x15"),
        ),
        "10m",
        (("instance", "teams-1"), ("job", "teams")),
    ),
    Scenario(
        "TeamMoaUploadsDiskLow",
        False,
        "40 % free",
        (
            ('teammoa_files_disk_free_bytes{job="teams",instance="teams-1"}', "400x15"),
            ('teammoa_files_disk_size_bytes{job="teams",instance="teams-1"}', "1000x15"),
        ),
        "10m",
    ),
    Scenario(
        "TeamMoaUploadsDiskFillingUp",
        True,
        "free space falls by 10 % of the disk an hour",
        (('teammoa_files_disk_free_bytes{job="teams",instance="teams-1"}', "900-10x80"),),
        "7h",
        (("instance", "teams-1"), ("job", "teams")),
        "5m",
    ),
    Scenario(
        "TeamMoaUploadsDiskFillingUp",
        False,
        "free space steady",
        (('teammoa_files_disk_free_bytes{job="teams",instance="teams-1"}', "900x80"),),
        "7h",
        interval="5m",
    ),
    Scenario(
        "TeamMoaCertificateExpiresSoon",
        True,
        "the certificate expires in 5 days",
        (('probe_ssl_earliest_cert_expiry{job="tls",instance="https://teammoa.example"}', f"{5 * 86400}x90"),),
        "90m",
        (("instance", "https://teammoa.example"), ("job", "tls")),
    ),
    Scenario(
        "TeamMoaCertificateExpiresSoon",
        False,
        "the certificate expires in 60 days",
        (('probe_ssl_earliest_cert_expiry{job="tls",instance="https://teammoa.example"}', f"{60 * 86400}x90"),),
        "90m",
    ),
)


def _expand(template: str, labels: dict[str, str]) -> str:
    for name, value in labels.items():
        template = template.replace("{{ $labels." + name + " }}", value)
    return template


def unit_tests(long: bool) -> dict[str, Any]:
    """The scenarios over hours or days (``long``: rules evaluated every 4 minutes, which keeps
    promtool quick, yet within the 5-minute lookback of the recorded series the alerts read)
    or over minutes (every minute)."""
    by_name = {alert.name: alert for alert in alerts()}
    tests = []
    for scenario in SCENARIOS:
        if (scenario.interval != "1m") != long:
            continue
        alert = by_name[scenario.alert]
        expected = []
        if scenario.fires:
            labels = dict(scenario.labels)
            annotations = {key: _expand(value, labels) for key, value in alert.rule()["annotations"].items()}
            expected = [{"exp_labels": {**labels, "severity": alert.severity}, "exp_annotations": annotations}]
        tests.append(
            {
                "name": f"{scenario.alert} {'fires' if scenario.fires else 'stays quiet'}: {scenario.what}",
                "interval": scenario.interval,
                "input_series": [{"series": series, "values": values} for series, values in scenario.series],
                "alert_rule_test": [{"eval_time": scenario.eval_time, "alertname": scenario.alert, "exp_alerts": expected}],
            }
        )
    return {
        "rule_files": ["../rules/recording.yml", "../rules/alerts.yml"],
        "evaluation_interval": "4m" if long else "1m",
        "tests": tests,
    }


# Dashboards --------------------------------------------------------------------------------------


class Board:
    """A Grafana dashboard being laid out: panels two to a row, 12 columns wide each."""

    def __init__(self, uid: str, title: str, variables: list[dict[str, Any]] | None = None) -> None:
        self.uid, self.title, self.variables = uid, title, variables or []
        self.panels: list[dict[str, Any]] = []

    def panel(
        self, title: str, targets: list[tuple[str, str]], unit: str = "short", kind: str = "timeseries", width: int = 12
    ) -> None:
        index = len(self.panels)
        x = sum(p["gridPos"]["w"] for p in self.panels) % 24
        y = sum(p["gridPos"]["w"] for p in self.panels) // 24 * 8
        self.panels.append(
            {
                "id": index + 1,
                "type": kind,
                "title": title,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": width, "x": x, "y": y},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [
                    {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend}
                    for n, (expr, legend) in enumerate(targets)
                ],
            }
        )

    def json(self) -> dict[str, Any]:
        datasource = {
            "name": "datasource",
            "type": "datasource",
            "query": "prometheus",
            "label": "Prometheus",
            "current": {},
        }
        return {
            "uid": self.uid,
            "title": self.title,
            "tags": ["teammoa"],
            "timezone": "utc",
            "schemaVersion": 39,
            "version": 1,
            "editable": False,
            "refresh": "30s",
            "time": {"from": "now-6h", "to": "now"},
            "templating": {"list": [datasource, *self.variables]},
            "panels": self.panels,
        }


def overview() -> Board:
    board = Board("teammoa-overview", "TeamMoa — overview")
    board.panel("Instances up, by service", [(f'sum by (job) (up{{job=~"{SERVICE_JOBS}"}})', "{{job}}")], kind="stat")
    board.panel(
        "Dependencies up",
        [("max(mysql_up)", "MariaDB"), ("max(redis_up)", "Redis"), ("max(nginx_up)", "Nginx")],
        kind="stat",
    )
    board.panel(
        "Requests per second, by service", [("sum by (job) (job_route_method:http_requests:rate5m)", "{{job}}")], "reqps"
    )
    board.panel("API error ratio (5xx), by service", [("job:slo_availability_bad:ratio_rate5m", "{{job}}")], "percentunit")
    board.panel(
        "p95 latency of API reads, by service",
        [
            (
                "histogram_quantile(0.95, sum by (job, le) "
                f'(rate(http_request_duration_seconds_bucket{{{API},method="GET"}}[5m])))',
                "{{job}}",
            )
        ],
        "s",
    )
    board.panel("Slow API reads (> 200 ms), by service", [("job:slo_latency_bad:ratio_rate5m", "{{job}}")], "percentunit")
    for slo in SLOS:
        board.panel(
            f"{slo.name.capitalize()} error budget burn rate (1 = spends it exactly in 30 days)",
            [(f"{slo.record('1h')} / {slo.budget}", "{{job}} 1h"), (f"{slo.record('6h')} / {slo.budget}", "{{job}} 6h")],
        )
    board.panel("Firing alerts", [('ALERTS{alertstate="firing"}', "{{alertname}} {{job}}")], kind="table", width=24)
    return board


def service() -> Board:
    job = {
        "name": "job",
        "type": "query",
        "label": "Service",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "query": f'label_values(up{{job=~"{SERVICE_JOBS}"}}, job)',
        "refresh": 1,
        "current": {},
    }
    board = Board("teammoa-service", "TeamMoa — one service", [job])
    board.panel("Instances up", [('up{job="$job"}', "{{instance}}")])
    board.panel(
        "Requests per second, by route",
        [('sum by (route, method) (job_route_method:http_requests:rate5m{job="$job"})', "{{method}} {{route}}")],
        "reqps",
    )
    board.panel(
        "Error ratio (5xx), by route", [('job_route:http_errors:ratio_rate5m{job="$job"}', "{{route}}")], "percentunit"
    )
    board.panel(
        "p99 latency, by route",
        [('job_route_method:http_request_duration_seconds:p99_5m{job="$job"}', "{{method}} {{route}}")],
        "s",
    )
    board.panel(
        "p50 / p95 latency, by route",
        [
            ('job_route_method:http_request_duration_seconds:p50_5m{job="$job"}', "p50 {{method}} {{route}}"),
            ('job_route_method:http_request_duration_seconds:p95_5m{job="$job"}', "p95 {{method}} {{route}}"),
        ],
        "s",
    )
    board.panel(
        "Responses by status", [('sum by (status) (rate(http_requests_total{job="$job"}[5m]))', "{{status}}")], "reqps"
    )
    board.panel(
        "Admission: in flight, waiting, refused per second (overload)",
        [
            ('admission_in_flight{job="$job"}', "{{instance}} in flight"),
            ('admission_waiting{job="$job"}', "{{instance}} waiting"),
            ('rate(admission_refused_total{job="$job"}[5m])', "{{instance}} refused/s"),
        ],
    )
    board.panel("Resident memory", [('process_resident_memory_bytes{job="$job"}', "{{instance}}")], "bytes")
    board.panel("CPU (cores)", [('rate(process_cpu_seconds_total{job="$job"}[5m])', "{{instance}}")])
    board.panel("Asyncio tasks (a leak grows steadily)", [('asyncio_tasks{job="$job"}', "{{instance}}")])
    board.panel(
        "Open file descriptors",
        [('process_open_fds{job="$job"}', "{{instance}} open"), ('process_max_fds{job="$job"}', "{{instance}} max")],
    )
    return board


def realtime() -> Board:
    board = Board("teammoa-realtime", "TeamMoa — realtime")
    board.panel("Open WebSockets, by instance", [('teammoa_realtime_connections{job="realtime"}', "{{instance}}")])
    board.panel(
        "Slow-consumer closes (4008) per minute",
        [('rate(teammoa_realtime_slow_consumer_closes_total{job="realtime"}[5m]) * 60', "{{instance}}")],
    )
    board.panel(
        "Event broker outages", [('increase(teammoa_realtime_broker_outages_total{job="realtime"}[1h])', "{{instance}}")]
    )
    board.panel("Redis up", [("redis_up", "{{instance}}")], kind="stat")
    board.panel("Resident memory", [('process_resident_memory_bytes{job="realtime"}', "{{instance}}")], "bytes")
    board.panel("Asyncio tasks", [('asyncio_tasks{job="realtime"}', "{{instance}}")])
    return board


def dashboards() -> dict[str, dict[str, Any]]:
    return {board.uid.removeprefix("teammoa-"): board.json() for board in (overview(), service(), realtime())}


# Output ------------------------------------------------------------------------------------------

HEADER = "# Generated by deploy/monitoring/generate.py: edit that file and run it, not this one.\n"


DOCS = HERE.parent.parent / "docs" / "operations.md"
BEGIN, END = "<!-- generated by deploy/monitoring/generate.py: begin -->", "<!-- generated: end -->"


def docs_block() -> str:
    """The SLO and alert tables of docs/operations.md."""
    lines = [BEGIN, "", "| SLO | objective | error budget (30 days) | measured by |", "|---|---|---|---|"]
    for slo in SLOS:
        lines.append(
            f"| {slo.name} | {slo.description} | {slo.budget:.1%} of requests | "
            f"`{slo.record('5m')}` … `{slo.record('3d')}` |"
        )
    lines += ["", "| alert | severity | for | fires when | what to do |", "|---|---|---|---|---|"]
    for alert in alerts():
        expr = alert.expr.replace("|", "\\|")
        lines.append(
            f'| <a id="{alert.name.lower()}"></a>`{alert.name}` | {alert.severity} | {alert.duration} '
            f"| `{expr}` | {alert.runbook} |"
        )
    return "\n".join([*lines, "", END])


def docs_text() -> str:
    text = DOCS.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + docs_block() + tail


def outputs() -> dict[Path, str]:
    files = {
        RULES_DIR / "recording.yml": HEADER + yaml.safe_dump(recording_rules(), sort_keys=False, width=120),
        RULES_DIR / "alerts.yml": HEADER + yaml.safe_dump(alerting_rules(), sort_keys=False, width=120),
    }
    for name, long in (("alerts.test.yml", False), ("alerts-long.test.yml", True)):
        files[HERE / "tests" / name] = HEADER + yaml.safe_dump(unit_tests(long), sort_keys=False, width=120)
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "teammoa", "labels": {"app.kubernetes.io/part-of": "teammoa", "role": "alert-rules"}},
        "spec": {"groups": recording_rules()["groups"] + alerting_rules()["groups"]},
    }
    k8s = HERE.parent / "k8s" / "monitoring" / "prometheus-rule.yaml"
    files[k8s] = (
        HEADER
        + "# The rules for the Prometheus Operator (kubectl -n teammoa apply -f this file).\n"
        + yaml.safe_dump(rule, sort_keys=False, width=120)
    )
    files[DOCS] = docs_text()
    for name, board in dashboards().items():
        files[DASHBOARDS_DIR / f"{name}.json"] = json.dumps(board, indent=2) + "\n"
    return files


def main(argv: list[str]) -> int:
    stale = []
    for path, text in outputs().items():
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(HERE.parent.parent)))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if stale:
        print("out of date (run python deploy/monitoring/generate.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
