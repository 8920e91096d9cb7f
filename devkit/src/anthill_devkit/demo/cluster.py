"""``anthill demo --cluster``: the demo's manifests on the local control plane, with the operator running.

Starts (or reuses) the cluster ``anthill dev cluster up`` manages, installs the CRDs and the operator's roles,
applies the manifests into namespace ``anthill-demo`` with a sandbox API-key Secret, runs the operator until
every resource reports Ready, and prints ``kubectl get mf,mp``. The cluster keeps running afterwards
(``make down`` stops it); the local control plane has no kubelet, so the CronJobs are scheduled but no pod runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from anthill_devkit import cluster as clusters
from anthill_devkit.controlplane import ControlPlaneError, terminate, wait_for

NAMESPACE = "anthill-demo"
CLUSTER = "anthill"
OPERATOR_SA = "system:serviceaccount:anthill-system:anthill-operator"
READY_TIMEOUT = 120.0


class ClusterDemoError(Exception):
    """The cluster or the operator did not get there; the message says what happened."""


def _kubectl(state: clusters.ClusterState) -> list[str]:
    for directory in state.path_dirs:
        if (directory / "kubectl").exists():
            return [str(directory / "kubectl"), f"--kubeconfig={state.kubeconfig}"]
    raise ClusterDemoError("kubectl is missing from the cluster's tools; run `make down` and try again")


def _run(kubectl: list[str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [*kubectl, *args], input=stdin, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise ClusterDemoError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def install(kubectl: list[str], crds: Path, manifest: Path) -> None:
    """CRDs and roles, the demo namespace with its Secret and RoleBinding, then the manifests."""
    _run(kubectl, "apply", "--server-side", "--force-conflicts", "-f", str(crds))
    _run(kubectl, "wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=anthill")
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "massive-api", "namespace": NAMESPACE},
              "stringData": {"apiKey": "sandbox"}}  # fmt: skip
    _run(kubectl, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                        "items": [namespace, secret]}))  # fmt: skip
    _run(kubectl, "apply", "-n", NAMESPACE, "-f", str(manifest))


def _ready(kubectl: list[str]) -> tuple[int, int]:
    listed: dict[str, Any] = json.loads(_run(kubectl, "get", "mf,mp", "-n", NAMESPACE, "-o", "json"))
    items = listed.get("items") or []
    ready = sum(
        any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (i.get("status") or {}).get("conditions", [])
        )
        for i in items
    )
    return ready, len(items)


def run_on_cluster(manifest: Path, crds: Path, console: Console) -> str:
    """Everything above; returns ``kubectl get mf,mp`` as printed."""
    state = clusters.load_state(CLUSTER)
    if state is None or not clusters.is_running(state):
        raise ClusterDemoError("the local cluster is not running")
    kubectl = _kubectl(state)
    with console.status("installing the CRDs and the demo's resources"):
        install(kubectl, crds, manifest)
    log = state.workdir / "demo-operator.log"
    env = {**os.environ, "KUBECONFIG": str(state.kubeconfig), "ANTHILL_STANDALONE": "true",
           "ANTHILL_NAMESPACES": NAMESPACE, "ANTHILL_METRICS_PORT": "0", "ANTHILL_HEALTH_PORT": "0",
           "ANTHILL_LOG_FORMAT": "text"}  # fmt: skip
    with log.open("ab") as out:
        operator = subprocess.Popen([str(Path(sys.executable).parent / "anthill"), "operator", "run"], env=env,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        with console.status("the operator is reconciling") as status:

            def all_ready() -> bool:
                if operator.poll() is not None:
                    raise ClusterDemoError(f"the operator exited; its log: {log}")
                ready, total = _ready(kubectl)
                status.update(f"the operator is reconciling: {ready}/{total} Ready")
                return bool(total and ready == total)

            wait_for(all_ready, READY_TIMEOUT, "every resource to be Ready", interval=0.5,
                     on_timeout=lambda: f"; see `kubectl describe mf,mp -n {NAMESPACE}` and {log}")  # fmt: skip
    except ControlPlaneError as exc:
        raise ClusterDemoError(str(exc)) from exc
    finally:
        if operator.poll() is None:
            terminate(operator.pid)
            operator.wait(timeout=15)
    return _run(kubectl, "get", "mf,mp", "-n", NAMESPACE)
