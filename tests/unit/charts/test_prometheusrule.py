"""The chart's PrometheusRule: off by default, thresholds from values, metrics the operator exports, and its
alerts unit-tested with the pinned promtool (`promtool check rules`, `promtool test rules`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import anthill.controller.metrics
import anthill.runs  # noqa: F401 - registers the run metrics
from anthill_devkit.toolchain import Toolchain
from tests.helpers import REPO
from tests.unit.charts.helm import Helm, find, one

RULE_TESTS = Path(__file__).parent / "rules"
ENABLED = ("prometheusRule.enabled=true", "prometheusRule.alertLabels.team=data")
ALERTS = ["AnthillRunFailed", "AnthillFeedNotLanded", "AnthillFeedWatermarkStale", "AnthillReconcileErrors"]


@pytest.fixture(scope="module")
def promtool() -> Path:
    return Toolchain.from_environment(REPO).ensure("promtool")


def _rules(helm: Helm, *sets: str) -> list[dict[str, Any]]:
    rule = one(helm.render(sets=(*ENABLED, *sets)), "PrometheusRule")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def _run(promtool: Path, *args: str, cwd: Path) -> str:
    result = subprocess.run([str(promtool), *args], cwd=cwd, capture_output=True, text=True, check=False,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_off_by_default(helm: Helm) -> None:
    assert find(helm.render(), "PrometheusRule") == []


def test_the_rules_pass_promtool_check_and_their_unit_tests(
    helm: Helm, promtool: Path, tmp_path: Path
) -> None:
    """Firing and quiet cases for every alert, on the rules as the chart renders them."""
    rule = one(helm.render(sets=ENABLED), "PrometheusRule")
    assert [r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]] == ALERTS
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"]))
    _run(promtool, "check", "rules", "rules.yaml", cwd=tmp_path)
    for case in sorted(RULE_TESTS.glob("*.test.yaml")):
        shutil.copy(case, tmp_path / case.name)
        assert "SUCCESS" in _run(promtool, "test", "rules", case.name, cwd=tmp_path)


def test_thresholds_labels_and_switches_come_from_values(helm: Helm) -> None:
    rules = _rules(
        helm,
        "prometheusRule.feedNotLanded.hours=48",
        "prometheusRule.reconcileErrors.threshold=3",
        "prometheusRule.runFailed.severity=critical",
        "prometheusRule.watermarkStale.enabled=false",
    )
    by_name = {rule["alert"]: rule for rule in rules}
    assert "AnthillFeedWatermarkStale" not in by_name
    assert "> 172800" in by_name["AnthillFeedNotLanded"]["expr"]
    assert by_name["AnthillReconcileErrors"]["expr"].strip().endswith("> 3")
    assert by_name["AnthillRunFailed"]["labels"] == {"severity": "critical", "team": "data"}


def test_the_rules_name_only_metrics_the_operator_exports(helm: Helm) -> None:
    exported: set[str] = set()
    for family in REGISTRY.collect():
        exported.add(family.name)
        if family.type == "counter":
            exported.add(f"{family.name}_total")
    used = {name for rule in _rules(helm) for name in re.findall(r"\banthill_\w+", rule["expr"])}
    assert used, "the rules use the operator's metrics"
    assert used <= exported, f"not exported by the operator: {sorted(used - exported)}"


def test_the_rule_schema_refuses_what_prometheus_would(helm: Helm) -> None:
    result = helm(
        "template",
        "anthill",
        str(REPO / "charts" / "anthill"),
        "--set",
        "prometheusRule.runFailed.window=soon",
    )
    assert result.returncode != 0
    assert "window" in result.stderr
