"""What Terraform sets up for Databricks jobs and what the operator puts in them agree: one runtime, one
access mode, and the policy id that reaches the chart."""

from __future__ import annotations

import yaml

from anthill.settings import OperatorSettings
from anthill_api.runtime import DATABRICKS_RUNTIME
from tests.unit.terraform.hcl import ENVIRONMENTS, MODULES, REPO, STACKS, blocks, resources


def _policy_definition() -> str:
    [body] = [body for kind, name, body in resources(MODULES / "databricks-unity-catalog")
              if (kind, name) == ("databricks_cluster_policy", "jobs")]  # fmt: skip
    definition: str = body["definition"]
    return definition


def test_the_stacks_runtime_default_is_the_one_the_wheel_targets() -> None:
    variables = {label: body for _, label, body in blocks(STACKS / "innovation", "variable")}
    assert variables["spark_version"]["default"] == DATABRICKS_RUNTIME
    for environment in sorted(path.name for path in ENVIRONMENTS.iterdir()):
        text = "".join(path.read_text() for path in (ENVIRONMENTS / environment / "innovation").glob("*.tf"))
        assert "spark_version" not in text, f"{environment} overrides the pinned runtime"


def test_the_policy_fixes_the_runtime_and_access_mode_the_operator_sets() -> None:
    definition = _policy_definition()
    assert '"spark_version"' in definition
    assert "var.cluster_policy.spark_version" in definition
    assert '"data_security_mode"' in definition
    assert 'value = "SINGLE_USER"' in definition
    default_mode = OperatorSettings.model_fields["data_security_mode"].default
    assert default_mode == "SINGLE_USER"
    assert yaml.safe_load((REPO / "charts/anthill/values.yaml").read_text())["databricks"][
        "dataSecurityMode"
    ] == (default_mode)


def test_the_policy_id_is_an_output_of_the_stack_for_the_chart() -> None:
    outputs = {label for _, label, _ in blocks(STACKS / "innovation", "output")}
    assert "job_cluster_policy_id" in outputs
    values = (REPO / "charts/anthill/values.yaml").read_text()
    assert "job_cluster_policy_id" in values, "the chart value says where its value comes from"
