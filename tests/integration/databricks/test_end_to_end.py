"""A MedallionPipeline on Databricks from nothing, with nothing done by hand: the local control plane and the
operator, the sandbox workspace that executes runs, the wheel deployed by `anthill databricks deploy`, bronze
ingested from the sandbox market API by the real ingest. The run builds silver and gold, which are read back;
a run that fails shows why in the pipeline's status.

The figures a reader wants (deploy path, job, run states, row counts) are printed: run with ``-s`` to see them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from databricks.sdk import WorkspaceClient
from pyspark.sql import SparkSession

from anthill.pipeline.desired import BRONZE_TO_SILVER, SILVER_TO_GOLD
from anthill.pipeline.jobs import Credentials
from anthill.pipeline.sdk import workspace_client
from anthill_api.runtime import DATABRICKS_RUNTIME
from anthill_devkit.controlplane import Binaries, terminate, wait_for
from anthill_sandbox.databricks import DEFAULT_TOKEN, DatabricksServer, WorkspaceState
from anthill_sandbox.server import SandboxServer
from anthill_spark.lake import Lake, read_table
from tests.helpers import anthill
from tests.integration.conftest import private_plane, start_operator
from tests.integration.databricks.conftest import CREDENTIALS_LABEL
from tests.integration.ingest.conftest import feed_doc, run_ingest, sandbox
from tests.integration.kubectl import Kubectl, condition, get, wait_condition

__all__ = ["sandbox"]
pytestmark = [pytest.mark.integration, pytest.mark.slow]

NS = "market"  # the namespace the ingest's feed documents carry, so bronze lies where the pipeline reads it
VOLUME = "/Volumes/anthill/artifacts/wheels"
FEEDS = {"equities": ["AAPL", "MSFT"], "more-equities": ["NVDA"]}
GOLD = ["daily_returns", "volatility", "moving_averages"]
RUN_TIMEOUT = 420  # two tasks, a JVM each, on a busy 2-core machine
TIMEOUT = 60
# The shape of the platform's policy (terraform/modules/databricks-unity-catalog's databricks_cluster_policy).
POLICY = {
    "spark_version": {"type": "fixed", "value": DATABRICKS_RUNTIME},
    "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"},
    "node_type_id": {"type": "allowlist", "values": ["m6i.large", "m6i.xlarge"], "defaultValue": "m6i.large"},
    "custom_tags.environment": {"type": "fixed", "value": "dev"},
}


@pytest.fixture(scope="module")
def cluster(binaries: Binaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, Path]]:
    with private_plane(binaries, tmp_path_factory.mktemp("end-to-end"), NS) as (_, kubectl, kubeconfig):
        yield kubectl, kubeconfig


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[DatabricksServer]:
    """A workspace that executes its runs, with an empty wheels volume."""
    server = DatabricksServer(state=WorkspaceState(volumes={VOLUME}, run_root=tmp_path / "runs")).start()
    yield server
    server.stop()


def _manifests(workspace: DatabricksServer, lake: str) -> str:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "massive-api"},
              "stringData": {"apiKey": "sandbox"}}  # fmt: skip
    feeds = []
    for name, tickers in FEEDS.items():
        doc = feed_doc(name, lake, tickers=tickers, backfill={"from": "2024-01-02"})
        del doc["metadata"]["namespace"]
        feeds.append(doc)
    credentials = {"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "workspace-credentials", "labels": {CREDENTIALS_LABEL: "true"}},
                   "stringData": {"token": DEFAULT_TOKEN}}  # fmt: skip
    connection = {"apiVersion": "anthill.io/v1alpha1", "kind": "DatabricksConnection",
                  "metadata": {"name": "workspace"},
                  "spec": {"host": workspace.url, "credentialsSecretRef": {"name": "workspace-credentials"},
                           "wheelVolume": VOLUME}}  # fmt: skip
    pipeline = {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": "MedallionPipeline",
        "metadata": {"name": "medallion"},
        "spec": {
            "feeds": [{"name": name} for name in FEEDS],
            "lake": {"uri": lake},
            "catalog": {"name": "anthill_dev"},
            "gold": GOLD,
            "schedule": "0 19 * * 1-5",
            "timeZone": "America/New_York",
            "runtime": {"databricks": {"connectionRef": {"name": "workspace"}, "cluster": {"nodeTypeId": "m6i.xlarge"}}},
        },
    }  # fmt: skip
    return yaml.safe_dump_all([secret, *feeds, credentials, connection, pipeline])


def _last_run(kubectl: Kubectl) -> dict[str, Any]:
    at_provider = ((get(kubectl, NS, "mp/medallion") or {}).get("status") or {}).get("atProvider") or {}
    return dict(at_provider.get("lastRun") or {})


def _run_to_the_end(kubectl: Kubectl, token: str, previous: int | None) -> dict[str, Any]:
    kubectl.ok("annotate", "mp", "medallion", "-n", NS, "--overwrite", f"anthill.io/run-now={token}")
    seen: list[str] = []

    def ended() -> bool:
        run = _last_run(kubectl)
        if run.get("runId") in (None, previous):
            return False
        state = f"{run.get('state')}/{run.get('resultState', '-')}"
        if not seen or seen[-1] != state:
            seen.append(state)
        return run.get("state") in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED")

    wait_for(ended, RUN_TIMEOUT, f"run {token} to end, as lastRun shows it", interval=1.0)
    print(f"run {token}: lastRun went {' -> '.join(seen)}")
    # A run still going has no result: not the one of the run before it, left behind by a merge patch.
    assert all(state.endswith("/-") for state in seen[:-1]), seen
    return _last_run(kubectl)


def _deploy(workspace: DatabricksServer, wheel: Path) -> str:
    """`anthill databricks deploy` as the release workflow runs it: credentials from the environment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "ANTHILL_"))}
    env |= {
        "DATABRICKS_HOST": workspace.url,
        "DATABRICKS_TOKEN": DEFAULT_TOKEN,
        "ANTHILL_WHEEL_VOLUME": VOLUME,
    }
    deployed = anthill("databricks", "deploy", str(wheel), env=env)
    assert deployed.returncode == 0, deployed.stderr
    path = deployed.stdout.strip().splitlines()[-1]
    print(f"deploy: {deployed.stderr.strip()} -> {path}")
    return path


def _check_tables(spark: SparkSession, lake: str) -> None:
    """Silver holds every feed's tickers, and so does each gold table the pipeline builds."""
    tables = Lake(lake)
    everyone = {ticker for tickers in FEEDS.values() for ticker in tickers}
    bars = read_table(spark, tables, "silver", "bars")
    assert {row["ticker"] for row in bars.select("ticker").distinct().collect()} == everyone
    counts = {}
    for table in GOLD:
        frame = read_table(spark, tables, "gold", table)
        counts[table] = frame.count()
        assert {row["ticker"] for row in frame.select("ticker").distinct().collect()} == everyone, table
    print(f"silver.bars {bars.count()} rows; gold rows {counts}")


def test_a_pipeline_on_databricks_deploys_creates_runs_and_builds_gold(
    cluster: tuple[Kubectl, Path],
    workspace: DatabricksServer,
    sandbox: SandboxServer,
    built_wheel: Path,
    spark: SparkSession,
    tmp_path: Path,
) -> None:
    kubectl, kubeconfig = cluster
    sdk: WorkspaceClient = workspace_client(workspace.url, Credentials(token=DEFAULT_TOKEN))
    policy = sdk.cluster_policies.create(name="anthill_dev-jobs", definition=json.dumps(POLICY)).policy_id
    assert policy is not None
    process, _ = start_operator(kubeconfig, tmp_path / "operator.log", {"ANTHILL_CLUSTER_POLICY_ID": policy})
    try:
        lake = f"file://{tmp_path / 'lake'}"
        for name, tickers in FEEDS.items():  # what the feeds' CronJob pods do, in-process
            landed = run_ingest(tmp_path, feed_doc(name, lake, tickers=tickers, backfill={"from": "2024-01-02"}),
                                sandbox, today="2024-07-01")  # fmt: skip
            assert landed.exit_code == 0, landed.output
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=_manifests(workspace, lake))

        # 1. Nothing deployed: no job yet, and the status says what to do.
        wait_condition(kubectl, NS, "mp/medallion", "Ready", "WheelNotDeployed", TIMEOUT)
        assert workspace.state.jobs == {}

        # 2. The release step deploys the wheel; the operator creates the job on it, under the policy.
        path = _deploy(workspace, built_wheel)
        ready = wait_condition(kubectl, NS, "mp/medallion", "Ready", "Available", TIMEOUT)
        job_id = int(ready["status"]["atProvider"]["jobId"])
        settings = sdk.jobs.get(job_id).settings
        assert settings is not None
        assert {lib.whl for task in settings.tasks or [] for lib in task.libraries or []} == {path}
        [job_cluster] = settings.job_clusters or []
        assert job_cluster.new_cluster is not None
        assert job_cluster.new_cluster.policy_id == policy
        print(f"job {job_id}: {condition(ready, 'Ready')['message']}")

        # 3. A run builds silver and gold; lastRun follows it to SUCCESS.
        run = _run_to_the_end(kubectl, "first", None)
        assert run["resultState"] == "SUCCESS", run
        tasks = {task.task_key: task for task in sdk.jobs.get_run(run["runId"]).tasks or []}
        assert set(tasks) == {BRONZE_TO_SILVER, SILVER_TO_GOLD}
        output = sdk.jobs.get_run_output(tasks[BRONZE_TO_SILVER].run_id or 0)
        assert output.logs is not None
        assert "anthill_dev" in output.logs.splitlines()[0], (
            "the Unity Catalog names were mapped, and said so"
        )
        _check_tables(spark, lake)

        # 4. Bronze a broken writer left behind: the run fails, and lastRun says where and why.
        broken = tmp_path / f"lake/bronze/{NS}/equities/aggregates/1day/date=2024-07-01"
        broken.mkdir(parents=True, exist_ok=True)
        (broken / "torn.parquet").write_bytes(b"not parquet at all")
        failed = _run_to_the_end(kubectl, "second", run["runId"])
        assert failed["resultState"] == "FAILED", failed
        assert failed["message"].startswith(f"task {BRONZE_TO_SILVER}: "), failed
        print(f"failed run's lastRun: {failed}")
        states = {t.task_key: t.state.result_state.value for t in sdk.jobs.get_run(failed["runId"]).tasks or []
                  if t.state is not None and t.state.result_state is not None}  # fmt: skip
        assert states == {BRONZE_TO_SILVER: "FAILED", SILVER_TO_GOLD: "UPSTREAM_FAILED"}
    finally:
        kubectl("delete", "mp", "--all", "-n", NS, "--timeout=120s")
        terminate(process.pid)
        process.wait(timeout=15)
