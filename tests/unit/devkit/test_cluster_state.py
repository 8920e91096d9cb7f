"""Recorded cluster state and the shell exports rendered from it."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from anthill_devkit.cluster import ClusterState, cluster_dir, render_env, state_root

STATE = ClusterState(
    name="anthill",
    mode="local",
    workdir=Path("/state/clusters/anthill"),
    kubeconfig=Path("/state/clusters/anthill/kubeconfig"),
    server="https://127.0.0.1:40000",
    started_at=datetime.datetime(2026, 11, 28, tzinfo=datetime.UTC),
    start_seconds=7.5,
    pids={"etcd": 10, "kube-apiserver": 11, "kube-controller-manager": 12},
    path_dirs=[Path("/cache/kubernetes/v1.34.4"), Path("/cache/helm/v3.19.5")],
)


def test_env_puts_cached_tools_before_the_existing_path() -> None:
    exports = render_env(STATE, extra_path=[Path("/repo/.venv/bin")], current_path="/usr/bin:/bin")
    assert exports == (
        "export KUBECONFIG=/state/clusters/anthill/kubeconfig\n"
        "export PATH=/cache/kubernetes/v1.34.4:/cache/helm/v3.19.5:/repo/.venv/bin:/usr/bin:/bin\n"
    )


def test_env_is_safe_to_eval_with_odd_paths(tmp_path: Path) -> None:
    odd = STATE.model_copy(update={"kubeconfig": tmp_path / "it's here" / "kubeconfig"})
    exports = render_env(odd, current_path="/usr/bin")
    result = subprocess.run(
        ["bash", "-c", f'{exports}\nprintf %s "$KUBECONFIG"'], capture_output=True, text=True, check=True
    )
    assert result.stdout == str(tmp_path / "it's here" / "kubeconfig")


def test_state_round_trips_and_rejects_unknown_fields() -> None:
    assert ClusterState.model_validate_json(STATE.model_dump_json()) == STATE
    with pytest.raises(ValidationError, match="surprise"):
        ClusterState.model_validate({**STATE.model_dump(), "surprise": 1})


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({"ANTHILL_STATE_DIR": "/s", "HOME": "/h"}, "/s", id="explicit override"),
        pytest.param({"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/anthill", id="XDG state"),
        pytest.param({"HOME": "/h"}, "/h/.local/state/anthill", id="home fallback"),
    ],
)
def test_state_root(env: dict[str, str], expected: str) -> None:
    assert state_root(env) == Path(expected)
    assert cluster_dir("dev", env) == Path(expected) / "clusters" / "dev"
