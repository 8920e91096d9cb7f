"""MedallionPipelines when things go wrong: the operator killed mid-create, a Jobs API failing 30% of calls.

Runs on a control plane of its own, with an operator process the tests may kill, so the session's operator
does not act on these pipelines.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config

from anthill.kube import Store
from anthill.pipeline.connections import Connections
from anthill.pipeline.desired import PIPELINE_TAG
from anthill.pipeline.external import CREATE_PENDING
from anthill.pipeline.reconcile import PipelineReconciler
from anthill.pipeline.results import Result, RetryLaterError
from anthill.settings import OperatorSettings
from anthill_devkit.controlplane import Binaries, terminate, wait_for
from anthill_sandbox.databricks import DatabricksFaults, DatabricksServer, WorkspaceState
from tests.integration.conftest import private_plane, start_operator
from tests.integration.databricks.conftest import connection_manifest, feed_manifest, pipeline_manifest, stats
from tests.integration.kubectl import Kubectl, condition, get

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NS = "pipelines"
FAST_RETRIES = {"ANTHILL_BACKOFF_MAX": "4", "ANTHILL_UNAUTHORIZED_RETRY": "5"}


@pytest.fixture(scope="module")
def cluster(binaries: Binaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, Path]]:
    """A control plane with the CRDs, the operator's RBAC and a namespace whose Secrets it may read."""
    with private_plane(binaries, tmp_path_factory.mktemp("pipeline-faults"), NS) as (_, kubectl, kubeconfig):
        yield kubectl, kubeconfig


def _clean_up(kubectl: Kubectl, process: subprocess.Popen[bytes] | None, server: DatabricksServer) -> None:
    """Delete the pipelines while the operator still runs (their finalizer needs it), then stop both."""
    kubectl("delete", "mp", "--all", "-n", NS, "--timeout=120s")
    kubectl("delete", "databricksconnection", "--all", "-n", NS, "--timeout=30s")
    if process is not None and process.poll() is None:
        terminate(process.pid)
        process.wait(timeout=15)
    server.stop()


@pytest.fixture
def operator_log(tmp_path: Path) -> Path:
    return tmp_path / "operator.log"


def _tagged(server: DatabricksServer) -> Counter[str]:
    with server.state.lock:
        return Counter(
            job["settings"].get("tags", {}).get(PIPELINE_TAG, "") for job in server.state.jobs.values()
        )


def _annotation(kubectl: Kubectl, name: str, key: str) -> str | None:
    pipeline = get(kubectl, NS, f"mp/{name}") or {}
    value = (pipeline.get("metadata", {}).get("annotations") or {}).get(key)
    return str(value) if value is not None else None


def test_operator_killed_between_create_pending_and_create_leaves_one_job(
    cluster: tuple[Kubectl, Path], operator_log: Path
) -> None:
    kubectl, kubeconfig = cluster
    server = DatabricksServer().start()
    process: subprocess.Popen[bytes] | None = None
    try:
        process, _ = start_operator(kubeconfig, operator_log, FAST_RETRIES)
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feed_manifest())
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=connection_manifest(server))
        # Every API answer now takes 5 s: the create is still in flight when the operator dies.
        server.state.faults.delay = 5
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=pipeline_manifest("crash"))
        wait_for(lambda: stats(server).get("jobs/create", 0) == 1, 30, "jobs/create to be called")
        assert _annotation(kubectl, "crash", "anthill.io/external-create-pending")
        process.send_signal(signal.SIGKILL)
        process.wait()
        # The server finishes the create nobody is waiting for: a job exists, its id recorded nowhere.
        wait_for(lambda: sum(_tagged(server).values()) == 1, 30, "the orphaned create to finish")
        assert _annotation(kubectl, "crash", "anthill.io/external-name") is None
        server.state.faults.delay = 0

        process, _ = start_operator(kubeconfig, operator_log, FAST_RETRIES)
        wait_for(lambda: _annotation(kubectl, "crash", "anthill.io/external-name") is not None, 30,
                 "the restarted operator to record the job")  # fmt: skip
        (job_id,) = server.state.jobs
        assert _annotation(kubectl, "crash", "anthill.io/external-name") == str(job_id)
        assert _annotation(kubectl, "crash", "anthill.io/external-create-pending") is None
        wait_for(lambda: condition(get(kubectl, NS, "mp/crash"), "Ready").get("reason") == "Available", 30,
                 "Ready")  # fmt: skip
        assert stats(server)["jobs/create"] == 1
        assert _tagged(server) == Counter({f"{NS}/crash": 1})
        assert "AdoptedPending" in kubectl.ok("get", "events", "-n", NS, "-o", "yaml")
    finally:
        _clean_up(kubectl, process, server)


def test_fifty_pipelines_converge_through_thirty_percent_faults_without_duplicates(
    cluster: tuple[Kubectl, Path], operator_log: Path
) -> None:
    kubectl, kubeconfig = cluster
    faults = DatabricksFaults(throttle_rate=0.15, server_error_rate=0.15, retry_after=1, seed=7)
    server = DatabricksServer(state=WorkspaceState(faults=faults)).start()
    names = [f"p{index:02d}" for index in range(50)]
    process: subprocess.Popen[bytes] | None = None
    try:
        process, _ = start_operator(kubeconfig, operator_log, FAST_RETRIES)
        manifests = [feed_manifest(), connection_manifest(server)] + [
            pipeline_manifest(name) for name in names
        ]
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin="---\n".join(manifests))

        def ready() -> int:
            listed = yaml.safe_load(kubectl.ok("get", "mp", "-n", NS, "-o", "yaml"))["items"]
            return sum(condition(item, "Ready").get("reason") == "Available" for item in listed)

        wait_for(lambda: ready() == len(names), 180, "all 50 pipelines to be Ready")
        served = stats(server)
        assert served["jobs/create"] > len(names)  # failed creates were retried
        assert _tagged(server) == Counter({f"{NS}/{name}": 1 for name in names})
        for name in names:
            pipeline = get(kubectl, NS, f"mp/{name}") or {}
            job_id = pipeline["status"]["atProvider"]["jobId"]
            assert server.state.jobs[job_id]["settings"]["tags"][PIPELINE_TAG] == f"{NS}/{name}"
            assert pipeline["metadata"]["annotations"]["anthill.io/external-name"] == str(job_id)
        log = operator_log.read_text()
        assert "Traceback" not in log, log[-3000:]
    finally:
        _clean_up(kubectl, process, server)


class _RacingStore(Store):
    """The operator's Store, except that its first "create pending" write waits for the other replica's, so
    both are made from the same read of the pipeline: the race two replicas run into, every time."""

    def __init__(self, kubeconfig: Path, barrier: threading.Barrier) -> None:
        super().__init__(config.new_client_from_config(config_file=str(kubeconfig)))  # type: ignore[no-untyped-call]
        self.barrier = barrier
        self.raced = False

    def patch_annotations(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        annotations = kwargs.get("annotations", args[3] if len(args) > 3 else {})
        if annotations.get(CREATE_PENDING) and not self.raced:
            self.raced = True
            self.barrier.wait(timeout=60)
        return super().patch_annotations(*args, **kwargs)


def _reconcile_until_ready(reconciler: PipelineReconciler, name: str, outcomes: list[str]) -> None:
    """What kopf does with a handler: call it again after the delay it asked for, until it succeeds."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            result: Result = reconciler.reconcile({"metadata": {"namespace": NS, "name": name}})
        except RetryLaterError as exc:
            outcomes.append(exc.reason)
            time.sleep(exc.delay or 1.0)  # kopf's retry delay: the reconciler asked for it
            continue
        outcomes.append(result.reason)
        if result.reason == "Available":
            return


def test_two_replicas_racing_to_create_end_with_one_job(cluster: tuple[Kubectl, Path]) -> None:
    kubectl, kubeconfig = cluster
    server = DatabricksServer().start()
    try:
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feed_manifest())
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=connection_manifest(server))
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=pipeline_manifest("race"))
        # Each Jobs API call takes 2 s: the winner's jobs/create is still in flight when the loser looks.
        server.state.faults.delay = 2
        barrier = threading.Barrier(2)
        settings = OperatorSettings(allow_loopback_hosts=True)  # the sandbox Jobs API is on loopback
        stores = [_RacingStore(kubeconfig, barrier) for _ in range(2)]
        replicas = [PipelineReconciler(store, settings, Connections(store, settings)) for store in stores]
        outcomes: list[list[str]] = [[], []]
        threads = [
            threading.Thread(target=_reconcile_until_ready, args=(replica, "race", seen))
            for replica, seen in zip(replicas, outcomes, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert all(store.raced for store in stores)  # both wrote "create pending", or tried to
        assert _tagged(server) == Counter({f"{NS}/race": 1}), outcomes
        assert stats(server)["jobs/create"] == 1
        assert [seen[-1] for seen in outcomes] == ["Available", "Available"], outcomes
        assert "Conflict" in outcomes[0] + outcomes[1]  # the loser's write was refused, not merely late
        (job_id,) = server.state.jobs
        assert _annotation(kubectl, "race", "anthill.io/external-name") == str(job_id)
        assert _annotation(kubectl, "race", "anthill.io/external-create-pending") is None
    finally:
        server.state.faults.delay = 0
        _clean_up(kubectl, None, server)
