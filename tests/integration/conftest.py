"""One real control plane for the whole integration session, and API clients bound to it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from prometheus_client.parser import text_string_to_metric_families

from anthill_devkit.controlplane import (
    Binaries,
    ControlPlane,
    build_kubeconfig,
    free_ports,
    probe,
    terminate,
    wait_for,
)
from anthill_devkit.toolchain import CONTROL_PLANE_TOOLS, Toolchain
from tests.integration.kubectl import Kubectl

REPO = Path(__file__).resolve().parents[2]
OPERATOR_NAMESPACE = "anthill-system"
OPERATOR_SA = "anthill-operator"
DRIFT_INTERVAL = 2.0


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    toolchain = Toolchain.from_environment(REPO)
    return Binaries(*(toolchain.ensure(tool) for tool in CONTROL_PLANE_TOOLS))


@pytest.fixture(scope="session")
def control_plane(binaries: Binaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with ControlPlane(binaries=binaries, workdir=tmp_path_factory.mktemp("control-plane")) as plane:
        yield plane


@pytest.fixture(scope="session")
def api_client(control_plane: ControlPlane) -> client.ApiClient:
    api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(control_plane.kubeconfig)
    )
    return api


@pytest.fixture
def namespace(api_client: client.ApiClient) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def install_crds(kubectl: Kubectl) -> None:
    """Apply Anthill's CRDs (and the operator's RBAC roles) and wait until they are served."""
    kubectl.ok("apply", "--server-side", "-f", str(REPO / "crds"))
    kubectl.ok("wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=anthill")


@pytest.fixture(scope="session")
def kubectl(control_plane: ControlPlane, binaries: Binaries) -> Kubectl:
    """kubectl with Anthill's CRDs (and the operator's RBAC roles) installed."""
    kubectl = Kubectl(binaries.kubectl, control_plane.kubeconfig)
    install_crds(kubectl)
    return kubectl


@dataclass(frozen=True)
class OperatorProcess:
    """A running `anthill operator run`, under its own service account's RBAC."""

    service_account: str
    metrics_url: str
    log: Path

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels``."""
        with urllib.request.urlopen(self.metrics_url, timeout=5) as response:  # noqa: S310 - loopback
            text = response.read().decode()
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total


def operator_kubeconfig(kubectl: Kubectl, control_plane: ControlPlane, directory: Path) -> Path:
    """Install the operator's ServiceAccount and ClusterRoleBinding; a kubeconfig with its token."""
    kubectl("create", "namespace", OPERATOR_NAMESPACE)
    kubectl("create", "serviceaccount", OPERATOR_SA, "-n", OPERATOR_NAMESPACE)
    kubectl("create", "clusterrolebinding", "anthill-operator", "--clusterrole=anthill-operator",
            f"--serviceaccount={OPERATOR_NAMESPACE}:{OPERATOR_SA}")  # fmt: skip
    token = kubectl.ok("create", "token", OPERATOR_SA, "-n", OPERATOR_NAMESPACE, "--duration=4h").strip()
    config = build_kubeconfig(control_plane.server, control_plane.ca_file.read_bytes(), OPERATOR_SA, token)
    path = directory / "operator.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.contextmanager
def private_plane(
    binaries: Binaries, directory: Path, namespace: str
) -> Iterator[tuple[ControlPlane, Kubectl, Path]]:
    """A control plane of one test module's own, for tests that kill or restart parts of it: the CRDs,
    the operator's RBAC and kubeconfig, and ``namespace``, whose Secrets the operator may read."""
    with ControlPlane(binaries=binaries, workdir=directory / "plane") as plane:
        kubectl = Kubectl(binaries.kubectl, plane.kubeconfig)
        install_crds(kubectl)
        kubeconfig = operator_kubeconfig(kubectl, plane, directory)
        kubectl.ok("create", "namespace", namespace)
        kubectl.ok("create", "rolebinding", "secrets", "-n", namespace, "--clusterrole=anthill-operator-secrets",
                   f"--serviceaccount={OPERATOR_NAMESPACE}:{OPERATOR_SA}")  # fmt: skip
        yield plane, kubectl, kubeconfig


def start_operator(kubeconfig: Path, log: Path, extra_env: dict[str, str] | None = None) -> tuple[
        subprocess.Popen[bytes], str]:  # fmt: skip
    metrics_port, health_port = free_ports(2)
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "ANTHILL_DRIFT_INTERVAL": str(DRIFT_INTERVAL),
        "ANTHILL_SECRET_RETRY": "1",
        "ANTHILL_METRICS_PORT": str(metrics_port),
        "ANTHILL_HEALTH_PORT": str(health_port),
        "ANTHILL_LOG_FORMAT": "json",
        "ANTHILL_PEERING_LIFETIME": "5",
        "ANTHILL_ALLOW_LOOPBACK_HOSTS": "true",  # the sandbox Jobs API serves on loopback
        **(extra_env or {}),
    }
    with log.open("ab") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "anthill"), "operator", "run"], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    health = f"http://127.0.0.1:{health_port}/healthz"

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"operator exited: {log.read_text()[-3000:]}")
        return probe(health)

    wait_for(healthy, 60, "the operator's health endpoint")
    return process, f"http://127.0.0.1:{metrics_port}/metrics"


@pytest.fixture(scope="session")
def operator(
    kubectl: Kubectl, control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    directory = tmp_path_factory.mktemp("operator")
    kubeconfig = operator_kubeconfig(kubectl, control_plane, directory)
    log = directory / "operator.log"
    process, metrics_url = start_operator(kubeconfig, log)
    yield OperatorProcess(f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_SA}", metrics_url, log)
    terminate(process.pid)
    process.wait(timeout=10)


@pytest.fixture
def feed_namespace(kubectl: Kubectl, operator: OperatorProcess) -> Iterator[str]:
    """A namespace whose Secrets the operator was given (RoleBinding to anthill-operator-secrets)."""
    name = f"feeds-{uuid.uuid4().hex[:8]}"
    kubectl.ok("create", "namespace", name)
    kubectl.ok("create", "rolebinding", "anthill-operator-secrets", "-n", name,
               "--clusterrole=anthill-operator-secrets",
               f"--serviceaccount={OPERATOR_NAMESPACE}:{OPERATOR_SA}")  # fmt: skip
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The anthill-spark wheel, built once per session as a release builds it (`uv build`)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([str(Path(sys.executable).parent / "uv"), "build", "--package", "anthill-spark", "--wheel",
                    "--quiet", "--out-dir", str(out)], cwd=REPO, check=True, capture_output=True, timeout=300)  # fmt: skip
    (wheel,) = out.glob("*.whl")
    return wheel
