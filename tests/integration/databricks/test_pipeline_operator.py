"""MedallionPipeline -> Databricks job: the operator on the real control plane, the real SDK, the sandbox Jobs API.

Each test gets its own Jobs server and namespace; the session's operator (cluster-wide, polling every
``DRIFT_INTERVAL`` seconds) does the work, and the tests look only at what a user sees: the pipeline's status
and annotations through kubectl, the jobs through the SDK, and the server's request counts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs

from anthill.pipeline.desired import PIPELINE_TAG
from anthill_devkit.controlplane import wait_for
from anthill_sandbox.databricks import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DatabricksServer
from tests.integration.conftest import OperatorProcess
from tests.integration.databricks.conftest import (
    CLUSTER,
    connection_manifest,
    feed_manifest,
    pipeline_manifest,
    stats,
)
from tests.integration.kubectl import Kubectl, condition, get, wait_condition

pytestmark = pytest.mark.integration

TIMEOUT = 30
IN_FLIGHT_DELAY = 3.0  # seconds each Jobs API call takes while a deletion must wait for a poll to end
WRITES = ("jobs/create", "jobs/reset", "jobs/update", "jobs/delete", "jobs/run-now")


def jobs_tagged(sdk: WorkspaceClient, key: str) -> list[jobs.BaseJob]:
    return [
        job
        for job in sdk.jobs.list()
        if ((job.settings and job.settings.tags) or {}).get(PIPELINE_TAG) == key
    ]


def setup(kubectl: Kubectl, ns: str, server: DatabricksServer, manifest: str) -> None:
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest())
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection_manifest(server))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest)


def test_pipeline_creates_exactly_one_job_with_the_expected_settings(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    setup(kubectl, ns, server, pipeline_manifest("equities"))
    pipeline = wait_condition(kubectl, ns, "mp/equities", "Ready", "Available")
    connection = wait_condition(kubectl, ns, "databricksconnection/sandbox", "Ready", "Available")

    assert connection["status"]["workspaceId"] == server.state.workspace_id
    assert connection["status"]["principal"] == "sandbox@anthill.local"
    job_id = int(pipeline["metadata"]["annotations"]["anthill.io/external-name"])
    at_provider = pipeline["status"]["atProvider"]
    assert at_provider["jobId"] == job_id
    assert at_provider["jobUrl"] == f"{server.url}/jobs/{job_id}"
    assert "anthill.io/external-create-pending" not in pipeline["metadata"]["annotations"]
    assert condition(pipeline, "Synced")["status"] == "True"
    assert pipeline["status"]["observedGeneration"] == pipeline["metadata"]["generation"]
    assert [job.job_id for job in jobs_tagged(sdk, f"{ns}/equities")] == [job_id]

    settings = sdk.jobs.get(job_id).settings
    assert settings is not None
    assert settings.schedule is not None
    assert settings.name == f"{ns}/equities"
    assert settings.tags == {PIPELINE_TAG: f"{ns}/equities", "managed-by": "anthill"}
    assert settings.max_concurrent_runs == 1
    assert (settings.schedule.quartz_cron_expression, settings.schedule.timezone_id) == (
        "0 0 19 ? * MON-FRI", "America/New_York")  # fmt: skip
    assert settings.schedule.pause_status == jobs.PauseStatus.UNPAUSED
    tasks = {task.task_key: task for task in settings.tasks or []}
    assert set(tasks) == {"bronze_to_silver", "silver_to_gold"}
    gold = tasks["silver_to_gold"]
    assert [d.task_key for d in gold.depends_on or []] == ["bronze_to_silver"]
    assert gold.python_wheel_task is not None
    assert gold.python_wheel_task.entry_point == "silver_to_gold"
    assert "--lake" in (gold.python_wheel_task.parameters or [])
    cluster = (settings.job_clusters or [])[0].new_cluster
    assert cluster is not None
    assert (cluster.spark_version, cluster.num_workers) == ("15.4.x-scala2.12", 2)
    # Idle: the operator keeps polling, and polls write nothing to Databricks.
    before = stats(server)
    wait_for(lambda: stats(server).get("jobs/get", 0) >= before.get("jobs/get", 0) + 2, TIMEOUT, "two polls")
    after = stats(server)
    assert all(after.get(w, 0) == before.get(w, 0) for w in WRITES), (before, after)


def test_spec_edit_resets_the_job_and_a_ui_edit_is_reverted(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    setup(kubectl, ns, server, pipeline_manifest("edits"))
    pipeline = wait_condition(kubectl, ns, "mp/edits", "Ready", "Available")
    job_id = pipeline["status"]["atProvider"]["jobId"]

    kubectl.ok(
        "apply", "-n", ns, "-f", "-", stdin=pipeline_manifest("edits", schedule="30 6 * * *", suspend=True)
    )

    def schedule() -> tuple[str | None, Any]:
        settings = sdk.jobs.get(job_id).settings
        assert settings is not None
        assert settings.schedule is not None
        return settings.schedule.quartz_cron_expression, settings.schedule.pause_status

    wait_for(
        lambda: schedule() == ("0 30 6 * * ?", jobs.PauseStatus.PAUSED), TIMEOUT, "the job to follow the spec"
    )
    assert stats(server).get("jobs/reset", 0) >= 1

    def generation_followed() -> bool:
        current = get(kubectl, ns, "mp/edits") or {}
        return bool(current["status"].get("observedGeneration") == current["metadata"]["generation"] == 2)

    wait_for(generation_followed, TIMEOUT, "observedGeneration to follow")
    assert "driftCorrectedAt" not in (get(kubectl, ns, "mp/edits") or {})["status"]["atProvider"]

    # Someone edits the job in the UI: the next poll resets what the spec sets and the status says so.
    sdk.jobs.update(
        job_id, new_settings=jobs.JobSettings(max_concurrent_runs=5, tags={"managed-by": "someone"})
    )

    def reset_back() -> bool:
        return (sdk.jobs.get(job_id).settings or jobs.JobSettings()).max_concurrent_runs == 1

    wait_for(reset_back, TIMEOUT, "the drift to be reset")
    settings = sdk.jobs.get(job_id).settings
    assert settings is not None
    assert settings.tags == {PIPELINE_TAG: f"{ns}/edits", "managed-by": "anthill"}

    def drift_recorded() -> bool:
        return "driftCorrectedAt" in ((get(kubectl, ns, "mp/edits") or {}).get("status") or {}).get(
            "atProvider", {}
        )

    wait_for(drift_recorded, TIMEOUT, "status.atProvider.driftCorrectedAt")
    events = kubectl.ok("get", "events", "-n", ns, "--field-selector", "reason=DriftCorrected", "-o", "name")
    assert events.strip()
    assert len(jobs_tagged(sdk, f"{ns}/edits")) == 1


def test_observe_adopts_an_existing_job_without_writing(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    existing = sdk.jobs.create(name=f"{ns}/adopted", max_concurrent_runs=3).job_id
    assert existing is not None
    before = stats(server)
    setup(kubectl, ns, server, pipeline_manifest("adopted", managementPolicies=["Observe"]))
    pipeline = wait_condition(kubectl, ns, "mp/adopted", "Ready", "Available")

    assert pipeline["metadata"]["annotations"]["anthill.io/external-name"] == str(existing)
    assert pipeline["status"]["atProvider"]["jobId"] == existing
    assert "differs from the spec" in condition(pipeline, "Ready")["message"]
    # A few polls later, still nothing written; deletion leaves the job (Observe does not include Delete).
    wait_for(lambda: stats(server).get("jobs/get", 0) >= before.get("jobs/get", 0) + 3, TIMEOUT, "polls")
    # Delete while a poll is in flight (the server counts a request before its injected delay): the
    # finalizer must go once that tick ends, not at kopf's next check of running timers a minute later.
    server.state.faults.delay = IN_FLIGHT_DELAY
    polled = stats(server).get("jobs/get", 0)
    wait_for(lambda: stats(server).get("jobs/get", 0) > polled, TIMEOUT, "a poll in flight")
    kubectl.ok("delete", "mp", "adopted", "-n", ns, f"--timeout={TIMEOUT}s")
    server.state.faults.delay = 0
    after = stats(server)
    assert all(after.get(w, 0) == before.get(w, 0) for w in WRITES), (before, after)
    settings = sdk.jobs.get(existing).settings
    assert settings is not None
    assert settings.max_concurrent_runs == 3


def test_observe_without_a_job_reports_it_missing(
    kubectl: Kubectl, feed_namespace: str, server: DatabricksServer, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    setup(kubectl, ns, server, pipeline_manifest("absent", managementPolicies=["Observe"]))
    pipeline = wait_condition(kubectl, ns, "mp/absent", "Ready", "JobNotFound")
    assert "no job is named" in condition(pipeline, "Ready")["message"]
    assert stats(server).get("jobs/create", 0) == 0


def test_delete_removes_the_job_and_orphan_leaves_it(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    setup(kubectl, ns, server, pipeline_manifest("doomed", suspend=True))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=pipeline_manifest("kept", deletionPolicy="Orphan"))
    doomed = wait_condition(kubectl, ns, "mp/doomed", "Ready", "Available")["status"]["atProvider"]["jobId"]
    kept = wait_condition(kubectl, ns, "mp/kept", "Ready", "Available")["status"]["atProvider"]["jobId"]

    # Suspended and paused: deletion still removes the job.
    kubectl.ok("annotate", "mp", "doomed", "-n", ns, "anthill.io/paused=true")
    wait_condition(kubectl, ns, "mp/doomed", "Synced", "ReconcilePaused")
    kubectl.ok("delete", "mp", "doomed", "kept", "-n", ns, "--timeout=30s")
    remaining = {job.job_id for job in sdk.jobs.list()}
    assert doomed not in remaining
    assert kept in remaining


def test_a_copied_external_name_neither_resets_nor_deletes_another_pipelines_job(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    setup(kubectl, ns, server, pipeline_manifest("victim"))
    job_id = wait_condition(kubectl, ns, "mp/victim", "Ready", "Available")["status"]["atProvider"]["jobId"]
    settings = sdk.jobs.get(job_id).settings
    # A manifest copied with the victim's job id, a schedule of its own and a run requested.
    copied = {"anthill.io/external-name": str(job_id), "anthill.io/run-now": "copied"}
    kubectl.ok("apply", "-n", ns, "-f", "-",
               stdin=pipeline_manifest("copycat", annotations=copied, schedule="0 1 * * *"))  # fmt: skip
    copycat = wait_condition(kubectl, ns, "mp/copycat", "Ready", "ExternalNotOwned")
    message = condition(copycat, "Ready")["message"]
    assert f"job {job_id} carries the tag {PIPELINE_TAG}='{ns}/victim', not '{ns}/copycat'" in message
    polls = stats(server).get("jobs/get", 0)
    wait_for(lambda: stats(server).get("jobs/get", 0) >= polls + 2, TIMEOUT, "two more polls")
    assert sdk.jobs.get(job_id).settings == settings
    assert not list(sdk.jobs.list_runs(job_id=job_id))

    kubectl.ok("delete", "mp", "copycat", "-n", ns, f"--timeout={TIMEOUT}s")
    assert sdk.jobs.get(job_id).settings == settings
    assert condition(get(kubectl, ns, "mp/victim"), "Ready")["reason"] == "Available"
    assert all(stats(server).get(w, 0) == 0 for w in ("jobs/reset", "jobs/delete", "jobs/run-now"))


def test_run_now_annotation_starts_one_run_per_token(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    setup(kubectl, ns, server, pipeline_manifest("runs"))
    job_id = wait_condition(kubectl, ns, "mp/runs", "Ready", "Available")["status"]["atProvider"]["jobId"]
    kubectl.ok("annotate", "mp", "runs", "-n", ns, "anthill.io/run-now=2026-11-28T09:00")

    def last_run() -> dict[str, Any]:
        return dict(
            ((get(kubectl, ns, "mp/runs") or {}).get("status") or {}).get("atProvider", {}).get("lastRun")
            or {}
        )

    wait_for(lambda: last_run().get("resultState") == "SUCCESS", TIMEOUT, "the run to show in status")
    at_provider = (get(kubectl, ns, "mp/runs") or {})["status"]["atProvider"]
    assert at_provider["runNowToken"] == "2026-11-28T09:00"
    assert at_provider["lastRun"]["runId"] == at_provider["lastRunNow"]
    # Polls with the same token start nothing more.
    polls = stats(server).get("jobs/get", 0)
    wait_for(lambda: stats(server).get("jobs/get", 0) >= polls + 2, TIMEOUT, "two more polls")
    assert len(list(sdk.jobs.list_runs(job_id=job_id))) == 1
    kubectl.ok("annotate", "mp", "runs", "-n", ns, "--overwrite", "anthill.io/run-now=second")
    wait_for(lambda: len(list(sdk.jobs.list_runs(job_id=job_id))) == 2, TIMEOUT, "a second run")


def test_bad_credentials_surface_as_unauthorized_and_a_fixed_secret_recovers(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    wrong = "dapi-not-the-right-token"
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest())
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection_manifest(server, token=wrong))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=pipeline_manifest("locked"))
    pipeline = wait_condition(kubectl, ns, "mp/locked", "Synced", "Unauthorized")
    connection = wait_condition(kubectl, ns, "databricksconnection/sandbox", "Ready", "Unauthorized")
    assert condition(connection, "Ready")["status"] == "False"
    assert "Invalid access token" in condition(pipeline, "Synced")["message"]
    everything = json.dumps(pipeline) + json.dumps(connection) + operator.log.read_text()
    assert wrong not in everything
    # No retry storm: polls every couple of seconds, but Databricks hears from this pipeline only after the
    # unauthorized back-off (a minute by default).
    calls = sum(stats(server).values())

    def unauthorized_polls() -> float:
        return operator.metric("anthill_reconcile_total", kind="MedallionPipeline", trigger="timer",
                               reason="Unauthorized")  # fmt: skip

    base = unauthorized_polls()
    wait_for(lambda: unauthorized_polls() >= base + 3, TIMEOUT, "three more polls of the locked pipeline")
    assert sum(stats(server).values()) <= calls + 1

    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection_manifest(server))
    wait_condition(kubectl, ns, "mp/locked", "Ready", "Available")
    assert len(jobs_tagged(sdk, f"{ns}/locked")) == 1


def test_missing_connection_and_databricks_rejection_are_conditions(
    kubectl: Kubectl, feed_namespace: str, server: DatabricksServer, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest())
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=pipeline_manifest("lonely"))
    lonely = wait_condition(kubectl, ns, "mp/lonely", "Synced", "ConnectionNotFound")
    assert f"DatabricksConnection {ns}/sandbox not found" in condition(lonely, "Synced")["message"]

    # The schema accepts any Region/City zone; Databricks does not know this one and answers 400.
    setup(kubectl, ns, server, pipeline_manifest("martian", timeZone="Mars/Olympus_Mons"))
    martian = wait_condition(kubectl, ns, "mp/martian", "Ready", "InvalidSpec")
    assert "Invalid timezone_id" in condition(martian, "Ready")["message"]
    # "lonely" recovers once its connection exists.
    wait_condition(kubectl, ns, "mp/lonely", "Ready", "Available")
    creates = stats(server).get("jobs/create", 0)

    def rejected_polls() -> float:  # only this namespace has a pipeline Databricks refused
        return operator.metric("anthill_reconcile_total", kind="MedallionPipeline", trigger="timer",
                               reason="InvalidSpec")  # fmt: skip

    base = rejected_polls()
    wait_for(lambda: rejected_polls() >= base + 2, TIMEOUT, "two more polls of martian")
    assert stats(server).get("jobs/create", 0) == creates  # not retried until the spec changes
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=pipeline_manifest("martian", timeZone="Europe/Berlin"))
    wait_condition(kubectl, ns, "mp/martian", "Ready", "Available")


def test_wheels_and_instance_profiles_outside_the_allowlists_are_refused(
    kubectl: Kubectl, feed_namespace: str, server: DatabricksServer, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    profile = {**CLUSTER, "instanceProfileArn": "arn:aws:iam::123456789012:instance-profile/admin"}
    refused: dict[str, tuple[dict[str, Any], str]] = {
        "wheel": ({"wheel": "/Workspace/Users/someone/miner.whl"}, "spec.runtime.databricks.wheel"),
        "profile": ({"cluster": profile}, "spec.runtime.databricks.cluster.instanceProfileArn"),
    }
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection_manifest(server))
    for name, (runtime, _) in refused.items():
        databricks = {"connectionRef": {"name": "sandbox"}, "cluster": CLUSTER, **runtime}
        kubectl.ok(
            "apply", "-n", ns, "-f", "-", stdin=pipeline_manifest(name, runtime={"databricks": databricks})
        )
    for name, (_, field) in refused.items():
        ready = condition(wait_condition(kubectl, ns, f"mp/{name}", "Ready", "InvalidSpec"), "Ready")
        assert ready["message"].startswith(f"{field}: "), ready
    assert stats(server).get("jobs/create", 0) == 0


def test_oauth_machine_to_machine_connection(
    kubectl: Kubectl, feed_namespace: str, server: DatabricksServer, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok("create", "secret", "generic", "sp", "-n", ns, f"--from-literal=client-id={DEFAULT_CLIENT_ID}",
               f"--from-literal=client-secret={DEFAULT_CLIENT_SECRET}")  # fmt: skip
    kubectl.ok("label", "secret", "sp", "-n", ns, "anthill.io/credentials=true")
    connection = {"apiVersion": "anthill.io/v1alpha1", "kind": "DatabricksConnection", "metadata": {"name": "sp"},
                  "spec": {"host": server.url, "authType": "oauth-m2m", "credentialsSecretRef": {"name": "sp"}}}  # fmt: skip
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=json.dumps(connection))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest())
    ready = wait_condition(kubectl, ns, "databricksconnection/sp", "Ready", "Available")
    assert ready["status"]["principal"] == DEFAULT_CLIENT_ID
    runtime = {"databricks": {"connectionRef": {"name": "sp"}, "cluster": CLUSTER}}
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=pipeline_manifest("m2m", runtime=runtime))
    pipeline = wait_condition(kubectl, ns, "mp/m2m", "Ready", "Available")
    job = server.state.jobs[pipeline["status"]["atProvider"]["jobId"]]
    assert job["creator_user_name"] == DEFAULT_CLIENT_ID
    assert DEFAULT_CLIENT_SECRET not in json.dumps(pipeline) + json.dumps(ready) + operator.log.read_text()


def test_a_pipeline_triggered_by_two_feeds_landing_starts_one_run_per_set(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    feeds = ("us-equities-daily", "us-indices-daily")
    for feed in feeds:
        kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest(feed))
    manifest = yaml.safe_load(pipeline_manifest("landed", feeds=feeds, trigger={"feedsLanded": {}}))
    del manifest["spec"]["schedule"]
    setup(kubectl, ns, server, yaml.safe_dump(manifest))
    pipeline = wait_condition(kubectl, ns, "mp/landed", "Ready", "Available")
    job_id = pipeline["status"]["atProvider"]["jobId"]
    settings = sdk.jobs.get(job_id).settings
    assert settings is not None
    assert settings.schedule is None, "the operator starts its runs, not a Databricks schedule"
    assert "waiting for us-equities-daily, us-indices-daily" in condition(pipeline, "Ready")["message"]

    def runs() -> int:
        return len(list(sdk.jobs.list_runs(job_id=job_id)))

    def land(feed: str, watermark: str) -> None:
        patch = json.dumps({"status": {"watermark": watermark}})
        kubectl.ok("patch", "mf", feed, "-n", ns, "--subresource=status", "--type=merge", "-p", patch)

    land("us-equities-daily", "2026-11-27")
    wait_for(lambda: "waiting for us-indices-daily" in condition(get(kubectl, ns, "mp/landed"), "Ready")["message"],
             TIMEOUT, "one feed landed")  # fmt: skip
    assert runs() == 0
    land("us-indices-daily", "2026-11-27")
    wait_for(lambda: runs() == 1, TIMEOUT, "one run once both feeds landed")
    [run] = sdk.jobs.list_runs(job_id=job_id)
    wait_for(lambda: "lastLanded" in (get(kubectl, ns, "mp/landed") or {})["status"]["atProvider"], TIMEOUT,
             "the run recorded")  # fmt: skip
    landed = (get(kubectl, ns, "mp/landed") or {})["status"]["atProvider"]["lastLanded"]
    assert landed["run"] == str(run.run_id)
    assert landed["watermarks"] == {"us-equities-daily": "2026-11-27", "us-indices-daily": "2026-11-27"}

    # Re-reported watermarks and more polls start nothing; run-now was asked once.
    land("us-equities-daily", "2026-11-27")
    polls = stats(server).get("jobs/get", 0)
    wait_for(lambda: stats(server).get("jobs/get", 0) >= polls + 2, TIMEOUT, "two more polls")
    assert runs() == 1
    assert stats(server).get("jobs/run-now", 0) == 1
    land("us-equities-daily", "2026-11-30")
    land("us-indices-daily", "2026-11-30")
    wait_for(lambda: runs() == 2, TIMEOUT, "a second run for the next set")
