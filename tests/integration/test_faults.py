"""Faults around the operator: killed in the middle of a burst of work, and the API server restarting under it.

Runs on a control plane of its own (the API server is restarted) with operator processes the tests start and
kill, so nothing here disturbs the session's operator.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from databricks.sdk.service import jobs

from anthill.pipeline.jobs import Credentials
from anthill.pipeline.sdk import workspace_client
from anthill_devkit.controlplane import Binaries, ControlPlane, terminate, wait_for
from anthill_sandbox.databricks import DEFAULT_TOKEN, DatabricksServer
from tests.integration.conftest import REPO, private_plane, start_operator
from tests.integration.databricks.conftest import connection_manifest, pipeline_manifest
from tests.integration.kubectl import Kubectl, condition

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NS = "faults"
FEEDS = 150
TIMEOUT = 60


@pytest.fixture(scope="module")
def plane(
    binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ControlPlane, Kubectl, Path]]:
    with private_plane(binaries, tmp_path_factory.mktemp("faults"), NS) as (
        control_plane,
        kubectl,
        kubeconfig,
    ):
        kubectl.ok("create", "secret", "generic", "massive-api", "-n", NS, "--from-literal=apiKey=k")
        yield control_plane, kubectl, kubeconfig


def feeds(count: int, prefix: str) -> str:
    base = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    docs = []
    for index in range(count):
        doc = json.loads(json.dumps(base))
        doc["metadata"] = {"name": f"{prefix}-{index:03d}"}
        docs.append(doc)
    return yaml.safe_dump_all(docs)


def items(kubectl: Kubectl, what: str, *selector: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(kubectl.ok("get", what, *selector, "-n", NS, "-o", "json"))[
        "items"
    ]
    return listed


def controllers(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Each object's name and the uid of its one controller owner; none or several fails."""
    found = {}
    for obj in objects:
        meta = obj["metadata"]
        uids = [ref["uid"] for ref in meta.get("ownerReferences", []) if ref.get("controller")]
        assert len(uids) == 1, f"{obj['kind']} {meta['name']}: controllers {meta.get('ownerReferences')}"
        found[meta["name"]] = uids[0]
    return found


def ready(obj: dict[str, Any]) -> bool:
    return condition(obj, "Ready").get("status") == "True"


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        terminate(process.pid)
        process.wait(timeout=15)


def test_operator_killed_in_a_burst_converges_with_one_cronjob_per_feed(
    plane: tuple[ControlPlane, Kubectl, Path], tmp_path: Path
) -> None:
    _, kubectl, kubeconfig = plane
    log = tmp_path / "operator.log"
    process, _ = start_operator(kubeconfig, log)
    try:
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feeds(FEEDS, "burst"))
        wait_for(lambda: len(items(kubectl, "cronjobs")) >= 10, TIMEOUT, "the first CronJobs")
        process.send_signal(signal.SIGKILL)
        process.wait()
        created_before = len(items(kubectl, "cronjobs"))
        if created_before == FEEDS:
            pytest.skip("the burst finished before the kill landed: nothing was interrupted")

        process, _ = start_operator(kubeconfig, log)
        wait_for(
            lambda: sum(map(ready, items(kubectl, "mf"))) == FEEDS, 120, "every feed Ready after the restart"
        )
        # Every CronJob is the one its feed reports, controlled by that feed and no other; every feed has
        # exactly one ConfigMap it controls. Names alone prove nothing: the API server keeps them unique.
        feeds_now = items(kubectl, "mf")
        reported = {feed["status"]["cronJobName"]: feed["metadata"]["uid"] for feed in feeds_now}
        assert len(reported) == FEEDS, "two feeds report the same CronJob"
        assert controllers(items(kubectl, "cronjobs")) == reported
        configmaps = controllers(items(kubectl, "configmaps", "-l", "anthill.io/feed"))
        assert sorted(configmaps.values()) == sorted(feed["metadata"]["uid"] for feed in feeds_now)
    finally:
        stop(process)
        kubectl("delete", "mf", "--all", "-n", NS, "--wait=false")


def test_api_server_restart_is_ridden_out(plane: tuple[ControlPlane, Kubectl, Path], tmp_path: Path) -> None:
    control_plane, kubectl, kubeconfig = plane
    server = DatabricksServer().start()
    sdk = workspace_client(server.url, Credentials(token=DEFAULT_TOKEN))
    process, _ = start_operator(kubeconfig, tmp_path / "operator.log")
    try:
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feeds(1, "steady"))
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=connection_manifest(server))
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=pipeline_manifest("steady", feeds=("steady-000",)))
        wait_for(lambda: all(map(ready, items(kubectl, "mf,mp"))) and len(items(kubectl, "mf,mp")) == 2,
                 TIMEOUT, "the feed and the pipeline Ready")  # fmt: skip
        [pipeline] = items(kubectl, "mp")
        job_id = pipeline["status"]["atProvider"]["jobId"]

        control_plane.restart_apiserver()
        assert process.poll() is None, "the operator died with the API server"

        # Watches resume: a spec edit, a deleted CronJob and a UI edit of the job are all put right.
        edited = feeds(1, "steady").replace("30 17 * * 1-5", "45 18 * * 1-5")
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=edited)
        wait_for(lambda: items(kubectl, "cronjobs")[0]["spec"]["schedule"] == "45 18 * * 1-5", TIMEOUT,
                 "the CronJob to follow the edit")  # fmt: skip
        kubectl.ok("delete", "cronjob", "steady-000", "-n", NS)
        wait_for(lambda: len(items(kubectl, "cronjobs")) == 1, TIMEOUT, "the CronJob to be restored")
        sdk.jobs.update(job_id, new_settings=jobs.JobSettings(max_concurrent_runs=9))
        wait_for(lambda: (sdk.jobs.get(job_id).settings or jobs.JobSettings()).max_concurrent_runs == 1, TIMEOUT,
                 "the job's drift to be reset")  # fmt: skip
        assert [job.job_id for job in sdk.jobs.list()] == [job_id]
    finally:
        kubectl("delete", "mp", "--all", "-n", NS, "--timeout=30s")
        stop(process)
        server.stop()
