"""`anthill sandbox databricks` serves the Jobs API a client configured from its printed variables can use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from anthill.pipeline.jobs import Credentials, UnauthorizedError
from anthill.pipeline.sdk import DatabricksJobs
from anthill_devkit.controlplane import free_ports, wait_for

pytestmark = pytest.mark.integration


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/_sandbox/stats", timeout=1).ok
    except requests.ConnectionError:
        return False


def test_the_command_serves_until_stopped(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "sandbox.log").open("w")
    command = [str(Path(sys.executable).parent / "anthill"), "sandbox", "databricks", "--port", str(port),
               "--token", "dapi-from-the-command-line"]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _answers(url), timeout=60, what="anthill sandbox databricks")
        client = DatabricksJobs.connect(url, Credentials(token="dapi-from-the-command-line"))
        assert client.find_by_name("anything") == []
        with pytest.raises(UnauthorizedError):
            DatabricksJobs.connect(url, Credentials(token="dapi-sandbox")).find_by_name(
                "x"
            )  # replaced by --token
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert f"DATABRICKS_HOST={url}" in (tmp_path / "sandbox.log").read_text()
