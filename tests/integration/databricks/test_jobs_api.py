"""The Jobs client against the sandbox Jobs API, through the real databricks-sdk: the operator's external calls."""

from __future__ import annotations

import time
import traceback
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service import jobs

from anthill.pipeline.compare import needs_update, settings_to_apply
from anthill.pipeline.desired import Pipeline, desired_job_settings
from anthill.pipeline.jobs import (
    Credentials,
    InvalidSpecError,
    JobsError,
    ThrottledError,
    UnauthorizedError,
    UpstreamError,
)
from anthill.pipeline.sdk import DatabricksJobs, workspace_client
from anthill_api.pipeline import MedallionPipelineSpec
from anthill_sandbox.databricks import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_USER,
    DatabricksFaults,
    DatabricksServer,
    Echo,
    WorkspaceState,
)
from tests.integration.databricks.conftest import PAT, stats

pytestmark = pytest.mark.integration

WHEEL = "/Volumes/anthill/default/wheels/anthill_spark-0.1.0-py3-none-any.whl"
SPEC: dict[str, Any] = {
    "feeds": [{"name": "us-equities-daily"}],
    "lake": {"uri": "s3://anthill-lake-dev/market"},
    "catalog": {"name": "anthill_dev"},
    "schedule": "0 19 * * 1-5",
    "timeZone": "America/New_York",
    "runtime": {"databricks": {"connectionRef": {"name": "dev"},
                               "cluster": {"sparkVersion": "15.4.x-scala2.12", "nodeTypeId": "i3.xlarge",
                                           "numWorkers": 2}}},
}  # fmt: skip


def _desired(name: str = "us-equities", **spec: Any) -> jobs.JobSettings:
    bronze = ("s3://anthill-lake-dev/market/bronze/market/us-equities-daily",)
    pipeline = Pipeline(name, "market", MedallionPipelineSpec.model_validate({**SPEC, **spec}), bronze=bronze)
    return desired_job_settings(pipeline, WHEEL)


def test_create_then_get_returns_the_settings_with_server_defaults(client: DatabricksJobs) -> None:
    desired = _desired()
    job_id = client.create(desired)
    observed = client.get(job_id)
    assert observed is not None
    assert observed.creator == DEFAULT_USER
    stored = observed.settings.as_dict()
    assert stored["timeout_seconds"] == 0
    assert stored["format"] == "MULTI_TASK"
    assert stored["run_as"] == {"user_name": DEFAULT_USER}
    assert {task["run_if"] for task in stored["tasks"]} == {"ALL_SUCCESS"}
    # ... and none of those defaults count as drift
    assert not needs_update(desired, observed.settings)


def test_reset_brings_a_changed_spec_to_the_job(client: DatabricksJobs) -> None:
    job_id = client.create(_desired())
    changed = _desired(suspend=True, gold=["volatility"])
    observed = client.get(job_id)
    assert observed is not None
    assert needs_update(changed, observed.settings)
    client.reset(job_id, settings_to_apply(changed, observed.settings))
    after = client.get(job_id)
    assert after is not None
    assert after.settings.schedule is not None
    assert after.settings.schedule.pause_status == jobs.PauseStatus.PAUSED
    assert not needs_update(changed, after.settings)


def test_an_edit_in_the_ui_is_drift(client: DatabricksJobs, sdk: WorkspaceClient) -> None:
    desired = _desired()
    job_id = client.create(desired)
    edited = desired.as_dict()["job_clusters"][0]
    edited["new_cluster"]["node_type_id"] = "m5.large"
    sdk.jobs.update(job_id, new_settings=jobs.JobSettings(job_clusters=[jobs.JobCluster.from_dict(edited)]))
    observed = client.get(job_id)
    assert observed is not None
    assert observed.settings.as_dict()["job_clusters"][0]["new_cluster"]["node_type_id"] == "m5.large"
    assert needs_update(desired, observed.settings)


def test_update_merges_tasks_by_key_and_removes_by_path(client: DatabricksJobs, sdk: WorkspaceClient) -> None:
    job_id = client.create(_desired())
    sdk.jobs.update(job_id, new_settings=jobs.JobSettings(tasks=[jobs.Task(task_key="silver_to_gold",
                    depends_on=[jobs.TaskDependency(task_key="bronze_to_silver")], job_cluster_key="anthill",
                    python_wheel_task=jobs.PythonWheelTask(package_name="anthill_spark", entry_point="all"))]),
                    fields_to_remove=["schedule"])  # fmt: skip
    observed = client.get(job_id)
    assert observed is not None
    tasks = {task.task_key: task for task in observed.settings.tasks or []}
    assert set(tasks) == {"bronze_to_silver", "silver_to_gold"}
    assert tasks["silver_to_gold"].python_wheel_task is not None
    assert tasks["silver_to_gold"].python_wheel_task.entry_point == "all"
    assert observed.settings.schedule is None


def test_list_by_name_pages_through_every_match(
    server: DatabricksServer, client: DatabricksJobs, sdk: WorkspaceClient
) -> None:
    same = {client.create(jobs.JobSettings(name="Nightly")) for _ in range(25)}
    for n in range(5):
        client.create(jobs.JobSettings(name=f"other-{n}"))
    listed = [job.job_id or 0 for job in sdk.jobs.list(name="nightly", limit=7)]
    assert sorted(listed) == sorted(same)  # every page followed, each job once, the filter case-insensitive
    assert stats(server)["jobs/list"] == 4  # 7 + 7 + 7 + 4
    assert client.find_by_name("NIGHTLY") == sorted(same)
    assert all(job.settings is not None and not job.settings.tasks for job in sdk.jobs.list(limit=3))


def test_list_expands_tasks_only_when_asked(client: DatabricksJobs, sdk: WorkspaceClient) -> None:
    client.create(_desired())
    (brief,) = sdk.jobs.list()
    (expanded,) = sdk.jobs.list(expand_tasks=True)
    assert brief.settings is not None
    assert not brief.settings.tasks
    assert expanded.settings is not None
    assert len(expanded.settings.tasks or []) == 2


def test_find_by_tag_finds_the_pipelines_job_only(client: DatabricksJobs) -> None:
    """The create-pending guard's lookup after a crash: by tag, whatever the job's name became."""
    mine = client.create(_desired("us-equities"))
    client.create(_desired("crypto"))
    client.create(jobs.JobSettings(name="market/us-equities"))  # same name, no tag: not ours
    assert client.find_by_tag("market/us-equities") == [mine]
    assert client.find_by_tag("market/absent") == []


def test_delete_is_idempotent(client: DatabricksJobs) -> None:
    job_id = client.create(_desired())
    client.delete(job_id)
    assert client.get(job_id) is None
    client.delete(job_id)


def test_run_now_with_the_same_token_starts_one_run(server: DatabricksServer, client: DatabricksJobs,
                                                    sdk: WorkspaceClient) -> None:  # fmt: skip
    job_id = client.create(_desired())
    assert client.last_run(job_id) is None
    first = client.run_now(job_id, "market/us-equities/gen-1")
    assert client.run_now(job_id, "market/us-equities/gen-1") == first
    assert [run.run_id for run in sdk.jobs.list_runs(job_id=job_id)] == [first]
    second = client.run_now(job_id, "market/us-equities/gen-2")
    last = client.last_run(job_id)
    assert last is not None
    assert (last.run_id, last.state, last.result_state) == (second, "TERMINATED", "SUCCESS")
    assert last.start_time is not None
    assert last.end_time is not None


def test_runs_held_by_the_test_end_when_told() -> None:
    server = DatabricksServer(state=WorkspaceState(run_mode="hold")).start()
    try:
        client = DatabricksJobs.connect(server.url, Credentials(token=PAT))
        job_id = client.create(_desired())
        run_id = client.run_now(job_id, "t-1")
        running = client.last_run(job_id)
        assert running is not None
        assert (running.state, running.result_state, running.end_time) == ("RUNNING", None, None)
        server.jobs.finish_run(run_id, "FAILED")
        done = client.last_run(job_id)
        assert done is not None
        assert (done.state, done.result_state) == ("TERMINATED", "FAILED")
    finally:
        server.stop()


def test_held_runs_end_cancelled_when_cancelled_one_by_one_or_all_at_once() -> None:
    """runs/cancel and runs/cancel-all through the SDK; executed runs' cancels are in test_runs.py."""
    server = DatabricksServer(state=WorkspaceState(run_mode="hold")).start()
    try:
        sdk = workspace_client(server.url, Credentials(token=PAT))
        client = DatabricksJobs.connect(server.url, Credentials(token=PAT))
        job_id = client.create(_desired())
        first, second, third = (client.run_now(job_id, f"t-{n}") for n in range(3))
        sdk.jobs.cancel_run(first)
        assert [(r.run_id, (r.state or jobs.RunState()).result_state) for r in sdk.jobs.list_runs(job_id=job_id)] == [
            (third, None), (second, None), (first, jobs.RunResultState.CANCELED)]  # fmt: skip
        sdk.jobs.cancel_all_runs(job_id=job_id)
        assert not list(sdk.jobs.list_runs(job_id=job_id, active_only=True))
        with pytest.raises(InvalidParameterValue, match="does not exist"):
            sdk.jobs.cancel_run(99)
    finally:
        server.stop()


def test_a_bad_token_is_unauthorized_and_never_printed(server: DatabricksServer) -> None:
    wrong = "dapi-wrong0123456789abcdef0123456789"
    client = DatabricksJobs.connect(server.url, Credentials(token=wrong))
    with pytest.raises(UnauthorizedError, match="Invalid access token") as caught:
        client.get(1)
    assert wrong not in "".join(traceback.format_exception(caught.value))


def test_a_429_is_throttled_with_retry_after_and_not_retried_by_the_sdk() -> None:
    server = DatabricksServer(state=WorkspaceState(faults=DatabricksFaults(throttle_first=1, retry_after=30)))
    server.start()
    try:
        client = DatabricksJobs.connect(server.url, Credentials(token=PAT))
        with pytest.raises(ThrottledError) as caught:
            client.get(1)
        assert caught.value.retry_after == 30.0
        assert stats(server) == {"jobs/get": 1}  # the SDK did not sleep 30 s and try again
        assert client.get(1) is None  # the next call goes through
    finally:
        server.stop()


def test_a_500_is_upstream() -> None:
    server = DatabricksServer(state=WorkspaceState(faults=DatabricksFaults(server_error_first=1))).start()
    try:
        client = DatabricksJobs.connect(server.url, Credentials(token=PAT))
        with pytest.raises(UpstreamError, match="failed to handle"):
            client.create(_desired())
        assert stats(server) == {"jobs/create": 1}
    finally:
        server.stop()


def test_an_unreachable_workspace_is_upstream(server: DatabricksServer) -> None:
    client = DatabricksJobs.connect(server.url, Credentials(token=PAT))
    server.stop()
    with pytest.raises(UpstreamError, match="cannot reach Databricks"):
        client.get(1)


def _outcomes(seed: int) -> list[str]:
    faults = DatabricksFaults(throttle_rate=0.3, server_error_rate=0.2, seed=seed)
    server = DatabricksServer(state=WorkspaceState(faults=faults)).start()
    try:
        client = DatabricksJobs.connect(server.url, Credentials(token=PAT))
        outcomes = []
        for _ in range(20):
            try:
                client.get(1)
                outcomes.append("ok")
            except JobsError as exc:
                outcomes.append(type(exc).__name__)
        return outcomes
    finally:
        server.stop()


def test_random_faults_repeat_for_a_seed() -> None:
    first = _outcomes(seed=7)
    assert first == _outcomes(seed=7)
    assert {"ok", "ThrottledError", "UpstreamError"} <= set(first)


def test_latency_is_added() -> None:
    server = DatabricksServer(state=WorkspaceState(faults=DatabricksFaults(delay=0.3))).start()
    try:
        client = DatabricksJobs.connect(server.url, Credentials(token=PAT))
        started = time.monotonic()
        client.get(1)
        assert time.monotonic() - started >= 0.3
    finally:
        server.stop()


def test_oauth_m2m_acts_as_the_service_principal(server: DatabricksServer) -> None:
    client = DatabricksJobs.connect(server.url, Credentials(client_id=DEFAULT_CLIENT_ID,
                                                            client_secret=DEFAULT_CLIENT_SECRET))  # fmt: skip
    job_id = client.create(_desired())
    observed = client.get(job_id)
    assert observed is not None
    assert observed.creator == DEFAULT_CLIENT_ID
    assert observed.settings.as_dict()["run_as"] == {"service_principal_name": DEFAULT_CLIENT_ID}


def test_a_refused_oauth_client_is_unauthorized_and_its_secret_never_printed(
    server: DatabricksServer,
) -> None:
    secret = "not-the-secret-0123456789"
    client = DatabricksJobs.connect(
        server.url, Credentials(client_id=DEFAULT_CLIENT_ID, client_secret=secret)
    )
    with pytest.raises(UnauthorizedError, match="invalid_client") as caught:
        client.get(1)
    assert secret not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"schedule": "@hourly", "timeZone": "Mars/Olympus_Mons"}, "Invalid timezone_id",
                     id="time-zone"),
    ],
)  # fmt: skip
def test_databricks_rejects_settings_as_invalid_spec(client: DatabricksJobs, change: dict[str, Any],
                                                     message: str) -> None:  # fmt: skip
    with pytest.raises(InvalidSpecError, match=message):
        client.create(_desired(**change))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"name": "x", "colour": "blue"}, "Unknown field colour", id="unknown-field"),
        pytest.param({"tasks": [{"task_key": "a", "run_if": "SOMETIMES"}]}, "Invalid value for tasks[0].run_if",
                     id="bad-enum"),
        pytest.param({"tasks": [{"python_wheel_task": {"package_name": "p", "entry_point": "e"}}]},
                     "Missing required field: tasks[0].task_key", id="missing-required"),
        pytest.param({"max_concurrent_runs": "one"}, "expected an integer", id="wrong-type"),
        pytest.param({"tasks": [{"task_key": "b", "depends_on": [{"task_key": "a"}]}]}, "which is not a task",
                     id="unknown-dependency"),
        pytest.param({"schedule": {"quartz_cron_expression": "0 0 * * *", "timezone_id": "UTC"}},
                     "Invalid Quartz Cron Expression", id="unix-cron"),
    ],
)  # fmt: skip
def test_request_bodies_are_checked_against_the_sdk_types(server: DatabricksServer, body: dict[str, Any],
                                                          message: str) -> None:  # fmt: skip
    response = requests.post(f"{server.url}/api/2.2/jobs/create", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {PAT}"})  # fmt: skip
    assert response.status_code == 400
    error = response.json()
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in error["message"]


def test_errors_have_databricks_shape(server: DatabricksServer) -> None:
    response = requests.get(f"{server.url}/api/2.2/jobs/get?job_id=1", timeout=5)
    assert response.status_code == 401
    assert set(response.json()) == {"error_code", "message"}
    missing = requests.get(f"{server.url}/api/2.2/jobs/get?job_id=1", timeout=5,
                           headers={"Authorization": f"Bearer {PAT}"})  # fmt: skip
    assert (missing.status_code, missing.json()) == (
        400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 1 does not exist."})  # fmt: skip


ECHOED = "internal-page-marker"


@pytest.mark.parametrize(
    ("echo", "kind", "shown"),
    [
        pytest.param(Echo(500, "text", ECHOED), UpstreamError,
                     "HTTP 500 (the response was not a Databricks error; its body is not shown)", id="500-text"),
        pytest.param(Echo(401, "text", ECHOED), UnauthorizedError,
                     "HTTP 401 (the response was not a Databricks error; its body is not shown)", id="401-text"),
        pytest.param(Echo(400, "text", ECHOED), InvalidSpecError,
                     "HTTP 400 (the response was not a Databricks error; its body is not shown)", id="400-text"),
        pytest.param(Echo(500, "databricks", ECHOED), UpstreamError,
                     "HTTP 500 INTERNAL_ERROR: The request failed:", id="500-databricks-shape"),
    ],
)  # fmt: skip
def test_a_host_echoing_what_it_is_sent_is_never_read_back(
    echo: Echo, kind: type[JobsError], shown: str
) -> None:
    """An answer's body is summarised, never copied: a host that reflects the request (the token in its
    Authorization header) or serves some other service's content cannot be read through an error."""
    server = DatabricksServer(state=WorkspaceState(faults=DatabricksFaults(echo=echo))).start()
    try:
        client = DatabricksJobs.connect(server.url, Credentials(token=PAT))
        with pytest.raises(kind) as caught:
            client.get(1)
    finally:
        server.stop()
    assert shown in str(caught.value)
    printed = "".join(traceback.format_exception(caught.value))
    for part in (ECHOED, PAT, "Authorization", "GET /api"):
        assert part not in printed, printed


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("dapi-first-half\nsecond-half", id="line-feed"),
        pytest.param("dapi-first-half\r\nX-Injected: second-half", id="header-injection"),
    ],
)
def test_a_credential_with_a_line_break_never_reaches_the_error(server: DatabricksServer, token: str) -> None:
    """The HTTP library refuses the header and quotes it escaped ('...\\r\\n...'), which redacting the raw
    value never matched: the error is reported by its type, and nothing of the value is printed."""
    with pytest.raises(JobsError) as caught:
        DatabricksJobs.connect(server.url, Credentials(token=token)).get(1)
    printed = "".join(traceback.format_exception(caught.value))
    for part in ("dapi-first-half", "second-half", "X-Injected"):
        assert part not in printed, printed
