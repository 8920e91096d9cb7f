"""Two operator replicas with kopf peering: only the higher priority acts; the other takes over when it dies.

Runs on a control plane of its own, so the session's operator does not join the peering.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from anthill_devkit.controlplane import Binaries, ControlPlane, terminate, wait_for
from tests.integration.conftest import REPO, operator_kubeconfig, start_operator
from tests.integration.kubectl import Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(
    binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ControlPlane, Kubectl]]:
    with ControlPlane(binaries=binaries, workdir=tmp_path_factory.mktemp("ha-control-plane")) as plane:
        kubectl = Kubectl(binaries.kubectl, plane.kubeconfig)
        kubectl.ok("apply", "--server-side", "-f", str(REPO / "crds"))
        kubectl.ok("wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=anthill")
        yield plane, kubectl


def _peers(kubectl: Kubectl) -> int:
    status = json.loads(kubectl.ok("get", "clusterkopfpeering", "anthill", "-o", "json")).get("status") or {}
    return len(status)


def _logged(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text()


def test_one_replica_acts_and_the_other_takes_over(
    cluster: tuple[ControlPlane, Kubectl], tmp_path: Path
) -> None:
    plane, kubectl = cluster
    kubeconfig = operator_kubeconfig(kubectl, plane, tmp_path)
    high_log, low_log = tmp_path / "high.log", tmp_path / "low.log"
    high, _ = start_operator(kubeconfig, high_log, {"ANTHILL_PRIORITY": "200"})
    low: subprocess.Popen[bytes] | None = None
    try:
        low, _ = start_operator(kubeconfig, low_log, {"ANTHILL_PRIORITY": "100"})
        wait_for(lambda: _peers(kubectl) == 2, 30, "both replicas to join the peering")

        kubectl.ok("create", "namespace", "ha")
        kubectl.ok("create", "rolebinding", "secrets", "-n", "ha", "--clusterrole=anthill-operator-secrets",
                   "--serviceaccount=anthill-system:anthill-operator")  # fmt: skip
        kubectl.ok("create", "secret", "generic", "massive-api", "-n", "ha", "--from-literal=apiKey=k")
        kubectl.ok("apply", "-n", "ha", "-f", str(REPO / "examples" / "market-holidays.yaml"))
        wait_for(
            lambda: _logged(high_log, "created CronJob ha/market-holidays"), 30, "the active replica to act"
        )
        assert not _logged(low_log, "created CronJob")

        high.send_signal(signal.SIGKILL)  # no goodbye: the peer must expire on its own
        high.wait()
        wait_for(
            lambda: _logged(low_log, "Resuming operations after the pause"), 30, "the standby to take over"
        )
        kubectl.ok("delete", "cronjob", "market-holidays", "-n", "ha")
        wait_for(
            lambda: _logged(low_log, "created CronJob ha/market-holidays"), 30, "the standby to restore it"
        )
    finally:
        for process in (high, low):
            if process is not None and process.poll() is None:
                terminate(process.pid)
                process.wait(timeout=10)
