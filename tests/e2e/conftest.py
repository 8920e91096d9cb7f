"""The platform installed the way users install it: one installation per e2e session and cluster kind.

On the real node (the default here): a control plane serving on the node's bridge address, the node
(containerd, runc, CNI bridge, kubelet, kube-scheduler), the three images built from ``docker/*.Dockerfile``
with buildah and imported into the node. On kind (where Docker and kind exist): a kind cluster, the same
Dockerfiles built with ``docker build`` over their public bases and loaded with ``kind load``. Either way the
sandbox market-data API and a moto S3 server listen on the one host address pods reach (the bridge's, or
the kind network's gateway), and ``helm install`` puts the chart in with ``values-dev.yaml`` plus the
overrides a local cluster needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from anthill_devkit.cluster import kind_binary, kind_unavailable, node_binaries
from anthill_devkit.controlplane import Binaries, ControlPlane, free_ports, wait_for
from anthill_devkit.images import IMAGES, Builder, BuiltImage, missing_build_packages
from anthill_devkit.node import Node, ensure_debian_packages, missing_packages
from anthill_devkit.toolchain import CONTROL_PLANE_TOOLS, Toolchain
from anthill_sandbox.server import SandboxServer, SandboxState
from anthill_sandbox.stream import StreamServer
from tests.integration.kubectl import Kubectl

REPO = Path(__file__).resolve().parents[2]
RELEASE = "anthill"
SYSTEM_NS = "anthill-system"
MARKET_NS = "market"
BUCKET = "anthill-e2e"
LAKE = f"s3://{BUCKET}/lake"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "e2e-access", "AWS_SECRET_ACCESS_KEY": "e2e-secret-value"}
API_KEY = "sandbox"  # the key the sandbox accepts
LAKE_SECRET = "lake-credentials"
API_SECRET = "massive-api"


def e2e_unavailable() -> str | None:
    """Why a real node cannot run here, or None."""
    if os.geteuid() != 0:
        return "a real node needs root (containerd, cgroups, a bridge)"
    if not Path("/sys/fs/cgroup").is_dir():
        return "no cgroup filesystem"
    return None


@dataclass
class Platform:
    kind: str
    kubeconfig: Path
    workdir: Path
    kubectl: Kubectl
    helm: Path
    images: dict[str, BuiltImage]
    sandbox: SandboxServer
    stream: StreamServer
    s3_endpoint: str
    operator_env: list[dict[str, str]]
    """More operator environment the cluster needs (the API server's address where no kube-proxy runs)."""

    def s3(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self.s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents", [])]
        return found

    def helm_run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.helm), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def chart_values(self, **extra: Any) -> list[str]:
        """``--set``-free overrides as a values file: the local images, the local servers, the API server."""
        operator, ingest = self.images["operator"], self.images["ingest"]
        values = {
            "image": {"repository": operator.name, "tag": operator.tag, "pullPolicy": "Never"},
            # The Spark image built here, besides the published ones; only this suite allows it.
            "allowlists": {"images": ["ghcr.io/anthill-platform", self.images["spark"].name]},
            "ingest": {
                "image": ingest.reference,
                "pullPolicy": "Never",
                "marketDataUrl": self.sandbox.url,
                "marketStreamUrl": self.stream.url,
            },
            "lake": {
                "s3EndpointUrl": self.s3_endpoint,
                "region": "us-east-1",
                "credentialsSecret": LAKE_SECRET,
            },
            "extraEnv": self.operator_env,
            "driftInterval": 5,
            "secretRetry": 2,
            **extra,
        }
        content = json.dumps(values, sort_keys=True)
        path = self.workdir / f"values-local-{hashlib.sha256(content.encode()).hexdigest()[:8]}.json"
        path.write_text(content)
        return ["-f", str(REPO / "charts" / "anthill" / "values-dev.yaml"), "-f", str(path)]

    def operator_pod(self) -> dict[str, Any]:
        pods = json.loads(
            self.kubectl.ok(
                "get", "pods", "-n", SYSTEM_NS, "-l", "app.kubernetes.io/name=anthill", "-o", "json"
            )
        )["items"]
        running = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        assert len(running) == 1, [p["metadata"]["name"] for p in pods]
        pod: dict[str, Any] = running[0]
        return pod


def _namespace(kubectl: Kubectl, name: str) -> None:
    kubectl.ok("create", "namespace", name)
    kubectl.ok("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")


@contextlib.contextmanager
def _servers(host: str) -> Iterator[tuple[SandboxServer, StreamServer, str]]:
    """The sandbox market-data API, its WebSocket stream and a moto S3 server on ``host``, the address pods
    reach."""
    state = SandboxState()
    sandbox = SandboxServer(state=state, host=host).start()
    stream = StreamServer(0, state, host=host).start()
    (port,) = free_ports(1)
    moto = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    moto.start()
    try:
        yield sandbox, stream, f"http://{host}:{port}"
    finally:
        moto.stop()
        stream.stop()
        sandbox.stop()


@contextlib.contextmanager
def _on_real_node(workdir: Path, toolchain: Toolchain) -> Iterator[Platform]:
    ensure_debian_packages([*missing_packages(), *missing_build_packages()], print, what="the e2e suite")
    binaries = Binaries(*(toolchain.ensure(tool) for tool in CONTROL_PLANE_TOOLS))
    builder = Builder(repo=REPO, cache=toolchain.cache, progress=print)
    images = {name: builder.build(name) for name in IMAGES}
    node = Node(binaries=node_binaries(toolchain), workdir=workdir, name="anthill-e2e")
    node.prepare()
    with contextlib.ExitStack() as stack:
        stack.callback(node.stop)
        plane = ControlPlane(binaries=binaries, workdir=workdir, host=node.gateway, node_name=node.name)
        stack.enter_context(plane)
        node.start(plane)
        for built in images.values():
            node.import_image(built.archive)
        sandbox, stream, s3_endpoint = stack.enter_context(_servers(node.gateway))
        # No kube-proxy on the local node: the `kubernetes` Service's address routes nowhere, so the operator
        # reaches the API server where it serves, on the bridge.
        api = [
            {"name": "KUBERNETES_SERVICE_HOST", "value": plane.host},
            {"name": "KUBERNETES_SERVICE_PORT", "value": str(plane.ports.apiserver)},
        ]
        yield Platform("node", plane.kubeconfig, workdir, Kubectl(binaries.kubectl, plane.kubeconfig),
                       toolchain.ensure("helm"), images, sandbox, stream, s3_endpoint, api)  # fmt: skip


@contextlib.contextmanager
def _on_kind(workdir: Path, toolchain: Toolchain) -> Iterator[Platform]:
    kind = kind_binary()
    assert kind is not None
    cluster = f"anthill-e2e-{os.getpid()}"
    kubeconfig = workdir / "kubeconfig"
    created = subprocess.run([kind, "create", "cluster", "--name", cluster, "--kubeconfig", str(kubeconfig),
                              "--wait", "300s"], capture_output=True, text=True, check=False)  # fmt: skip
    assert created.returncode == 0, created.stderr
    try:
        images = {}
        for name in IMAGES:
            # The public bases as the Dockerfiles pin them; the tag is the same hash of the inputs.
            tag = Builder(repo=REPO, cache=toolchain.cache).image_tag(name, {"engine": "docker"})
            reference = f"local/anthill-{name}:{tag}"
            subprocess.run(["docker", "build", "-f", str(REPO / "docker" / f"{name}.Dockerfile"), "-t", reference,
                            str(REPO)], check=True)  # fmt: skip
            subprocess.run([kind, "load", "docker-image", reference, "--name", cluster], check=True)
            images[name] = BuiltImage(f"local/anthill-{name}", tag, Path(), 0, 0.0, built=True)
        gateway = subprocess.run(
            ["docker", "network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        host = next(address for address in gateway if ":" not in address)
        with _servers(host) as (sandbox, stream, s3_endpoint):
            yield Platform("kind", kubeconfig, workdir, Kubectl(toolchain.ensure("kubectl"), kubeconfig),
                           toolchain.ensure("helm"), images, sandbox, stream, s3_endpoint, [])  # fmt: skip
    finally:
        subprocess.run([kind, "delete", "cluster", "--name", cluster], capture_output=True, check=False)


@pytest.fixture(
    scope="session",
    params=[pytest.param("node", id="node"), pytest.param("kind", id="kind", marks=pytest.mark.kind)],
)
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The installed platform, on the real node or on kind (each skipped, with the reason, where it cannot run)."""
    reason = e2e_unavailable() if request.param == "node" else kind_unavailable()
    if reason is not None:
        pytest.skip(reason)
    toolchain = Toolchain.from_environment(REPO)
    workdir = tmp_path_factory.mktemp(f"platform-{request.param}")
    backend = _on_real_node if request.param == "node" else _on_kind
    with backend(workdir, toolchain) as platform:
        platform.s3().create_bucket(Bucket=BUCKET)
        kubectl = platform.kubectl
        for ns in (SYSTEM_NS, MARKET_NS):
            _namespace(kubectl, ns)
        kubectl.ok(
            "create", "secret", "generic", API_SECRET, "-n", MARKET_NS, f"--from-literal=apiKey={API_KEY}"
        )
        kubectl.ok("create", "secret", "generic", LAKE_SECRET, "-n", MARKET_NS,
                   *(f"--from-literal={k}={v}" for k, v in S3_KEYS.items()))  # fmt: skip
        installed = platform.helm_run(
            "install", RELEASE, str(REPO / "charts" / "anthill"), "-n", SYSTEM_NS,
            *platform.chart_values(), "--wait", "--timeout", "180s",
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr + _operator_logs(kubectl)
        yield platform


def _operator_logs(kubectl: Kubectl) -> str:
    result = kubectl("logs", "-n", SYSTEM_NS, "deploy/anthill-operator", "--tail=40")
    described = kubectl("describe", "pods", "-n", SYSTEM_NS)
    return (
        f"\n--- operator logs ---\n{result.stdout}{result.stderr}\n--- pods ---\n{described.stdout[-3000:]}"
    )


def wait_json(kubectl: Kubectl, ns: str, ref: str, check: Any, timeout: float, what: str) -> dict[str, Any]:
    """Poll ``kubectl get ref -o json`` until ``check(obj)`` holds; return the object."""
    seen: dict[str, Any] = {}

    def ready() -> bool:
        result = kubectl("get", ref, "-n", ns, "-o", "json")
        if result.returncode != 0:
            return False
        seen.clear()
        seen.update(json.loads(result.stdout))
        return bool(check(seen))

    wait_for(
        ready, timeout, what, interval=1.0, on_timeout=lambda: f"\nlast seen: {json.dumps(seen)[-2000:]}"
    )
    return dict(seen)
