"""`helm install` of each environment's values into the real local control plane.

There is no kubelet: the operator pods are created (and so admitted) but never run, so nothing here waits
for readiness. Each environment is its own cluster in real life; here they are installed one after the
other into the session's control plane, each into a namespace that enforces Pod Security `restricted`.

The session's `kubectl` fixture has already applied crds/ the way the README's manual path does, so
every release adopts those CRDs with `--take-ownership`: the same step moves a cluster from the manual
install to the chart. After an uninstall the CRDs stay (`helm.sh/resource-policy: keep`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill_devkit.controlplane import ControlPlane, wait_for
from tests.integration.kubectl import Kubectl
from tests.unit.charts.argocd import deploy
from tests.unit.charts.helm import CHART, ENV_VALUES, ENVIRONMENTS, Helm

pytestmark = pytest.mark.integration

TIMEOUT = 60


@dataclass(frozen=True)
class Release:
    """One installed environment."""

    env: str
    name: str
    namespace: str
    values: dict[str, Any]
    install_output: str
    install_warnings: str
    manifest: str

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [doc for doc in yaml.safe_load_all(self.manifest) if doc]

    @property
    def service_account(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}-operator"


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm.pinned(tmp_path_factory.mktemp("helm-home"))


def kube_args(control_plane: ControlPlane, namespace: str) -> list[str]:
    return ["--kubeconfig", str(control_plane.kubeconfig), "-n", namespace]


@pytest.fixture(scope="module")
def feed_namespaces(kubectl: Kubectl) -> Iterator[list[str]]:
    """The namespaces the environments' values name (RoleBindings go there, so they must exist)."""
    names = sorted({
        ns for path in ENV_VALUES.values() for key in ("watchNamespaces", "secretNamespaces")
        for ns in yaml.safe_load(path.read_text()).get(key, [])
    })  # fmt: skip
    created = [ns for ns in names if kubectl("create", "namespace", ns).returncode == 0]
    yield names
    for ns in created:
        kubectl("delete", "namespace", ns, "--wait=false")


def install(helm: Helm, kubectl: Kubectl, control_plane: ControlPlane, env: str, name: str) -> Release:
    namespace = f"{name}-{uuid.uuid4().hex[:6]}"
    kubectl.ok("create", "namespace", namespace)
    kubectl.ok("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted",
               "pod-security.kubernetes.io/warn=restricted")  # fmt: skip
    values = ENV_VALUES[env]
    result = helm("install", name, str(CHART), *kube_args(control_plane, namespace), "-f", str(values),
                  "--take-ownership", "--timeout", "2m")  # fmt: skip
    assert result.returncode == 0, f"helm install {env}:\n{result.stdout}\n{result.stderr}"
    manifest = helm.ok("get", "manifest", name, *kube_args(control_plane, namespace))
    return Release(env, name, namespace, yaml.safe_load(values.read_text()), result.stdout, result.stderr,
                   manifest)  # fmt: skip


def uninstall(helm: Helm, kubectl: Kubectl, control_plane: ControlPlane, release: Release) -> None:
    helm.ok("uninstall", release.name, *kube_args(control_plane, release.namespace))
    kubectl("delete", "namespace", release.namespace, "--wait=false")


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def release(
    request: pytest.FixtureRequest,
    helm: Helm,
    kubectl: Kubectl,
    control_plane: ControlPlane,
    feed_namespaces: list[str],
) -> Iterator[Release]:
    env: str = request.param
    installed = install(helm, kubectl, control_plane, env, f"anthill-{env}")
    yield installed
    uninstall(helm, kubectl, control_plane, installed)


def resource(obj: dict[str, Any]) -> str:
    """``kind.group/name`` for kubectl."""
    group = obj["apiVersion"].rpartition("/")[0]
    return f"{obj['kind'].lower()}{'.' + group if group else ''}/{obj['metadata']['name']}"


def test_install_prints_notes_with_real_commands(release: Release) -> None:
    assert "STATUS: deployed" in release.install_output
    deployment = f"deployment/{release.name}-operator"
    assert f"kubectl -n {release.namespace} rollout status {deployment}" in release.install_output
    assert "PodSecurity" not in release.install_warnings, release.install_warnings


def test_every_rendered_object_was_created(release: Release, kubectl: Kubectl) -> None:
    kinds = set()
    for obj in release.objects:
        namespace = obj["metadata"].get("namespace")
        scope = ["-n", namespace] if namespace else []
        created = json.loads(kubectl.ok("get", resource(obj), *scope, "-o", "json"))
        assert created["metadata"]["labels"]["app.kubernetes.io/instance"] == release.name
        kinds.add(obj["kind"])
    expected = {"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "RoleBinding",
                "Service", "Deployment", "NetworkPolicy"}  # fmt: skip
    assert expected <= kinds
    assert ("PodDisruptionBudget" in kinds) == release.values.get("podDisruptionBudget", {}).get(
        "enabled", False
    )


def test_rendered_objects_pass_strict_server_side_validation(release: Release, kubectl: Kubectl) -> None:
    result = kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=validation",
                     "--dry-run=server", "--validate=strict", "-f", "-", stdin=release.manifest)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr


def test_operator_pods_are_admitted_under_restricted_pod_security(release: Release, kubectl: Kubectl) -> None:
    """The controller manager creates the pods; Pod Security admission would refuse them otherwise."""
    deployment = json.loads(
        kubectl.ok("get", f"deployment/{release.name}-operator", "-n", release.namespace, "-o", "json")
    )
    replicas = int(deployment["spec"]["replicas"])
    selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())

    def pods() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(
            kubectl.ok("get", "pods", "-n", release.namespace, "-l", selector, "-o", "json")
        )["items"]
        return items

    def admitted() -> bool:
        """All pods exist; a ReplicaFailure (Pod Security refused a pod) fails at once instead of timing out."""
        sets = json.loads(
            kubectl.ok("get", "replicasets", "-n", release.namespace, "-l", selector, "-o", "json")
        )
        failures = [c for rs in sets["items"] for c in rs.get("status", {}).get("conditions", [])
                    if c["type"] == "ReplicaFailure" and c["status"] == "True"]  # fmt: skip
        assert not failures, failures
        return len(pods()) == replicas

    wait_for(admitted, TIMEOUT, f"{replicas} operator pods")
    template = deployment["spec"]["template"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "psa-check", **template["metadata"]},
           "spec": template["spec"]}  # fmt: skip
    result = kubectl("create", "-n", release.namespace, "--dry-run=server", "-f", "-", stdin=json.dumps(pod))
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr


# A namespace every cluster has and no environment names in watchNamespaces or secretNamespaces.
OUTSIDE = "default"


@pytest.mark.parametrize(
    ("verb", "resource_", "where", "allowed"),
    [
        pytest.param("watch", "marketfeeds.anthill.io", "feeds", True, id="watch feeds where watched"),
        pytest.param("patch", "marketfeeds.anthill.io/status", "feeds", True, id="write feed status"),
        pytest.param(
            "patch", "medallionpipelines.anthill.io/status", "feeds", True, id="write pipeline status"
        ),
        pytest.param("create", "cronjobs.batch", "feeds", True, id="create CronJobs"),
        pytest.param("update", "cronjobs.batch", "feeds", True, id="replace drifted CronJobs"),
        pytest.param("create", "configmaps", "feeds", True, id="create feed ConfigMaps"),
        pytest.param("list", "pods", "feeds", True, id="read run summaries"),
        pytest.param("create", "events", "feeds", True, id="report problems"),
        pytest.param("create", "kopfpeerings.kopf.dev", "feeds", True, id="peering in the watched namespace"),
        pytest.param("list", "namespaces", None, True, id="kopf lists namespaces"),
        pytest.param(
            "watch", "customresourcedefinitions.apiextensions.k8s.io", None, True, id="kopf sees CRDs"
        ),
        pytest.param("get", "secrets", "feeds", True, id="API-key Secrets in the feed namespace"),
        pytest.param("watch", "marketfeeds.anthill.io", "*", False, id="no feeds cluster-wide"),
        pytest.param("watch", "marketfeeds.anthill.io", OUTSIDE, False, id="no feeds outside"),
        pytest.param("patch", "medallionpipelines.anthill.io", OUTSIDE, False, id="no pipelines outside"),
        pytest.param("get", "databricksconnections.anthill.io", OUTSIDE, False, id="no connections outside"),
        pytest.param("create", "cronjobs.batch", OUTSIDE, False, id="no CronJobs outside"),
        pytest.param("update", "configmaps", OUTSIDE, False, id="no ConfigMaps outside"),
        pytest.param("list", "pods", OUTSIDE, False, id="no pods outside"),
        pytest.param("create", "events", OUTSIDE, False, id="no Events outside"),
        pytest.param("get", "secrets", OUTSIDE, False, id="no Secrets outside"),
        pytest.param("create", "clusterkopfpeerings.kopf.dev", None, False, id="no cluster-wide peering"),
        pytest.param("get", "secrets", "*", False, id="no Secrets cluster-wide"),
        pytest.param("get", "secrets", "kube-system", False, id="no Secrets where not granted"),
        pytest.param("list", "secrets", "feeds", False, id="no listing Secrets"),
        pytest.param("create", "pods/exec", "feeds", False, id="no pods/exec"),
        pytest.param("create", "pods", "feeds", False, id="no pods directly"),
        pytest.param("delete", "cronjobs.batch", "feeds", False, id="no deletes: GC does that"),
        pytest.param("delete", "marketfeeds.anthill.io", "feeds", False, id="never deletes user resources"),
        pytest.param(
            "create", "rolebindings.rbac.authorization.k8s.io", "feeds", False, id="no RoleBindings"
        ),
        pytest.param(
            "create", "clusterrolebindings.rbac.authorization.k8s.io", None, False, id="no RBAC edits"
        ),
        pytest.param("escalate", "clusterroles.rbac.authorization.k8s.io", None, False, id="no escalation"),
        pytest.param("bind", "clusterroles.rbac.authorization.k8s.io", None, False, id="no binding roles"),
        pytest.param(
            "update", "customresourcedefinitions.apiextensions.k8s.io", None, False, id="no CRD edits"
        ),
    ],
)
def test_operator_service_account_is_least_privilege(
    release: Release, kubectl: Kubectl, verb: str, resource_: str, where: str | None, allowed: bool
) -> None:
    """What the real API server's authorizer answers for the installed RBAC, inside and outside the
    environment's watched namespaces."""
    assert OUTSIDE not in release.values["watchNamespaces"] + release.values.get("secretNamespaces", [])
    namespace = release.values["watchNamespaces"][0] if where == "feeds" else where
    scope = {None: [], "*": ["--all-namespaces"]}.get(namespace, ["-n", str(namespace)])
    result = kubectl("auth", "can-i", verb, resource_, *scope, f"--as={release.service_account}")
    assert result.stdout.strip() == ("yes" if allowed else "no"), result.stderr


def test_upgrade_upgrades_the_crds_and_uninstall_keeps_them(
    helm: Helm, kubectl: Kubectl, control_plane: ControlPlane, feed_namespaces: list[str]
) -> None:
    """CRDs are part of every revision (Helm would skip a crds/ folder on upgrade); deleting one would delete
    every MarketFeed, so an uninstall removes the operator and leaves them."""
    installed = install(helm, kubectl, control_plane, "dev", "anthill-keep")
    crds = [resource(o) for o in installed.objects if o["kind"] == "CustomResourceDefinition"]
    assert crds
    helm.ok("upgrade", installed.name, str(CHART), *kube_args(control_plane, installed.namespace),
            "--reuse-values", "--set", "driftInterval=45")  # fmt: skip
    manifest = helm.ok("get", "manifest", installed.name, *kube_args(control_plane, installed.namespace))
    upgraded = [doc for doc in yaml.safe_load_all(manifest) if doc]
    assert sorted(resource(o) for o in upgraded if o["kind"] == "CustomResourceDefinition") == sorted(crds)
    for crd in crds:
        meta = json.loads(kubectl.ok("get", crd, "-o", "json"))["metadata"]
        assert meta["annotations"]["meta.helm.sh/release-name"] == installed.name
    uninstall(helm, kubectl, control_plane, installed)
    for crd in crds:
        kubectl.ok("get", crd)
    assert kubectl("get", f"clusterrole/{installed.name}-operator").returncode != 0


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_manifests_pass_strict_server_side_validation(
    helm: Helm, kubectl: Kubectl, feed_namespaces: list[str], env: str, tmp_path: Path
) -> None:
    """What Argo CD syncs after the chart (gitops/market with the environment's values and Terraform's
    generated ones): the CRDs' schemas and CEL rules accept every feed, connection and pipeline."""
    deployed = deploy(helm, env, tmp_path)
    manifests = tmp_path / "market.yaml"
    manifests.write_text(yaml.safe_dump_all(deployed.market))
    result = kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=validation",
                     "--dry-run=server", "--validate=strict", "-f", str(manifests))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert result.stdout.count("(server dry run)") == len(deployed.market), result.stdout
