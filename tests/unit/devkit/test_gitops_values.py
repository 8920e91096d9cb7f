"""``anthill dev gitops-values``: Terraform's outputs into the values files Argo CD hands the charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from anthill_devkit import gitops
from anthill_devkit.cli import app
from tests.unit.charts.argocd import sample_outputs

runner = CliRunner()


def write_outputs(tmp_path: Path, outputs: gitops.Outputs, wrapped: bool = False) -> tuple[Path, Path]:
    paths = []
    for stack in ("platform", "innovation"):
        value = dict(getattr(outputs, stack))
        document = {stack: {"value": value, "type": "object", "sensitive": False}} if wrapped else value
        path = tmp_path / f"{stack}.json"
        path.write_text(json.dumps(document))
        paths.append(path)
    return paths[0], paths[1]


def run(env: str, platform: Path, innovation: Path, out: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["gitops-values", "--env", env, "--platform", str(platform),
                                 "--innovation", str(innovation), "--out", str(out)])  # fmt: skip
    return result.exit_code, result.output


@pytest.mark.parametrize("wrapped", [False, True], ids=["output -json platform", "output -json"])
def test_writes_both_files_in_their_charts_shape(tmp_path: Path, wrapped: bool) -> None:
    outputs = sample_outputs("staging")
    platform, innovation = write_outputs(tmp_path, outputs, wrapped)
    code, output = run("staging", platform, innovation, tmp_path / "generated")
    assert code == 0, output
    chart = yaml.safe_load((tmp_path / "generated" / "anthill.yaml").read_text())
    assert chart["serviceAccount"]["roleArn"] == outputs.platform["operator_role_arn"]
    assert chart["lake"]["destinationPrefix"] == "s3://tf-staging-lake/{namespace}"
    assert chart["databricks"]["allowedHosts"] == ["tf-staging.cloud.databricks.com"]
    assert chart["allowlists"]["wheels"] == ["/Volumes/tf_staging/artifacts/wheels/"]
    market = yaml.safe_load((tmp_path / "generated" / "market.yaml").read_text())["terraform"]
    assert market["lakeUri"] == "s3://tf-staging-lake"
    assert market["catalog"] == "tf_staging"
    text = (tmp_path / "generated" / "anthill.yaml").read_text()
    assert text.startswith("# Written by `anthill dev gitops-values`")
    code, output = run("staging", platform, innovation, tmp_path / "generated")
    assert code == 0
    assert output.count("unchanged") == 2


def test_a_missing_output_names_the_stack_and_the_root_to_apply(tmp_path: Path) -> None:
    outputs = sample_outputs("prod")
    platform, innovation = write_outputs(tmp_path, outputs)
    data = json.loads(innovation.read_text())
    data["job_cluster_policy_id"] = None
    innovation.write_text(json.dumps(data))
    code, output = run("prod", platform, innovation, tmp_path / "generated")
    assert code == 1
    assert "innovation stack's output job_cluster_policy_id is empty" in output
    assert "terraform/environments/prod/innovation" in " ".join(output.split())
    assert not (tmp_path / "generated").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lake_uri", "https://bucket", "not an s3:// URI"),
        ("databricks_workspace_url", "http://ws.cloud.databricks.com", "not an https:// URL"),
        ("tenant_namespaces", "market", "must be a list"),
        (
            "ingest_role_arn",
            {"other": "arn:aws:iam::000000000000:role/x"},
            "no role for tenant namespaces ['market']",
        ),
        ("spark_role_arn", "arn:aws:iam::000000000000:role/x", "must map each tenant namespace"),
    ],
)
def test_malformed_outputs_are_refused(tmp_path: Path, field: str, value: object, message: str) -> None:
    outputs = sample_outputs("dev")
    platform, innovation = write_outputs(tmp_path, outputs)
    data = json.loads(platform.read_text())
    data[field] = value
    platform.write_text(json.dumps(data))
    code, output = run("dev", platform, innovation, tmp_path / "generated")
    assert code == 1
    assert message in " ".join(output.split())


def test_an_unknown_environment_or_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    platform, innovation = write_outputs(tmp_path, sample_outputs("dev"))
    assert run("qa", platform, innovation, tmp_path)[0] == 2
    assert run("dev", tmp_path / "missing.json", innovation, tmp_path)[0] == 2


def test_the_generator_reads_only_declared_outputs() -> None:
    outputs = gitops.Outputs("dev", {"vpc_id": "vpc-1"}, {})
    with pytest.raises(KeyError, match="not in READS"):
        outputs.get("platform", "vpc_id")
