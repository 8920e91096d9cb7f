"""Cluster policies in the sandbox workspace, through the real SDK: the job clusters the operator builds under
the platform's policy are accepted, and a cluster breaking it is refused with the attribute named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient

from anthill.pipeline.desired import ClusterPlatform, Pipeline, desired_job_settings
from anthill.pipeline.jobs import InvalidSpecError
from anthill.pipeline.sdk import DatabricksJobs
from anthill_api.pipeline import MedallionPipelineSpec
from anthill_api.runtime import DATABRICKS_RUNTIME

pytestmark = pytest.mark.integration

WHEEL = "/Volumes/anthill/default/wheels/anthill_spark-0.1.0-py3-none-any.whl"
# The shape of terraform/modules/databricks-unity-catalog's databricks_cluster_policy.jobs.
POLICY = {
    "spark_version": {"type": "fixed", "value": DATABRICKS_RUNTIME},
    "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"},
    "node_type_id": {"type": "allowlist", "values": ["m6i.large", "m6i.xlarge"], "defaultValue": "m6i.large"},
    "autoscale.max_workers": {"type": "range", "maxValue": 4, "defaultValue": 4},
    "custom_tags.environment": {"type": "fixed", "value": "dev"},
}


def _desired(platform: ClusterPlatform, **cluster: Any) -> Any:
    spec = MedallionPipelineSpec.model_validate({
        "feeds": [{"name": "us-equities-daily"}],
        "lake": {"uri": "s3://anthill-lake-dev/market"},
        "schedule": "0 19 * * 1-5",
        "runtime": {"databricks": {"connectionRef": {"name": "dev"},
                                   "cluster": {"nodeTypeId": "m6i.xlarge", **cluster}}},
    })  # fmt: skip
    pipeline = Pipeline(
        "us-equities", "market", spec, bronze=("s3://anthill-lake-dev/market/bronze/market/f",)
    )
    return desired_job_settings(pipeline, WHEEL, platform)


@pytest.fixture
def policy_id(sdk: WorkspaceClient) -> str:
    created = sdk.cluster_policies.create(name="anthill_dev-jobs", definition=json.dumps(POLICY))
    assert created.policy_id is not None
    return created.policy_id


def test_the_operators_job_cluster_under_the_platform_policy_is_accepted(
    client: DatabricksJobs, sdk: WorkspaceClient, policy_id: str
) -> None:
    job_id = client.create(_desired(ClusterPlatform(policy_id), autoscale={"minWorkers": 1, "maxWorkers": 4}))
    settings = sdk.jobs.get(job_id).settings
    assert settings is not None
    assert settings.job_clusters
    cluster = settings.job_clusters[0].new_cluster
    assert cluster is not None
    assert (cluster.policy_id, cluster.apply_policy_default_values) == (policy_id, True)
    assert cluster.spark_version == DATABRICKS_RUNTIME
    assert cluster.data_security_mode is not None
    assert cluster.data_security_mode.value == "SINGLE_USER"


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        pytest.param({"nodeTypeId": "p4d.24xlarge"}, "Validation failed for node_type_id",
                     id="an instance type the platform does not allow"),
        pytest.param({"sparkVersion": "15.4.x-scala2.12"}, "Validation failed for spark_version",
                     id="another runtime than the one the policy fixes"),
        pytest.param({"autoscale": {"minWorkers": 1, "maxWorkers": 40}}, "Validation failed for autoscale.max_workers",
                     id="more workers than the policy allows"),
    ],
)  # fmt: skip
def test_a_cluster_breaking_the_policy_is_refused_with_the_attribute_named(
    client: DatabricksJobs, policy_id: str, cluster: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidSpecError, match=message):
        client.create(_desired(ClusterPlatform(policy_id), **cluster))
    assert client.find_by_name("us-equities") == []


def test_a_policy_the_workspace_does_not_have_is_refused(client: DatabricksJobs) -> None:
    with pytest.raises(InvalidSpecError, match="Cluster policy E000000000000BAD does not exist"):
        client.create(_desired(ClusterPlatform("E000000000000BAD")))


def test_a_job_without_a_policy_is_not_checked(client: DatabricksJobs, policy_id: str) -> None:
    assert client.create(_desired(ClusterPlatform(), nodeTypeId="p4d.24xlarge")) > 0
