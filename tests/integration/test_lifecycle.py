"""Starting and stopping control planes leaves nothing behind: no processes, no etcd data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from anthill_devkit.controlplane import Binaries, ControlPlane, pid_alive, wait_for
from tests.helpers import anthill

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _processes_mentioning(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if marker in cmdline and proc.pid != os.getpid():
            found.append(proc)
    return found


def test_stop_leaves_no_processes(binaries: Binaries, tmp_path: Path) -> None:
    plane = ControlPlane(binaries=binaries, workdir=tmp_path)
    plane.start()
    pids = plane.pids
    assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager"}
    assert all(pid_alive(pid) for pid in pids.values())
    etcd_data = plane.layout.etcd_data

    plane.stop()

    assert [name for name, pid in pids.items() if pid_alive(pid)] == []
    assert _processes_mentioning(str(tmp_path)) == []
    assert not etcd_data.exists()


def test_killed_parent_leaves_no_orphans(binaries: Binaries, tmp_path: Path) -> None:
    """A test run killed with SIGKILL cannot clean up; the children must still die with it."""
    script = textwrap.dedent(f"""
        import json, sys, threading
        from pathlib import Path
        from anthill_devkit.controlplane import Binaries, ControlPlane
        binaries = Binaries(*(Path(p) for p in {[str(p) for p in vars(binaries).values()]!r}))
        plane = ControlPlane(binaries=binaries, workdir=Path({str(tmp_path)!r}))
        plane.start()
        print(json.dumps(plane.pids), flush=True)
        threading.Event().wait()
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pids: dict[str, int] = json.loads(parent.stdout.readline())
    assert all(pid_alive(pid) for pid in pids.values())

    parent.send_signal(signal.SIGKILL)
    parent.wait()

    wait_for(
        lambda: not any(pid_alive(pid) for pid in pids.values()),
        30,
        "the orphaned control-plane processes to exit",
    )


def test_cli_up_status_env_down(binaries: Binaries, tmp_path: Path) -> None:
    """The detached cluster of `anthill dev cluster up` is reachable through `env` and fully removed by `down`."""
    env = {**os.environ, "ANTHILL_STATE_DIR": str(tmp_path / "state")}
    env.pop("KUBECONFIG", None)
    # The default cluster has a node, which needs root; elsewhere the control plane alone is what runs.
    with_node = os.geteuid() == 0
    up = anthill(
        "dev", "cluster", "up", "--name", "lifecycle", *([] if with_node else ["--no-node"]), env=env
    )
    assert up.returncode == 0, up.stderr
    # A failed check must not leave a detached cluster (and its node) running.
    try:
        assert "dev cluster env --name lifecycle" in up.stderr

        again = anthill("dev", "cluster", "up", "--name", "lifecycle", env=env)
        assert "already running" in again.stderr

        status = anthill("dev", "cluster", "status", "--name", "lifecycle", "--json", env=env)
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["ready"] is True
        pids = [proc["pid"] for proc in report["processes"]]
        names = {proc["name"] for proc in report["processes"]}
        plane = {"etcd", "kube-apiserver", "kube-controller-manager"}
        node = {"containerd", "kube-scheduler", "kubelet"}
        assert names == (plane | node if with_node else plane)
        assert report["node"] == ("lifecycle-node" if with_node else None)

        exports = anthill("dev", "cluster", "env", "--name", "lifecycle", env=env).stdout
        shell = subprocess.run(
            [
                "bash",
                "-c",
                f"{exports}\nkubectl version -o json && helm version --short && kubectl get nodes --no-headers",
            ],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert shell.returncode == 0, shell.stderr
        # client and server both report the pin: the cached kubectl comes first on PATH
        assert shell.stdout.count('"gitVersion": "v1.34.4"') == 2
        if with_node:
            assert shell.stdout.splitlines()[-1].split()[:2] == ["lifecycle-node", "Ready"]
    finally:
        down = anthill("dev", "cluster", "down", "--name", "lifecycle", env=env)
    assert down.returncode == 0, down.stderr
    assert not any(pid_alive(pid) for pid in pids)
    assert not (tmp_path / "state" / "clusters" / "lifecycle").exists()
    assert anthill("dev", "cluster", "status", "--name", "lifecycle", env=env).returncode == 1
