"""The kind path of `anthill dev cluster up --kind`: runs where Docker and kind exist (CI's kind job)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kind, pytest.mark.slow]


def _anthill(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "anthill"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def test_kind_cluster_up_status_down(tmp_path: Path) -> None:
    env = {**os.environ, "ANTHILL_STATE_DIR": str(tmp_path)}
    up = _anthill("dev", "cluster", "up", "--kind", "--name", "e2e", env=env)
    assert up.returncode == 0, up.stderr
    try:
        status = _anthill("dev", "cluster", "status", "--name", "e2e", "--json", env=env)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["mode"] == "kind"
        exports = _anthill("dev", "cluster", "env", "--name", "e2e", env=env).stdout
        nodes = subprocess.run(
            ["bash", "-c", f"{exports}\nkubectl get nodes -o name"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert nodes.returncode == 0, nodes.stderr
        assert nodes.stdout.startswith("node/anthill-e2e-control-plane")
    finally:
        down = _anthill("dev", "cluster", "down", "--name", "e2e", env=env)
    assert down.returncode == 0, down.stderr
    listed = subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True, check=False)
    assert "anthill-e2e" not in listed.stdout.split()
