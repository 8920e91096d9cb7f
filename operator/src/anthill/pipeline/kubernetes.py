"""What a MedallionPipeline on the Kubernetes runtime should produce: one CronJob running Spark in local mode;
and how the CronJob's newest Job reads in ``status.atProvider.lastRun``.

Pure: no client, no environment, no clock. The pod runs the anthill-spark image's ``anthill spark run`` against
the lake, the same jobs a Databricks run starts through the wheel's entry points. The owner reference is added
by the caller (it needs the uid).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from anthill.marketfeed import observe
from anthill.marketfeed.desired import CRONJOB_NAME_MAX
from anthill.marketfeed.observe import rfc3339
from anthill.naming import controller_reference, label_value, shortened, workload_labels
from anthill.pipeline.desired import PIPELINE_TAG, Pipeline, bronze_parameters, gold_tables
from anthill.workload import container_security, pod_security

PIPELINE_LABEL = PIPELINE_TAG
# The label holds a selector-safe value (hashed past 63 characters); this annotation holds the pipeline's name.
PIPELINE_NAME_ANNOTATION = "anthill.io/pipeline-name"
# A suffix of its own, so a MarketFeed and a MedallionPipeline of the same name never claim one CronJob.
CRONJOB_SUFFIX = "-medallion"
LANDED_SUFFIX = 10  # token characters after the CronJob's name: 52 + 1 + 10 = 63, a Job name's limit
LANDED_ANNOTATION = "anthill.io/landed-watermarks"
LANDED_TTL = 7 * 24 * 3600
CONTAINER = "spark"
SPARK_TMP = "/tmp"  # noqa: S108 - an emptyDir: the root fs is read-only
DEFAULT_RESOURCES = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}


def cronjob_name(pipeline_name: str) -> str:
    """The pipeline's CronJob: its name and ``-medallion``, the name shortened with a hash when too long."""
    return shortened(pipeline_name, CRONJOB_NAME_MAX - len(CRONJOB_SUFFIX)) + CRONJOB_SUFFIX


def pipeline_selector(pipeline_name: str) -> str:
    """The label selector of the pipeline's Jobs."""
    return f"{PIPELINE_LABEL}={label_value(pipeline_name)}"


def labels(pipeline: Pipeline) -> dict[str, str]:
    return workload_labels("anthill-spark", "medallion", PIPELINE_LABEL, pipeline.name)


def _resources(pipeline: Pipeline) -> dict[str, Any]:
    runtime = pipeline.spec.runtime.kubernetes
    chosen = runtime.resources if runtime is not None else None
    if chosen is None:
        return {key: dict(value) for key, value in DEFAULT_RESOURCES.items()}
    return chosen.to_k8s()


def _container(pipeline: Pipeline, image: str, lake_env: Sequence[dict[str, Any]]) -> dict[str, Any]:
    spec = pipeline.spec
    return {
        "name": CONTAINER,
        "image": image,
        "command": ["anthill", "spark", "run"],
        "args": [
            "--lake",
            spec.lake.uri,
            *bronze_parameters(pipeline),
            "--layer",
            "all",
            "--gold",
            gold_tables(spec),
        ],
        "env": [
            {"name": "ANTHILL_PIPELINE", "value": pipeline.key},
            # Spark's scratch space and the JVM's temp files go to the writable emptyDir.
            {"name": "SPARK_LOCAL_DIRS", "value": SPARK_TMP},
            {"name": "HOME", "value": SPARK_TMP},
            {"name": "JAVA_TOOL_OPTIONS", "value": f"-Djava.io.tmpdir={SPARK_TMP}"},
            *lake_env,
        ],
        "volumeMounts": [{"name": "tmp", "mountPath": SPARK_TMP}],
        "resources": _resources(pipeline),
        "securityContext": container_security(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def desired_spark_cronjob(pipeline: Pipeline, lake_env: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The CronJob that runs bronze -> silver -> gold for ``pipeline`` on its schedule; ``lake_env`` points
    it at an S3-compatible lake (:func:`anthill.workload.lake_environment`).

    Raises ``ValueError`` when the pipeline has no Kubernetes runtime.
    """
    spec = pipeline.spec
    runtime = spec.runtime.kubernetes
    if runtime is None:
        raise ValueError(f"MedallionPipeline {pipeline.key} has no Kubernetes runtime")
    meta_labels = labels(pipeline)
    annotations = {PIPELINE_NAME_ANNOTATION: pipeline.name}
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "securityContext": pod_security(),
        "containers": [_container(pipeline, runtime.image, lake_env)],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "8Gi"}}],
        # Spark never talks to the Kubernetes API. A ServiceAccount's cloud role (IRSA) reaches the pod as
        # a projected web-identity token of its own, so the API token is never mounted.
        "automountServiceAccountToken": False,
    }
    if runtime.service_account_name:
        pod_spec["serviceAccountName"] = runtime.service_account_name
    cron_spec: dict[str, Any] = {
        "schedule": spec.schedule or "@yearly",  # trigger.feedsLanded: never scheduled, see landed_job
        "suspend": spec.suspend or spec.schedule is None,
        # Two runs writing the same Delta tables would only conflict: a late run waits for the next slot.
        "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "startingDeadlineSeconds": 600,
        "jobTemplate": {
            "metadata": {"labels": meta_labels, "annotations": annotations},
            "spec": {
                "backoffLimit": 1,
                "template": {"metadata": {"labels": meta_labels}, "spec": pod_spec},
            },
        },
    }
    if spec.time_zone:
        cron_spec["timeZone"] = spec.time_zone
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": cronjob_name(pipeline.name),
            "namespace": pipeline.namespace,
            "labels": meta_labels,
            "annotations": annotations,
        },
        "spec": cron_spec,
    }


def landed_job(cronjob: dict[str, Any], token: str, watermarks: dict[str, str]) -> dict[str, Any]:
    """The Job that runs ``cronjob``'s template once for a set of landed watermarks (trigger.feedsLanded), named
    after the run's token: creating it twice for the same watermarks is refused as AlreadyExists."""
    template = cronjob["spec"]["jobTemplate"]
    meta = cronjob["metadata"]
    annotations = {
        **template["metadata"]["annotations"],
        LANDED_ANNOTATION: json.dumps(watermarks, sort_keys=True),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{meta['name']}-{token[:LANDED_SUFFIX]}",
            "namespace": meta["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "annotations": annotations,
            "ownerReferences": list(meta.get("ownerReferences") or []),
        },
        # Kept a week, like the CronJob's history: long enough to read, not forever.
        "spec": {**template["spec"], "ttlSecondsAfterFinished": LANDED_TTL},
    }


def owner_reference(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline as controller owner of its CronJob: garbage collection removes it with the pipeline."""
    return controller_reference("MedallionPipeline", pipeline.name, pipeline.uid)


def kubernetes_last_run(jobs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``atProvider.lastRun`` from the newest Job of the pipeline's CronJob, in Databricks' vocabulary."""
    latest = observe.latest_job(jobs)
    if latest is None:
        return None
    result = observe.job_result(latest)
    run: dict[str, Any] = {"state": "RUNNING" if result == "Running" else "TERMINATED"}
    if result != "Running":
        run["resultState"] = "SUCCESS" if result == "Succeeded" else "FAILED"
    last = observe.build_last_run(latest, [])
    for source, target in (("startedAt", "startTime"), ("finishedAt", "endTime")):
        if last.get(source):
            run[target] = rfc3339(last[source])
    return run
