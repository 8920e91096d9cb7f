"""The pure job builder: a MedallionPipeline's Databricks job, against stored JSON and rule by rule."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill.pipeline.desired import (
    ClusterPlatform,
    Pipeline,
    UnsupportedScheduleError,
    bronze_locations,
    desired_job_settings,
    quartz_cron,
)
from anthill_api.pipeline import MedallionPipelineSpec
from anthill_api.runtime import DATABRICKS_RUNTIME

REPO = Path(__file__).resolve().parents[3]
WHEEL = "/Volumes/anthill/default/wheels/anthill_spark-0.1.0-py3-none-any.whl"


def _example_spec() -> dict[str, Any]:
    docs = yaml.safe_load_all((REPO / "examples" / "medallion-databricks.yaml").read_text())
    spec: dict[str, Any] = next(doc for doc in docs if doc["kind"] == "MedallionPipeline")["spec"]
    return spec


def _pipeline(**changes: Any) -> Pipeline:
    raw = _example_spec()
    cluster = changes.pop("cluster", None)
    runtime = changes.pop("databricks", None)
    raw.update(changes)
    if cluster is not None:
        raw["runtime"]["databricks"]["cluster"] = cluster
    if runtime is not None:
        raw["runtime"]["databricks"].update(runtime)
    spec = MedallionPipelineSpec.model_validate(raw)
    bronze = bronze_locations("market", spec, {ref.name: spec.lake.uri for ref in spec.feeds})
    return Pipeline("us-equities", "market", spec, uid="u-1", generation=1, bronze=bronze)


def _settings(**changes: Any) -> dict[str, Any]:
    settings: dict[str, Any] = desired_job_settings(_pipeline(**changes), WHEEL).as_dict()
    return settings


def _tasks(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["task_key"]: task for task in settings["tasks"]}


def test_example_matches_the_stored_json() -> None:
    """The golden file is the example pipeline's job as jobs.create receives it; review any change to it."""
    expected = json.loads((REPO / "tests/data/golden/medallion-databricks.job-settings.json").read_text())
    assert _settings() == expected


@pytest.mark.parametrize(
    ("cron", "quartz"),
    [
        pytest.param("0 19 * * 1-5", "0 0 19 ? * MON-FRI", id="weekdays-become-names"),
        pytest.param("30 2 * * *", "0 30 2 * * ?", id="every-day-leaves-day-of-week-open"),
        pytest.param("0 6 1 * *", "0 0 6 1 * ?", id="day-of-month"),
        pytest.param("0 0 * * 0", "0 0 0 ? * SUN", id="sunday-is-0-in-cron"),
        pytest.param("0 0 * * 7", "0 0 0 ? * SUN", id="and-7-too"),
        pytest.param("*/15 9-16 * * mon,wed", "0 */15 9-16 ? * MON,WED", id="names-and-steps"),
        pytest.param("0 0 1 jan *", "0 0 0 1 JAN ?", id="month-names"),
        pytest.param("@daily", "0 0 0 * * ?", id="macro"),
        pytest.param("@weekly", "0 0 0 ? * SUN", id="weekly-macro"),
    ],
)
def test_cron_becomes_quartz(cron: str, quartz: str) -> None:
    assert quartz_cron(cron) == quartz


def test_cron_with_both_days_is_unsupported() -> None:
    """Cron runs when either day field matches; Quartz has no such form, so the spec is refused, not guessed."""
    with pytest.raises(UnsupportedScheduleError, match="both day of month and day of week"):
        quartz_cron("0 0 1 * 1")


@pytest.mark.parametrize(
    ("changes", "schedule"),
    [
        pytest.param({}, {"quartz_cron_expression": "0 0 19 ? * MON-FRI", "timezone_id": "America/New_York",
                          "pause_status": "UNPAUSED"}, id="example"),
        pytest.param({"timeZone": None}, {"quartz_cron_expression": "0 0 19 ? * MON-FRI", "timezone_id": "UTC",
                                          "pause_status": "UNPAUSED"}, id="no-time-zone-is-utc"),
        pytest.param({"suspend": True}, {"quartz_cron_expression": "0 0 19 ? * MON-FRI",
                                         "timezone_id": "America/New_York", "pause_status": "PAUSED"},
                     id="suspend-pauses"),
    ],
)  # fmt: skip
def test_schedule(changes: dict[str, Any], schedule: dict[str, Any]) -> None:
    assert _settings(**changes)["schedule"] == schedule


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [
        pytest.param({"autoscale": {"minWorkers": 1, "maxWorkers": 4}},
                     {"autoscale": {"min_workers": 1, "max_workers": 4}}, id="autoscale"),
        pytest.param({"numWorkers": 3}, {"num_workers": 3}, id="fixed-workers"),
        pytest.param({}, {"num_workers": 0, "spark_conf": {"spark.databricks.cluster.profile": "singleNode",
                                                           "spark.master": "local[*, 4]"},
                          "custom_tags": {"ResourceClass": "SingleNode"}}, id="no-workers-is-single-node"),
        pytest.param({"numWorkers": 2, "instanceProfileArn": "arn:aws:iam::123456789012:instance-profile/lake"},
                     {"num_workers": 2,
                      "aws_attributes": {"instance_profile_arn": "arn:aws:iam::123456789012:instance-profile/lake"}},
                     id="instance-profile"),
    ],
)  # fmt: skip
def test_job_cluster(cluster: dict[str, Any], expected: dict[str, Any]) -> None:
    base = {"sparkVersion": "15.4.x-scala2.12", "nodeTypeId": "i3.xlarge"}
    (job_cluster,) = _settings(cluster={**base, **cluster})["job_clusters"]
    assert job_cluster == {
        "job_cluster_key": "anthill",
        "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge",
                        "data_security_mode": "SINGLE_USER", **expected},
    }  # fmt: skip


def test_a_cluster_without_a_runtime_gets_the_one_the_wheel_targets() -> None:
    (job_cluster,) = _settings(cluster={"nodeTypeId": "m6i.xlarge"})["job_clusters"]
    assert job_cluster["new_cluster"]["spark_version"] == DATABRICKS_RUNTIME


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param(ClusterPlatform(), {"data_security_mode": "SINGLE_USER"},
                     id="no policy: Unity Catalog's dedicated access mode all the same"),
        pytest.param(ClusterPlatform("E0123456789ABCDE"),
                     {"data_security_mode": "SINGLE_USER", "policy_id": "E0123456789ABCDE",
                      "apply_policy_default_values": True},
                     id="the platform's policy, whose defaults fill what the spec leaves out"),
        pytest.param(ClusterPlatform("E0123456789ABCDE", "USER_ISOLATION"),
                     {"data_security_mode": "USER_ISOLATION", "policy_id": "E0123456789ABCDE",
                      "apply_policy_default_values": True},
                     id="standard access mode when the platform sets it"),
    ],
)  # fmt: skip
def test_every_job_cluster_carries_what_the_platform_sets(
    platform: ClusterPlatform, expected: dict[str, Any]
) -> None:
    settings = desired_job_settings(_pipeline(), WHEEL, platform).as_dict()
    (job_cluster,) = settings["job_clusters"]
    carried = {key: job_cluster["new_cluster"].get(key) for key in expected}
    assert carried == expected


def test_tasks_run_the_wheel_in_order_on_the_shared_cluster() -> None:
    tasks = _tasks(_settings())
    assert list(tasks) == ["bronze_to_silver", "silver_to_gold"]
    assert "depends_on" not in tasks["bronze_to_silver"]
    assert tasks["silver_to_gold"]["depends_on"] == [{"task_key": "bronze_to_silver"}]
    for key, task in tasks.items():
        assert task["job_cluster_key"] == "anthill"
        assert task["libraries"] == [{"whl": WHEEL}]
        assert task["python_wheel_task"]["package_name"] == "anthill_spark"
        assert task["python_wheel_task"]["entry_point"] == key


def test_parameters_name_the_lake_catalog_and_gold_tables() -> None:
    tasks = _tasks(_settings(gold=["volatility", "daily_returns"],
                             catalog={"name": "prod", "silverSchema": "s", "goldSchema": "g"}))  # fmt: skip
    common = ["--lake", "s3://anthill-lake-dev/market", "--catalog", "prod", "--silver-schema", "s",
              "--gold-schema", "g"]  # fmt: skip
    assert tasks["bronze_to_silver"]["python_wheel_task"]["parameters"][: len(common)] == common
    # spec.gold is a set: the canonical order, so reordering the list changes nothing
    assert tasks["silver_to_gold"]["python_wheel_task"]["parameters"] == [*common, "--gold",
                                                                          "daily_returns,volatility"]  # fmt: skip


def test_silver_reads_exactly_the_bronze_of_the_named_feeds() -> None:
    """One --bronze per feed in spec.feeds, at its own destination, with the namespace in the path; gold
    reads silver only."""
    pipeline = _pipeline()
    # Every feed writes to the pipeline's lake but one, whose bronze is elsewhere.
    destinations = {ref.name: pipeline.spec.lake.uri for ref in pipeline.spec.feeds}
    destinations["us-splits"] = "s3://anthill-lake-dev/ref"
    pipeline = replace(pipeline, bronze=bronze_locations("market", pipeline.spec, destinations))
    tasks = _tasks(desired_job_settings(pipeline, WHEEL).as_dict())
    parameters = tasks["bronze_to_silver"]["python_wheel_task"]["parameters"]
    bronze = [parameters[i + 1] for i, arg in enumerate(parameters) if arg == "--bronze"]
    assert bronze == [
        "s3://anthill-lake-dev/market/bronze/market/us-equities-daily",
        "s3://anthill-lake-dev/market/bronze/market/us-indices-daily",
        "s3://anthill-lake-dev/market/bronze/market/us-grouped-daily",
        "s3://anthill-lake-dev/market/bronze/market/us-dividends",
        "s3://anthill-lake-dev/ref/bronze/market/us-splits",
    ]
    assert "--bronze" not in tasks["silver_to_gold"]["python_wheel_task"]["parameters"]


def test_a_pipeline_without_resolved_feeds_has_no_job() -> None:
    """The reconciler resolves spec.feeds first; a job that would read no bronze is never built."""
    pipeline = Pipeline("p", "market", _pipeline().spec)
    with pytest.raises(ValueError, match="bronze locations of its feeds are not resolved"):
        desired_job_settings(pipeline, WHEEL)


def test_wheel_in_the_spec_wins_over_the_default() -> None:
    tasks = _tasks(_settings(databricks={"wheel": "dbfs:/wheels/anthill_spark.whl"}))
    assert {task["libraries"][0]["whl"] for task in tasks.values()} == {"dbfs:/wheels/anthill_spark.whl"}


def test_identity_tags_name_and_limits() -> None:
    settings = _settings()
    assert settings["name"] == "market/us-equities"
    assert settings["tags"] == {"anthill.io/pipeline": "market/us-equities", "managed-by": "anthill"}
    assert settings["max_concurrent_runs"] == 1


def test_notifications_only_when_asked() -> None:
    assert "email_notifications" not in _settings()
    settings = _settings(databricks={"notificationEmails": ["ops@example.com"]})
    assert settings["email_notifications"] == {"on_failure": ["ops@example.com"]}


def test_kubernetes_runtime_has_no_job() -> None:
    raw = _example_spec()
    raw["runtime"] = {"kubernetes": {"image": "anthill-spark:0.1.0"}}
    pipeline = Pipeline("p", "market", MedallionPipelineSpec.model_validate(raw))
    with pytest.raises(ValueError, match="no Databricks runtime"):
        desired_job_settings(pipeline, WHEEL)
