"""Two operator replicas with kopf peering: only the higher priority acts; the other takes over when it dies. And
the drift sweep both run: it pages through the feeds kopf has handled, and only in the replica peering lets act.

Runs on a control plane of its own, so the session's operator does not join the peering (nor handle the feeds
the sweep test leaves unhandled).
"""

from __future__ import annotations

import datetime
import json
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config

from anthill.controller.filters import HANDLED_ANNOTATION
from anthill.controller.sweep import DriftSweep, active_replica
from anthill.kube import Store
from anthill.owned import PAUSED_ANNOTATION
from anthill.settings import OperatorSettings
from anthill_devkit.controlplane import Binaries, ControlPlane, terminate, wait_for
from tests.integration.conftest import REPO, OperatorProcess, operator_kubeconfig, start_operator
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


def _reconciles(replica: OperatorProcess) -> float:
    """Every reconcile the replica ran, whatever its trigger or outcome: a standby runs none."""
    return replica.metric("anthill_reconcile_total", kind="MarketFeed")


def test_one_replica_acts_and_the_other_takes_over(
    cluster: tuple[ControlPlane, Kubectl], tmp_path: Path
) -> None:
    plane, kubectl = cluster
    kubeconfig = operator_kubeconfig(kubectl, plane, tmp_path)
    high_log, low_log = tmp_path / "high.log", tmp_path / "low.log"
    high_process, high_metrics = start_operator(kubeconfig, high_log, {"ANTHILL_PRIORITY": "200"})
    high = OperatorProcess("", high_metrics, high_log)
    low_process: subprocess.Popen[bytes] | None = None
    try:
        low_process, low_metrics = start_operator(kubeconfig, low_log, {"ANTHILL_PRIORITY": "100"})
        low = OperatorProcess("", low_metrics, low_log)
        wait_for(lambda: _peers(kubectl) == 2, 30, "both replicas to join the peering")

        kubectl.ok("create", "namespace", "ha")
        kubectl.ok("create", "rolebinding", "secrets", "-n", "ha", "--clusterrole=anthill-operator-secrets",
                   "--serviceaccount=anthill-system:anthill-operator")  # fmt: skip
        kubectl.ok("create", "secret", "generic", "massive-api", "-n", "ha", "--from-literal=apiKey=k")
        kubectl.ok("apply", "-n", "ha", "-f", str(REPO / "examples" / "market-holidays.yaml"))
        wait_for(
            lambda: _logged(high_log, "created CronJob ha/market-holidays"), 30, "the active replica to act"
        )
        # A second active replica would have handled the same creation event and, every drift interval, its
        # own timer: let the active one run its timer twice, then the standby must have run nothing at all.
        # (Whether it also logged a creation is no evidence: the active one usually wins that race.)
        wait_for(lambda: _reconciles(high) >= 3, 30, "two drift passes of the active replica")
        assert _reconciles(low) == 0, "the standby reconciled: two replicas were active"
        assert not _logged(low_log, "created CronJob")

        high_process.send_signal(signal.SIGKILL)  # no goodbye: the peer must expire on its own
        high_process.wait()
        wait_for(
            lambda: _logged(low_log, "Resuming operations after the pause"), 30, "the standby to take over"
        )
        kubectl.ok("delete", "cronjob", "market-holidays", "-n", "ha")
        wait_for(
            lambda: _logged(low_log, "created CronJob ha/market-holidays"), 30, "the standby to restore it"
        )
        # The same counter that stayed at zero moves once the replica is active: the check above can fail.
        assert _reconciles(low) > 0
    finally:
        for process in (high_process, low_process):
            if process is not None and process.poll() is None:
                terminate(process.pid)
                process.wait(timeout=10)


def _feeds(kubectl: Kubectl, namespace: str, annotations: dict[str, dict[str, str]]) -> None:
    base = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    docs = [{**base, "metadata": {"name": name, "annotations": notes}} for name, notes in annotations.items()]
    kubectl.ok("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(docs))


def _peering(kubectl: Kubectl, namespace: str, peers: dict[str, tuple[int, float]]) -> None:
    """kopf's KopfPeering as replicas leave it: identity -> (priority, seconds since it was last seen)."""
    now = datetime.datetime.now(datetime.UTC)
    status = {
        identity: {"priority": priority, "lifetime": 60,
                   "lastseen": (now - datetime.timedelta(seconds=ago)).isoformat()}
        for identity, (priority, ago) in peers.items()
    }  # fmt: skip
    peering = {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering",
               "metadata": {"name": "sweep", "namespace": namespace}, "status": status}  # fmt: skip
    kubectl.ok("apply", "-f", "-", stdin=json.dumps(peering))


def test_the_drift_sweep_pages_through_handled_feeds_in_the_active_replica_only(
    cluster: tuple[ControlPlane, Kubectl],
) -> None:
    plane, kubectl = cluster
    namespace = "sweep"
    kubectl.ok("create", "namespace", namespace)
    handled = {HANDLED_ANNOTATION: "{}"}
    _feeds(kubectl, namespace, {
        **{f"handled-{index}": handled for index in range(5)},
        "not-yet-handled": {},  # kopf's create handler has not finished: it is not the sweep's yet
        "paused": {**handled, PAUSED_ANNOTATION: "true"},
    })  # fmt: skip
    settings = OperatorSettings(namespaces=[namespace], peering="sweep", priority=100, standalone=False)
    api = config.new_client_from_config(str(plane.kubeconfig))  # type: ignore[no-untyped-call]
    store = Store(api)
    checked: list[str] = []

    def check(body: dict[str, Any]) -> None:
        checked.append(body["metadata"]["name"])

    sweep = DriftSweep(store, "marketfeeds", check, settings, active_replica(store, settings), page=2)
    try:
        with ThreadPoolExecutor(2) as pool:
            # Seven feeds in pages of two: four LISTs, each handled feed checked once.
            assert sweep.sweep(pool) == 5
            assert sorted(checked) == [f"handled-{index}" for index in range(5)]

            _peering(kubectl, namespace, {"self": (100, 1), "other": (200, 1)})
            assert sweep.sweep(pool) == 0, "a live replica of higher priority is the one to act"
            _peering(kubectl, namespace, {"self": (100, 1), "twin": (100, 1)})
            assert sweep.sweep(pool) == 0, "kopf pauses two replicas of one priority: so must their sweeps"
            _peering(kubectl, namespace, {"self": (100, 1), "other": (200, 120), "lower": (50, 1)})
            assert sweep.sweep(pool) == 5, "the higher one is silent past its lifetime: this replica acts"
    finally:
        api.close()
        kubectl("delete", "namespace", namespace, "--wait=false")
