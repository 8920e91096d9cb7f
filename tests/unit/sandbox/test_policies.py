"""The sandbox's check of a job cluster against its cluster policy, rule by rule."""

from __future__ import annotations

from typing import Any

import pytest

from anthill_sandbox.databricks.errors import ApiError
from anthill_sandbox.databricks.policies import apply_policy, parse_definition

BASE = {"spark_version": "17.3.x-scala2.13", "node_type_id": "m6i.xlarge", "num_workers": 2}


@pytest.mark.parametrize(
    ("rule", "cluster", "problem"),
    [
        pytest.param({"spark_version": {"type": "fixed", "value": "17.3.x-scala2.13"}}, {}, None,
                     id="fixed, and kept"),
        pytest.param({"spark_version": {"type": "fixed", "value": "17.3.x-scala2.13"}},
                     {"spark_version": "15.4.x-scala2.12"},
                     'spark_version, the value must be 17.3.x-scala2.13 (is "15.4.x-scala2.12")', id="fixed, broken"),
        pytest.param({"node_type_id": {"type": "allowlist", "values": ["m6i.large", "m6i.xlarge"]}}, {}, None,
                     id="allowlist, kept"),
        pytest.param({"node_type_id": {"type": "allowlist", "values": ["m6i.large"]}}, {},
                     'node_type_id, the value must be one of ["m6i.large"] (is "m6i.xlarge")', id="allowlist, broken"),
        pytest.param({"node_type_id": {"type": "blocklist", "values": ["m6i.xlarge"]}}, {},
                     "node_type_id, the value must not be one of", id="blocklist, broken"),
        pytest.param({"num_workers": {"type": "range", "maxValue": 1}}, {},
                     "num_workers, the value must be at most 1 (is 2)", id="range above the maximum"),
        pytest.param({"num_workers": {"type": "range", "minValue": 3}}, {},
                     "num_workers, the value must be at least 3 (is 2)", id="range below the minimum"),
        pytest.param({"custom_tags.team": {"type": "regex", "pattern": "[a-z]+"}}, {"custom_tags": {"team": "Q1"}},
                     'custom_tags.team, the value must match the regex [a-z]+ (is "Q1")',
                     id="regex on a map entry, broken"),
        pytest.param({"spark_conf.spark.speculation": {"type": "forbidden"}},
                     {"spark_conf": {"spark.speculation": "true"}},
                     "spark_conf.spark.speculation, the value must not be present", id="forbidden, present"),
        pytest.param({"custom_tags.cost_center": {"type": "unlimited"}}, {},
                     "custom_tags.cost_center, the value must be present", id="required and missing"),
        pytest.param({"custom_tags.cost_center": {"type": "unlimited", "isOptional": True}}, {}, None,
                     id="optional and missing"),
        pytest.param({"custom_tags.cost_center": {"type": "unlimited", "defaultValue": "fin"}},
                     {"apply_policy_default_values": True}, None, id="missing, but the policy's default applies"),
    ],
)  # fmt: skip
def test_rules(rule: dict[str, Any], cluster: dict[str, Any], problem: str | None) -> None:
    if problem is None:
        apply_policy({**BASE, **cluster}, rule, "settings.job_clusters[0].new_cluster")
        return
    with pytest.raises(ApiError) as raised:
        apply_policy({**BASE, **cluster}, rule, "settings.job_clusters[0].new_cluster")
    assert raised.value.code == "INVALID_PARAMETER_VALUE"
    assert f"Validation failed for {problem}" in str(raised.value)


def test_fixed_values_and_asked_for_defaults_fill_the_cluster() -> None:
    definition: dict[str, dict[str, Any]] = {
        "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"},
        "custom_tags.environment": {"type": "fixed", "value": "dev", "hidden": True},
        "autoscale.max_workers": {"type": "range", "maxValue": 8, "defaultValue": 4},
    }
    filled = apply_policy({**BASE, "apply_policy_default_values": True}, definition, "c")
    assert filled["data_security_mode"] == "SINGLE_USER"
    assert filled["custom_tags"] == {"environment": "dev"}
    assert filled["autoscale"] == {"max_workers": 4}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[", "not valid JSON", id="not JSON"),
        pytest.param("[]", "must be a JSON object", id="not an object"),
        pytest.param('{"x": {"type": "sometimes"}}', "has no valid type", id="unknown rule type"),
        pytest.param('{"x": {"type": "allowlist"}}', "needs a list of values", id="allowlist without values"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ApiError, match=message):
        parse_definition(text)
