"""An operator limited to `watchNamespaces`, running under exactly the RBAC the chart renders for that mode.

The chart binds the operator's role with a RoleBinding in each watched namespace and only kopf's discovery
reads cluster-wide; this shows that is enough for kopf (namespace and CRD listing, per-namespace peering,
Events) and the reconcilers, and that the operator's own credentials reach nothing in another namespace.
Runs on a control plane of its own, so the session's cluster-wide operator does not serve these feeds too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from anthill_devkit.controlplane import Binaries, ControlPlane, build_kubeconfig, terminate, wait_for
from tests.integration.conftest import OPERATOR_NAMESPACE, OPERATOR_SA, REPO, start_operator
from tests.integration.kubectl import Kubectl, condition, get
from tests.unit.charts.helm import Helm

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WATCHED, OUTSIDE = "market", "elsewhere"
RBAC_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
TIMEOUT = 60


def feed(name: str) -> str:
    doc = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    doc["metadata"]["name"] = name
    return yaml.safe_dump(doc)


@pytest.fixture(scope="module")
def plane(
    binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Kubectl, Kubectl, Path]]:
    """Admin kubectl, kubectl as the operator and its kubeconfig: CRDs, the namespaces, and the chart's RBAC objects for `watchNamespaces={market}`; the operator's token."""
    directory = tmp_path_factory.mktemp("namespaced")
    with ControlPlane(binaries=binaries, workdir=directory / "plane") as control_plane:
        kubectl = Kubectl(binaries.kubectl, control_plane.kubeconfig)
        kubectl.ok("apply", "--server-side", "-f", str(REPO / "crds"))
        kubectl.ok("wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=anthill")
        for namespace in (OPERATOR_NAMESPACE, WATCHED, OUTSIDE):
            kubectl.ok("create", "namespace", namespace)
        rendered = Helm.pinned(directory / "helm-home").render(
            sets=(f"watchNamespaces={{{WATCHED}}}", "crds.install=false"), namespace=OPERATOR_NAMESPACE
        )
        rbac = [obj for obj in rendered if obj["kind"] in RBAC_KINDS]
        assert not [
            b for b in rbac if b["kind"] == "ClusterRoleBinding" and b["roleRef"]["name"] == OPERATOR_SA
        ]
        kubectl.ok("apply", "-f", "-", stdin=yaml.safe_dump_all(rbac))
        token = kubectl.ok("create", "token", OPERATOR_SA, "-n", OPERATOR_NAMESPACE, "--duration=1h").strip()
        config = build_kubeconfig(
            control_plane.server, control_plane.ca_file.read_bytes(), OPERATOR_SA, token
        )
        kubeconfig = directory / "operator.kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(config))
        for namespace in (WATCHED, OUTSIDE):
            kubectl.ok(
                "create", "secret", "generic", "massive-api", "-n", namespace, "--from-literal=apiKey=k"
            )
        yield kubectl, Kubectl(binaries.kubectl, kubeconfig), kubeconfig


def test_watched_namespace_is_served_and_nothing_outside_is_reachable(
    plane: tuple[Kubectl, Kubectl, Path], tmp_path: Path
) -> None:
    kubectl, as_operator, kubeconfig = plane
    log = tmp_path / "operator.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        process, _ = start_operator(
            kubeconfig, log, {"ANTHILL_NAMESPACES": WATCHED, "ANTHILL_STANDALONE": "false"}
        )
        kubectl.ok("apply", "-n", OUTSIDE, "-f", "-", stdin=feed("outside"))
        kubectl.ok("apply", "-n", WATCHED, "-f", "-", stdin=feed("inside"))

        def ready() -> bool:
            return condition(get(kubectl, WATCHED, "mf/inside"), "Ready").get("reason") == "Available"

        wait_for(ready, TIMEOUT, f"the feed in {WATCHED} Ready")
        assert get(kubectl, WATCHED, "cronjob/inside") is not None
        # Peering went through a KopfPeering in the watched namespace: no cluster-wide object was needed.
        assert get(kubectl, WATCHED, "kopfpeering/anthill") is not None
        # The feed outside was never seen: it has no status and no CronJob.
        outside = get(kubectl, OUTSIDE, "mf/outside")
        assert outside is not None
        assert not outside.get("status")
        assert get(kubectl, OUTSIDE, "cronjob/outside") is None
        text = log.read_text()
        assert "Not enough permissions" not in text, text[-3000:]
        assert "Forbidden" not in text, text[-3000:]

        # The operator's own credentials, used directly: denied outside, allowed inside.
        for what in ("cronjobs", "configmaps", "pods", "marketfeeds", "secret/massive-api"):
            denied = as_operator("get", what, "-n", OUTSIDE)
            assert "forbidden" in denied.stderr, (what, denied.stderr)
        as_operator.ok("get", "cronjobs", "-n", WATCHED)
    finally:
        if process is not None and process.poll() is None:
            terminate(process.pid)
            process.wait(timeout=10)
