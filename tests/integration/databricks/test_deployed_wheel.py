"""The operator installs the wheel `anthill databricks deploy` put in the connection's volume, and follows it.

The session's operator, the sandbox Jobs and Files APIs, the installed `anthill` command: no deployment is
Ready=False WheelNotDeployed; a deployment makes the job install exactly the deployed path; a new deployment
(the pointer moves) resets the job to the new wheel.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from databricks.sdk import WorkspaceClient

from anthill.pipeline.wheels import pointer_path, release_version
from anthill_devkit.controlplane import wait_for
from anthill_sandbox.databricks import DatabricksServer, WorkspaceState
from tests.helpers import anthill
from tests.integration.conftest import OperatorProcess
from tests.integration.databricks.conftest import PAT, connection_manifest, feed_manifest, pipeline_manifest
from tests.integration.kubectl import Kubectl, condition, wait_condition

pytestmark = pytest.mark.integration

VOLUME = "/Volumes/anthill/artifacts/wheels"  # under the operator's default allowed wheel paths
TIMEOUT = 30


def _libraries(sdk: WorkspaceClient, job_id: int) -> set[str]:
    settings = sdk.jobs.get(job_id).settings
    assert settings is not None
    return {library.whl or "" for task in settings.tasks or [] for library in task.libraries or []}


def test_jobs_install_the_deployed_wheel_and_follow_a_new_deployment(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess, built_wheel: Path
) -> None:
    ns = feed_namespace
    server = DatabricksServer(state=WorkspaceState(volumes={VOLUME})).start()
    try:
        connection = list(yaml.safe_load_all(connection_manifest(server)))
        connection[1]["spec"]["wheelVolume"] = VOLUME
        kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest())
        kubectl.ok("apply", "-n", ns, "-f", "-", stdin=yaml.safe_dump_all(connection))
        kubectl.ok("apply", "-n", ns, "-f", "-", stdin=pipeline_manifest("deployed"))

        # Nothing deployed yet: no job, and the status says what to run.
        waiting = wait_condition(kubectl, ns, "mp/deployed", "Ready", "WheelNotDeployed", TIMEOUT)
        message = condition(waiting, "Ready")["message"]
        assert f"no anthill-spark {release_version()} wheel deployed in {VOLUME}" in message
        assert "anthill databricks deploy" in message
        assert server.state.jobs == {}

        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "ANTHILL_"))}
        env |= {"DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": PAT, "ANTHILL_WHEEL_VOLUME": VOLUME}
        deployed = anthill("databricks", "deploy", str(built_wheel), env=env)
        assert deployed.returncode == 0, deployed.stderr
        path = deployed.stdout.strip().splitlines()[-1]

        ready = wait_condition(kubectl, ns, "mp/deployed", "Ready", "Available", TIMEOUT)
        job_id = int(ready["status"]["atProvider"]["jobId"])
        sdk = WorkspaceClient(host=server.url, token=PAT, auth_type="pat")
        assert _libraries(sdk, job_id) == {path}

        # A new build deployed: the pointer moves, and the job is reset to the new wheel.
        newer = path.replace(path.split("/")[-2], "f" * 16)
        server.state.files[newer] = built_wheel.read_bytes() + b"\0"
        server.state.files[pointer_path(VOLUME, release_version())] = f"{newer}\n".encode()
        wait_for(lambda: _libraries(sdk, job_id) == {newer}, TIMEOUT, "the job to install the new wheel")
    finally:
        server.stop()
