"""The local node leaves nothing behind: after stop, and after its parent is SIGKILLed, no process, mount,
cgroup, interface, iptables chain or changed kernel setting remains, even though a pod ran."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from anthill_devkit.cluster import node_binaries
from anthill_devkit.controlplane import Binaries, ControlPlane, wait_for
from anthill_devkit.node import (
    KERNEL_SETTINGS,
    SHARED_PATHS,
    Node,
    NodeRecord,
    cgroup_hierarchies,
    ensure_debian_packages,
    list_images,
    load_record,
    missing_packages,
    runtime_dir,
)
from anthill_devkit.toolchain import Toolchain
from tests.integration.kubectl import Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class HostState:
    processes: tuple[str, ...]
    mounts: tuple[str, ...]
    cgroups: tuple[str, ...]
    interfaces: tuple[str, ...]
    chains: tuple[str, ...]
    kernel: tuple[tuple[str, str], ...]
    shared_paths: tuple[str, ...]


def host_state(folder: Path) -> HostState:
    """What a node in ``folder`` could leave behind, as seen from the host."""
    markers = (str(folder), str(runtime_dir(folder.resolve() / "node")))
    processes = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if any(marker in cmdline for marker in markers):
                processes.append(cmdline.replace("\0", " ")[:200])
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    cgroups = [
        str(p)
        for h in cgroup_hierarchies()
        for p in h.iterdir()
        if p.is_dir() and p.name.startswith("anthill-")
    ]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    interfaces = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    chains: list[str] = []
    for tool in ("iptables-save", "ip6tables-save"):
        result = subprocess.run([tool], capture_output=True, text=True, check=False)
        chains += [line for line in result.stdout.splitlines() if line.startswith(":")]
    kernel = [(key, (Path("/proc/sys") / key).read_text().strip()) for key in KERNEL_SETTINGS]
    return HostState(
        tuple(sorted(processes)),
        tuple(sorted(m for m in mounts if m.startswith(markers) or "/netns/" in m)),
        tuple(sorted(cgroups)),
        tuple(sorted(i for i in interfaces if i.startswith(("anthill", "veth")))),
        tuple(sorted(chains)),
        tuple(kernel),
        tuple(str(p) for p in SHARED_PATHS if p.exists()),
    )


@pytest.fixture(scope="module")
def toolchain() -> Toolchain:
    if os.geteuid() != 0:
        pytest.skip("a real node needs root")
    ensure_debian_packages(missing_packages(), print)
    return Toolchain.from_environment(REPO)


def run_pod(kubectl: Kubectl, record: NodeRecord) -> None:
    """A pod that runs on the node, through containerd, runc and the CNI bridge."""
    [image] = [i for i in list_images(record) if "anthill-pause" in i]
    kubectl.ok("run", "probe", f"--image={image.removeprefix('docker.io/')}", "--image-pull-policy=Never",
               "--restart=Never")  # fmt: skip
    kubectl.ok("wait", "--for=condition=Ready", "pod/probe", "--timeout=60s")
    pod = json.loads(kubectl.ok("get", "pod", "probe", "-o", "json"))
    assert pod["status"]["podIP"].startswith(record.gateway.rsplit(".", 1)[0])


def test_stop_leaves_nothing_behind(toolchain: Toolchain, binaries: Binaries, tmp_path: Path) -> None:
    before = host_state(tmp_path)
    node = Node(binaries=node_binaries(toolchain), workdir=tmp_path, name="anthill-cleanup")
    node.prepare()
    with ControlPlane(binaries=binaries, workdir=tmp_path, host=node.gateway, node_name=node.name) as plane:
        try:
            node.start(plane)
            print(f"\nnode Ready in {node.started_in:.1f}s")
            run_pod(Kubectl(binaries.kubectl, plane.kubeconfig), node.record)
            during = host_state(tmp_path)
            assert during.processes
            assert during.cgroups
            assert during.mounts
            assert node.record.bridge in during.interfaces
            # The kubelet's rewrites are put back once the node is Ready; the bridge's ip_forward at stop.
            assert [k for k in during.kernel if not k[0].startswith("net/")] == [
                k for k in before.kernel if not k[0].startswith("net/")
            ]
        finally:
            node.stop()
    assert host_state(tmp_path) == before


def test_killed_parent_leaves_nothing_behind(
    toolchain: Toolchain, binaries: Binaries, tmp_path: Path
) -> None:
    before = host_state(tmp_path)
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from anthill_devkit.cluster import node_binaries
        from anthill_devkit.controlplane import Binaries, ControlPlane
        from anthill_devkit.node import Node
        from anthill_devkit.toolchain import Toolchain
        toolchain = Toolchain.from_environment(Path({str(REPO)!r}))
        binaries = Binaries(*[Path(p) for p in {[str(p) for p in (binaries.etcd, binaries.kube_apiserver, binaries.kube_controller_manager, binaries.kubectl)]!r}])
        node = Node(binaries=node_binaries(toolchain), workdir=Path({str(tmp_path)!r}), name="anthill-killed")
        node.prepare()
        plane = ControlPlane(binaries=binaries, workdir=Path({str(tmp_path)!r}), host=node.gateway, node_name=node.name)
        plane.start()
        node.start(plane)
        print(plane.kubeconfig, flush=True)
        time.sleep(600)
    """)  # fmt: skip
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert parent.stdout is not None
        kubeconfig = Path(parent.stdout.readline().strip())
        record = load_record(tmp_path / "node")
        assert record is not None
        run_pod(Kubectl(binaries.kubectl, kubeconfig), record)
        assert host_state(tmp_path).processes
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    wait_for(lambda: host_state(tmp_path) == before, 60, "the reaper to undo everything the node made",
             interval=0.5, on_timeout=lambda: f"\n{host_state(tmp_path)}\nvs\n{before}")  # fmt: skip
