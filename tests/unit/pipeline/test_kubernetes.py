"""The Kubernetes runtime's CronJob (pure), and the small pure pieces of the pipeline reconciler."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill.conditions import SECRET_NOT_FOUND
from anthill.controller.pipeline import backoff
from anthill.marketfeed.desired import CRONJOB_NAME_MAX, child_name
from anthill.naming import LABEL_VALUE_MAX
from anthill.pipeline.connections import ConnectionNotReadyError, credentials_from_secret
from anthill.pipeline.desired import Pipeline, bronze_locations
from anthill.pipeline.external import Policies, external_id, job_url, run_status
from anthill.pipeline.jobs import ObservedRun
from anthill.pipeline.kubernetes import (
    PIPELINE_LABEL,
    PIPELINE_NAME_ANNOTATION,
    SPARK_TMP,
    cronjob_name,
    desired_spark_cronjob,
    kubernetes_last_run,
    owner_reference,
    pipeline_selector,
)
from anthill_api.connection import DatabricksConnectionSpec
from anthill_api.pipeline import MedallionPipelineSpec

REPO = Path(__file__).resolve().parents[3]


def _pipeline(**changes: Any) -> Pipeline:
    raw = yaml.safe_load((REPO / "examples" / "medallion-kubernetes.yaml").read_text())["spec"]
    runtime = changes.pop("kubernetes", None)
    raw.update(changes)
    if runtime is not None:
        raw["runtime"]["kubernetes"].update(runtime)
    spec = MedallionPipelineSpec.model_validate(raw)
    bronze = bronze_locations("market", spec, {ref.name: spec.lake.uri for ref in spec.feeds})
    return Pipeline("local", "market", spec, uid="u-1", generation=3, bronze=bronze)


def _pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def test_cronjob_runs_spark_on_the_lake_with_the_selected_gold_tables() -> None:
    cronjob = desired_spark_cronjob(_pipeline(gold=["anomalies", "daily_returns"]))
    [container] = _pod(cronjob)["containers"]
    assert container["image"] == "ghcr.io/anthill-platform/anthill-spark:0.1.0"
    assert container["command"] == ["anthill", "spark", "run"]
    # spec.gold is a set: canonical order, so reordering it is no change
    # Silver reads the bronze of the pipeline's feeds, namespace in the path, and nothing else of the lake.
    assert container["args"] == ["--lake", "s3://anthill-lake-dev/market",
                                 "--bronze", "s3://anthill-lake-dev/market/bronze/market/us-equities-daily",
                                 "--bronze", "s3://anthill-lake-dev/market/bronze/market/us-indices-daily",
                                 "--layer", "all", "--gold", "daily_returns,anomalies"]  # fmt: skip
    assert container["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}
    spec = cronjob["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"], spec["suspend"]) == (
        "0 19 * * 1-5", "America/New_York", "Forbid", False)  # fmt: skip
    assert cronjob["metadata"]["labels"][PIPELINE_LABEL] == "local"
    assert _pod(cronjob) == _pod(desired_spark_cronjob(_pipeline(gold=["daily_returns", "anomalies"])))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("local", id="short"),
        pytest.param("p" * CRONJOB_NAME_MAX, id="a name that a feed's CronJob would keep whole"),
        pytest.param("p" * 253, id="the longest name"),
    ],
)
def test_cronjob_name_is_the_pipelines_own_and_fits_the_cronjob_limit(name: str) -> None:
    """A MarketFeed of the same name owns a CronJob named after it: the pipeline's must differ."""
    assert cronjob_name(name).endswith("-medallion")
    assert len(cronjob_name(name)) <= CRONJOB_NAME_MAX
    assert cronjob_name(name) != child_name(name)
    assert cronjob_name(name) == cronjob_name(name)


def test_a_long_pipeline_name_gives_valid_labels_that_its_selector_finds() -> None:
    name = "p" * 253
    pipeline = _pipeline()
    long = Pipeline(name, "market", pipeline.spec, uid="u-1", generation=1, bronze=pipeline.bronze)
    cronjob = desired_spark_cronjob(long)
    assert cronjob["metadata"]["name"] == cronjob_name(name)
    job_meta = cronjob["spec"]["jobTemplate"]["metadata"]
    for meta in (
        cronjob["metadata"],
        job_meta,
        cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"],
    ):
        assert all(len(value) <= LABEL_VALUE_MAX for value in meta["labels"].values())
    assert pipeline_selector(name) == f"{PIPELINE_LABEL}={job_meta['labels'][PIPELINE_LABEL]}"
    assert job_meta["annotations"][PIPELINE_NAME_ANNOTATION] == name


def test_pod_meets_the_restricted_profile_with_a_writable_scratch_dir() -> None:
    pod = _pod(desired_spark_cronjob(_pipeline()))
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert {"name": "tmp", "mountPath": SPARK_TMP} in container["volumeMounts"]
    assert {"name": "SPARK_LOCAL_DIRS", "value": SPARK_TMP} in container["env"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "8Gi"}} in pod["volumes"]


def test_service_account_and_resources_and_suspend_follow_the_spec() -> None:
    pipeline = _pipeline(suspend=True, kubernetes={"serviceAccountName": "lake-writer", "resources": None})
    cronjob = desired_spark_cronjob(pipeline)
    pod = _pod(cronjob)
    assert pod["serviceAccountName"] == "lake-writer"
    assert cronjob["spec"]["suspend"] is True
    assert pod["containers"][0]["resources"]["limits"] == {"memory": "4Gi"}  # the default


@pytest.mark.parametrize(
    "service_account",
    [
        pytest.param(None, id="the namespace's default ServiceAccount"),
        # IRSA projects its own web-identity token; the Kubernetes API token would only let any image
        # the tenant names act as the ServiceAccount against the API server.
        pytest.param("lake-writer", id="a ServiceAccount bound to a cloud role"),
    ],
)
def test_the_api_token_is_never_mounted(service_account: str | None) -> None:
    pod = _pod(desired_spark_cronjob(_pipeline(kubernetes={"serviceAccountName": service_account})))
    assert pod["automountServiceAccountToken"] is False


def test_a_databricks_pipeline_has_no_cronjob_and_the_owner_is_the_pipeline() -> None:
    raw = yaml.safe_load_all((REPO / "examples" / "medallion-databricks.yaml").read_text())
    spec = next(doc for doc in raw if doc["kind"] == "MedallionPipeline")["spec"]
    with pytest.raises(ValueError, match="has no Kubernetes runtime"):
        desired_spark_cronjob(Pipeline("x", "market", MedallionPipelineSpec.model_validate(spec)))
    owner = owner_reference(_pipeline())
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("MedallionPipeline", "u-1", True)


@pytest.mark.parametrize(
    ("names", "create", "update", "delete"),
    [
        (["*"], True, True, True),
        (["Observe"], False, False, False),
        (["Observe", "Update"], False, True, False),
        (["Observe", "Create", "Delete"], True, False, True),
    ],
)
def test_policies(names: list[str], create: bool, update: bool, delete: bool) -> None:
    policies = Policies(frozenset(names))
    assert (policies.create, policies.update, policies.delete) == (create, update, delete)


def test_external_name_must_be_a_job_id() -> None:
    assert external_id({}) is None
    assert external_id({"anthill.io/external-name": ""}) is None
    assert external_id({"anthill.io/external-name": " 1001 "}) == 1001
    with pytest.raises(ValueError, match="must be a Databricks job id"):
        external_id({"anthill.io/external-name": "my-job"})
    assert job_url("https://dbc-1.cloud.databricks.com/", 7) == "https://dbc-1.cloud.databricks.com/jobs/7"


def test_last_run_status_from_databricks_and_from_kubernetes_jobs() -> None:
    start = datetime.datetime(2026, 11, 27, 19, 0, 5, tzinfo=datetime.UTC)
    run = ObservedRun(5001, "TERMINATED", "SUCCESS", start, start + datetime.timedelta(minutes=7))
    assert run_status(run) == {"runId": 5001, "state": "TERMINATED", "resultState": "SUCCESS",
                               "startTime": "2026-11-27T19:00:05Z", "endTime": "2026-11-27T19:07:05Z"}  # fmt: skip
    assert run_status(ObservedRun(5002, "RUNNING", None, start, None)) == {
        "runId": 5002, "state": "RUNNING", "startTime": "2026-11-27T19:00:05Z"}  # fmt: skip
    assert run_status(None) is None

    def job(name: str, created: str, **status: Any) -> dict[str, Any]:
        return {"metadata": {"name": name, "creationTimestamp": created}, "status": status}

    failed = job("local-2", "2026-11-27T19:00:00Z", startTime="2026-11-27T19:00:01Z",
                 conditions=[{"type": "Failed", "status": "True", "lastTransitionTime": "2026-11-27T19:03:00Z"}])  # fmt: skip
    older = job("local-1", "2026-11-26T19:00:00Z", startTime="2026-11-26T19:00:01Z",
                completionTime="2026-11-26T19:05:00Z", conditions=[{"type": "Complete", "status": "True"}])  # fmt: skip
    assert kubernetes_last_run([older, failed]) == {"state": "TERMINATED", "resultState": "FAILED",
                                                    "startTime": "2026-11-27T19:00:01Z",
                                                    "endTime": "2026-11-27T19:03:00Z"}  # fmt: skip
    assert kubernetes_last_run([job("local-3", "2026-11-28T19:00:00Z", active=1)]) == {"state": "RUNNING"}
    assert kubernetes_last_run([]) is None


def test_credentials_come_from_the_keys_the_auth_type_needs() -> None:
    pat = DatabricksConnectionSpec.model_validate(
        {"host": "https://dbc-1.cloud.databricks.com", "credentialsSecretRef": {"name": "db"}}
    )
    assert credentials_from_secret(pat, "market", {"token": "dapi-123456789\n"}).token == "dapi-123456789"
    m2m = DatabricksConnectionSpec.model_validate({
        "host": "https://dbc-1.cloud.databricks.com", "authType": "oauth-m2m",
        "credentialsSecretRef": {"name": "db", "clientIdKey": "id"},
    })  # fmt: skip
    credentials = credentials_from_secret(m2m, "market", {"id": "sp-1", "client-secret": "s3cr3t-value"})
    assert (credentials.client_id, credentials.client_secret) == ("sp-1", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(credentials)
    with pytest.raises(ConnectionNotReadyError) as missing:
        credentials_from_secret(m2m, "market", {"id": "sp-1", "token": "x"})
    assert missing.value.reason == SECRET_NOT_FOUND
    assert str(missing.value) == "Secret market/db has no 'client-secret' (needed for authType oauth-m2m)"


def test_backoff_doubles_up_to_the_most() -> None:
    assert [backoff(retry, 10) for retry in range(6)] == [1, 2, 4, 8, 10, 10]
    assert backoff(10_000, 60) == 60
