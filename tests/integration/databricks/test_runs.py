"""Runs the local Databricks server executes: the operator's job, the built wheel, bronze from the sandbox API.

Everything is real: the anthill-spark wheel built by uv and put in the workspace's Files store, bronze ingested
from the sandbox market API, the job built by the operator's own builder and created through databricks-sdk,
its tasks run by the server in the runtime environment with local Spark and Delta, the tables read back with
local Spark. Each Spark run costs a JVM start per task, so there are few of them.
"""

from __future__ import annotations

import datetime
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import psutil
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service import jobs
from pyspark.sql import SparkSession

from anthill.pipeline.desired import BRONZE_TO_SILVER, SILVER_TO_GOLD, Pipeline, desired_job_settings
from anthill.pipeline.jobs import Credentials
from anthill.pipeline.sdk import DatabricksJobs, workspace_client
from anthill_api import runtime
from anthill_api.pipeline import MedallionPipelineSpec
from anthill_devkit.controlplane import wait_for
from anthill_sandbox.databricks import DEFAULT_TOKEN, DatabricksServer, WorkspaceState
from anthill_sandbox.databricks.runtime_env import RuntimeEnv, ensure_runtime
from anthill_sandbox.server import SandboxServer
from anthill_spark.lake import Lake, read_table
from tests.integration.ingest.conftest import S3_ENV, bucket, feed_doc, moto_endpoint, run_ingest, sandbox

__all__ = ["bucket", "moto_endpoint", "sandbox"]
pytestmark = [pytest.mark.integration, pytest.mark.slow]

WHEEL = "/Volumes/anthill/default/wheels/anthill_spark-0.1.0-py3-none-any.whl"
TICKERS = ["AAPL", "MSFT"]
GOLD = ["daily_returns", "moving_averages"]
RUN_TIMEOUT = 300  # two JVM starts and a few Delta commits on a busy 2-core machine


@pytest.fixture(scope="module")
def wheel(built_wheel: Path) -> bytes:
    return built_wheel.read_bytes()


@pytest.fixture(scope="module")
def runtime_env() -> RuntimeEnv:
    """Built once (and cached across sessions) before any test's clock starts."""
    return ensure_runtime()


@pytest.fixture
def workspace(wheel: bytes, runtime_env: RuntimeEnv, tmp_path: Path) -> Iterator[DatabricksServer]:
    """A workspace that executes its runs, with the wheel deployed where the operator's jobs look for it."""
    server = DatabricksServer(state=WorkspaceState(run_root=tmp_path / "runs")).start()
    server.state.files[WHEEL] = wheel
    yield server
    server.stop()


@pytest.fixture
def sdk(workspace: DatabricksServer) -> WorkspaceClient:
    return workspace_client(workspace.url, Credentials(token=DEFAULT_TOKEN))


@pytest.fixture
def lake(tmp_path: Path, sandbox: SandboxServer) -> str:
    """A file:// lake with the bronze of one daily-bars feed, market/equities, ingested from the sandbox API."""
    uri = f"file://{tmp_path / 'lake'}"
    doc = feed_doc("equities", uri, tickers=TICKERS, backfill={"from": "2024-05-01"})
    assert run_ingest(tmp_path, doc, sandbox, today="2024-07-01").exit_code == 0
    return uri


def _pipeline(lake: str, bronze: str | None = None) -> Pipeline:
    spec = MedallionPipelineSpec.model_validate({
        "feeds": [{"name": "equities"}],
        "lake": {"uri": lake},
        "catalog": {"name": "anthill_dev"},
        "gold": GOLD,
        "schedule": "0 19 * * 1-5",
        "runtime": {"databricks": {"connectionRef": {"name": "sandbox"},
                                   "cluster": {"sparkVersion": runtime.DATABRICKS_RUNTIME, "nodeTypeId": "m6i.xlarge"}}},
    })  # fmt: skip
    return Pipeline("medallion", "market", spec, bronze=(bronze or f"{lake}/bronze/market/equities",))


def _create(workspace: DatabricksServer, pipeline: Pipeline, wheel: str = WHEEL) -> int:
    """The job the operator would create for ``pipeline``, created as the operator creates it."""
    return DatabricksJobs.connect(workspace.url, Credentials(token=DEFAULT_TOKEN)).create(
        desired_job_settings(pipeline, wheel)
    )


def _run_now(sdk: WorkspaceClient, job_id: int) -> int:
    started: jobs.RunNowResponse = sdk.jobs.run_now(job_id).response
    assert started.run_id is not None
    return started.run_id


def _terminated(sdk: WorkspaceClient, run_id: int) -> jobs.Run:
    def done() -> bool:
        state = sdk.jobs.get_run(run_id).state
        return state is not None and state.life_cycle_state in (jobs.RunLifeCycleState.TERMINATED,
                                                                jobs.RunLifeCycleState.INTERNAL_ERROR)  # fmt: skip

    wait_for(done, RUN_TIMEOUT, f"run {run_id} to end", interval=0.5)
    return sdk.jobs.get_run(run_id)


def _tasks(run: jobs.Run) -> dict[str, jobs.RunTask]:
    return {task.task_key: task for task in run.tasks or []}


def _result(state: jobs.RunState | None) -> tuple[str | None, str | None]:
    assert state is not None
    life = state.life_cycle_state.value if state.life_cycle_state else None
    return life, state.result_state.value if state.result_state else None


def test_a_pipeline_job_runs_its_wheel_and_builds_silver_and_gold(
    workspace: DatabricksServer, sdk: WorkspaceClient, lake: str, spark: SparkSession
) -> None:
    job_id = _create(workspace, _pipeline(lake))
    began = time.monotonic()
    run_id = _run_now(sdk, job_id)
    # run-now returns at once, as on Databricks: the run is still being set up or running.
    assert _result(sdk.jobs.get_run(run_id).state) in (("PENDING", None), ("RUNNING", None))
    run = _terminated(sdk, run_id)
    wall = time.monotonic() - began
    for task in run.tasks or []:
        print(f"{task.task_key}: setup {task.setup_duration} ms, execution {task.execution_duration} ms")
    print(f"two-task run: {wall:.1f} s wall")

    assert _result(run.state) == ("TERMINATED", "SUCCESS")
    tasks = _tasks(run)
    assert {key: _result(task.state) for key, task in tasks.items()} == {
        BRONZE_TO_SILVER: ("TERMINATED", "SUCCESS"),
        SILVER_TO_GOLD: ("TERMINATED", "SUCCESS"),
    }
    silver, gold = tasks[BRONZE_TO_SILVER], tasks[SILVER_TO_GOLD]
    assert run.start_time is not None
    assert run.end_time is not None
    assert silver.start_time
    assert silver.end_time
    assert gold.start_time
    assert gold.end_time
    assert (
        run.start_time
        <= silver.start_time
        < silver.end_time
        <= gold.start_time
        < gold.end_time
        <= run.end_time
    )
    assert silver.attempt_number == gold.attempt_number == 0
    assert silver.execution_duration
    assert silver.execution_duration > 0
    assert len({run_id, silver.run_id, gold.run_id}) == 3

    output = sdk.jobs.get_run_output(silver.run_id or 0)
    assert output.error is None
    assert (output.logs or "").splitlines()[0] == (
        "anthill sandbox: Unity Catalog names cannot resolve without a metastore; dropped --catalog anthill_dev, "
        "--silver-schema silver, --gold-schema gold: tables stay path-based under --lake"
    )
    assert "Using incubator modules" in (output.logs or "")  # the JVM's own start-up line: in the task's log
    # A multi-task run has no output of its own: Databricks asks for a task's.
    with pytest.raises(InvalidParameterValue, match="individual task run"):
        sdk.jobs.get_run_output(run_id)

    tables = Lake(lake)
    bars = read_table(spark, tables, "silver", "bars")
    assert sorted(row.ticker for row in bars.select("ticker").distinct().collect()) == TICKERS
    for table in GOLD:
        frame = read_table(spark, tables, "gold", table)
        assert sorted(row.ticker for row in frame.select("ticker").distinct().collect()) == TICKERS, table
    last = read_table(spark, tables, "gold", "daily_returns").agg({"date": "max"}).collect()[0][0]
    assert last == datetime.date(2024, 6, 28)


def test_a_failing_task_fails_the_run_and_its_dependant_never_starts(
    workspace: DatabricksServer, sdk: WorkspaceClient, bucket: str, moto_endpoint: str
) -> None:
    """On an S3 lake (the moto server, reached through the server's run_env as a cluster reaches S3 through its
    instance profile): the task gets as far as reading the bronze object, which is not Parquet."""
    workspace.state.run_env = {**S3_ENV, "AWS_ENDPOINT_URL": moto_endpoint}
    lake = f"s3://{bucket}/market"
    key = "market/bronze/market/equities/aggregates/1day/date=2024-06-28/equities.parquet"
    boto3.client("s3").put_object(
        Bucket=bucket, Key=key, Body=b"not parquet at all"
    )  # a broken writer's leftover
    run_id = _run_now(sdk, _create(workspace, _pipeline(lake)))
    run = _terminated(sdk, run_id)

    assert _result(run.state) == ("TERMINATED", "FAILED")
    silver, gold = _tasks(run)[BRONZE_TO_SILVER], _tasks(run)[SILVER_TO_GOLD]
    assert _result(silver.state) == ("TERMINATED", "FAILED")
    assert _result(gold.state) == ("TERMINATED", "UPSTREAM_FAILED")
    assert not gold.start_time  # never started
    assert workspace.jobs.runner.pid(gold.run_id or 0) is None
    output = sdk.jobs.get_run_output(silver.run_id or 0)
    assert output.error
    assert output.error_trace
    # The exception's own line, with the Java exception a Py4JJavaError carries; the cause, deeper down the
    # trace, shows the object was read: it is S3's answer, not S3 refusing.
    assert output.error.startswith("py4j.protocol.Py4JJavaError: An error occurred while calling "), (
        output.error
    )
    assert "org.apache.spark.SparkException" in output.error
    assert output.error.partition(". ")[0] in output.error_trace
    assert "is not a Parquet file" in output.error_trace
    assert run.state
    assert run.state.state_message == (
        f"Task {BRONZE_TO_SILVER} failed with message: {output.error}. "
        "This caused all downstream tasks to get skipped."
    )


def test_a_cancelled_run_stops_its_process_and_its_jvm(
    workspace: DatabricksServer, sdk: WorkspaceClient, lake: str
) -> None:
    run_id = _run_now(sdk, _create(workspace, _pipeline(lake)))
    task_run_id = _tasks(sdk.jobs.get_run(run_id))[BRONZE_TO_SILVER].run_id or 0
    wait_for(lambda: workspace.jobs.runner.pid(task_run_id) is not None, RUN_TIMEOUT, "the task's process")
    process = psutil.Process(workspace.jobs.runner.pid(task_run_id))

    def jvm() -> list[psutil.Process]:
        try:
            return [child for child in process.children(recursive=True) if "java" in child.name()]
        except psutil.NoSuchProcess:
            return []

    wait_for(lambda: bool(jvm()), RUN_TIMEOUT, "the task's JVM")
    started = jvm()
    sdk.jobs.cancel_run(run_id)
    run = _terminated(sdk, run_id)

    assert _result(run.state) == ("TERMINATED", "CANCELED")
    assert run.state
    assert run.state.user_cancelled_or_timedout
    tasks = _tasks(run)
    assert _result(tasks[BRONZE_TO_SILVER].state) == ("TERMINATED", "CANCELED")
    assert _result(tasks[SILVER_TO_GOLD].state) == ("TERMINATED", "UPSTREAM_CANCELED")
    assert not psutil.pid_exists(process.pid)
    # The JVM is reparented once its launcher dies: it must be gone, or a zombie nobody reaps.
    wait_for(lambda: not any(_alive(child) for child in started), 30, "the task's JVM to end")


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _tiny_wheel(path: Path, name: str, requires: list[str]) -> bytes:
    """A wheel with one module and ``requires``: what someone might publish by mistake."""
    info = f"{name}-0.1.dist-info"
    metadata = "\n".join(["Metadata-Version: 2.1", f"Name: {name}", "Version: 0.1",
                          *(f"Requires-Dist: {r}" for r in requires)]) + "\n"  # fmt: skip
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/__init__.py", "def main() -> None:\n    pass\n")
        archive.writestr(f"{info}/METADATA", metadata)
        archive.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("deployed", "message"),
    [
        # The job names a wheel nobody deployed: Databricks fails the task before it starts, naming the path.
        pytest.param(
            False,
            "/Volumes/anthill/default/wheels/bronze_tools-0.1-py3-none-any.whl does not exist",
            id="missing-wheel",
        ),
        # A wheel that brings its own pyspark would replace the runtime's: refused, the distribution named.
        pytest.param(
            True, "it installs py4j, pyspark, which Databricks Runtime provides", id="wheel-requires-pyspark"
        ),
    ],
)
def test_a_library_that_cannot_be_installed_fails_the_task_before_it_starts(
    workspace: DatabricksServer, sdk: WorkspaceClient, tmp_path: Path, deployed: bool, message: str
) -> None:
    path = "/Volumes/anthill/default/wheels/bronze_tools-0.1-py3-none-any.whl"
    if deployed:
        wheel = _tiny_wheel(tmp_path / Path(path).name, "bronze_tools", [f"pyspark=={runtime.PYSPARK}"])
        workspace.state.files[path] = wheel
    run = _terminated(
        sdk, _run_now(sdk, _create(workspace, _pipeline(f"file://{tmp_path}/lake"), wheel=path))
    )

    assert _result(run.state) == ("INTERNAL_ERROR", "FAILED")
    silver, gold = _tasks(run)[BRONZE_TO_SILVER], _tasks(run)[SILVER_TO_GOLD]
    assert _result(silver.state) == ("INTERNAL_ERROR", "FAILED")
    assert _result(gold.state) == ("TERMINATED", "UPSTREAM_FAILED")
    assert workspace.jobs.runner.pid(silver.run_id or 0) is None  # nothing ran
    error = sdk.jobs.get_run_output(silver.run_id or 0).error or ""
    assert error.startswith(f'Library installation failed for library due to user error for whl: "{path}"')
    assert message in error
