"""The kind path of `anthill dev cluster up --kind`: runs where Docker and kind exist (CI's kind job)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import anthill

pytestmark = [pytest.mark.kind, pytest.mark.slow]


def test_kind_cluster_up_status_down(tmp_path: Path) -> None:
    env = {**os.environ, "ANTHILL_STATE_DIR": str(tmp_path)}
    up = anthill("dev", "cluster", "up", "--kind", "--name", "e2e", env=env, timeout=900)
    assert up.returncode == 0, up.stderr
    try:
        status = anthill("dev", "cluster", "status", "--name", "e2e", "--json", env=env, timeout=900)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["mode"] == "kind"
        exports = anthill("dev", "cluster", "env", "--name", "e2e", env=env, timeout=900).stdout
        nodes = subprocess.run(
            ["bash", "-c", f"{exports}\nkubectl get nodes -o name"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert nodes.returncode == 0, nodes.stderr
        assert nodes.stdout.startswith("node/anthill-e2e-control-plane")
    finally:
        down = anthill("dev", "cluster", "down", "--name", "e2e", env=env, timeout=900)
    assert down.returncode == 0, down.stderr
    listed = subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True, check=False)
    assert "anthill-e2e" not in listed.stdout.split()
