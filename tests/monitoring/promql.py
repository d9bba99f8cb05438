"""What the monitoring tests need to read PromQL and the shipped files: the metric names an
expression reads, every expression of the rules and dashboards, and Debian's Prometheus tools."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RULE_FILES = (MONITORING / "rules" / "recording.yml", MONITORING / "rules" / "alerts.yml")
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))
# Series Prometheus makes itself, not scraped from any /metrics.
BUILT_IN = {"ALERTS", "ALERTS_FOR_STATE"}
_KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan", "group_left", "group_right"}
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric (or recorded series) names an expression reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals (label values)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = _GROUPING.sub("", text)
    names = set()
    for match in _NAME.finditer(text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group(0).lower() in _KEYWORDS:
            continue
        names.add(match.group(0))
    return names


def rule_groups() -> list[dict]:
    return [group for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]]


def recorded_names() -> set[str]:
    return {rule["record"] for group in rule_groups() for rule in group["rules"] if "record" in rule}


def alert_rules() -> list[dict]:
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def dashboard_expressions() -> dict[str, list[str]]:
    """Every query of every dashboard (panel targets, and the metric of label_values variables)."""
    found: dict[str, list[str]] = {}
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        exprs = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
        for variable in board["templating"]["list"]:
            if variable.get("type") == "query":
                exprs.append(re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", variable["query"]))
        found[path.name] = exprs
    return found


def every_expression() -> list[str]:
    rules = [rule["expr"] for group in rule_groups() for rule in group["rules"]]
    return rules + [expr for exprs in dashboard_expressions().values() for expr in exprs]


def scraped_names_needed() -> set[str]:
    """The names the rules and dashboards read that some /metrics must serve."""
    names = set().union(*(metric_names(expr) for expr in every_expression()))
    return names - recorded_names() - BUILT_IN


def tool(name: str) -> str:
    """A Prometheus tool from Debian's packages; missing is a skip on a laptop and a failure in CI."""
    found = shutil.which(name)
    if found is None:
        reason = f"{name} is not installed (apt-get install -y prometheus)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found
