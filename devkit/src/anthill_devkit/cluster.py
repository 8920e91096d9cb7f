"""Named local clusters that outlive the command that started them (``anthill dev cluster up|down|status|env``).

A cluster is either the real local control plane (processes started detached, tracked by pid) or a kind
cluster. Its state file under ``${ANTHILL_STATE_DIR:-${XDG_STATE_HOME:-~/.local/state}/anthill}/clusters/``
is what ``down``, ``status`` and ``env`` read.
"""

from __future__ import annotations

import datetime
import os
import shlex
import shutil
import ssl
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from anthill_devkit.controlplane import (
    Binaries,
    ControlPlane,
    ControlPlaneError,
    pid_owned,
    probe,
    remove_tree,
    rss_bytes,
    terminate,
)
from anthill_devkit.node import (
    Node,
    NodeBinaries,
    NodeRecord,
    ensure_debian_packages,
    load_record,
    missing_packages,
    runtime_dir,
)
from anthill_devkit.node import cleanup as node_cleanup
from anthill_devkit.toolchain import CONTROL_PLANE_TOOLS, Toolchain, ToolchainError, ensure_own_binary

STATE_FILE = "cluster.json"


class ClusterState(BaseModel):
    """What ``up`` recorded about a running cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    mode: Literal["local", "kind"]
    workdir: Path
    kubeconfig: Path
    server: str
    started_at: datetime.datetime
    start_seconds: float
    pids: dict[str, int] = {}
    etcd_data: Path | None = None
    kind_cluster: str | None = None
    path_dirs: list[Path] = []
    node: str | None = None
    """The local node's name, when the cluster has one (its record is in ``workdir/node``)."""


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int
    alive: bool
    rss: int | None


def state_root(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if root := env.get("ANTHILL_STATE_DIR"):
        return Path(root)
    xdg = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".local" / "state")
    return Path(xdg) / "anthill"


def cluster_dir(name: str, env: Mapping[str, str] | None = None) -> Path:
    return state_root(env) / "clusters" / name


def load_state(name: str) -> ClusterState | None:
    """The recorded state of cluster ``name``, or None if it was never started or is unreadable."""
    path = cluster_dir(name) / STATE_FILE
    try:
        return ClusterState.model_validate_json(path.read_text())
    except FileNotFoundError:
        return None
    except ValidationError:
        return None


def save_state(state: ClusterState) -> None:
    path = state.workdir / STATE_FILE
    path.write_text(state.model_dump_json(indent=2) + "\n")


def render_env(state: ClusterState, extra_path: Sequence[Path] = (), current_path: str = "") -> str:
    """Shell exports that point kubectl, helm and the Anthill CLI at ``state``'s cluster."""
    dirs = [str(d) for d in (*state.path_dirs, *extra_path)]
    path = ":".join([*dict.fromkeys(dirs), current_path] if current_path else dict.fromkeys(dirs))
    return f"export KUBECONFIG={shlex.quote(str(state.kubeconfig))}\nexport PATH={shlex.quote(path)}\n"


def process_status(state: ClusterState) -> list[ProcessStatus]:
    return [
        ProcessStatus(name, pid, _owned_alive(pid, state), rss_bytes(pid)) for name, pid in state.pids.items()
    ]


def is_running(state: ClusterState) -> bool:
    if state.mode == "kind":
        return _kind_cluster_exists(state)
    statuses = process_status(state)
    return bool(statuses) and all(s.alive for s in statuses)


def api_ready(state: ClusterState) -> bool:
    """Whether the API server answers /readyz with the admin credentials in the kubeconfig."""
    config = yaml.safe_load(state.kubeconfig.read_text())
    token = config["users"][0]["user"].get("token")
    ca_file = state.workdir / "pki" / "ca.crt"
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file.exists() else None
    if context is None:  # kind: the kubeconfig carries client certs; kubectl is the honest probe
        return _kubectl_ready(state)
    return probe(f"{state.server}/readyz", context, token)


def node_binaries(toolchain: Toolchain, on_build: Callable[[str, str], None] | None = None) -> NodeBinaries:
    """The node's binaries: kubelet and kube-scheduler built like the API server, and the pause binary."""
    return NodeBinaries(
        kubelet=toolchain.ensure("kubelet", on_build),
        kube_scheduler=toolchain.ensure("kube-scheduler", on_build),
        pause=ensure_own_binary(toolchain, "pause"),
    )


def node_name(cluster: str) -> str:
    return f"{cluster}-node"


def up_local(
    name: str,
    toolchain: Toolchain,
    progress: Callable[[str], None],
    on_build: Callable[[str, str], None] | None = None,
    timeout: float = 90.0,
    with_node: bool = True,
) -> ClusterState:
    """Start a detached local control plane named ``name`` (with a node unless ``with_node`` is false)."""
    binaries = Binaries(*(toolchain.ensure(tool, on_build) for tool in CONTROL_PLANE_TOOLS))
    helm = toolchain.ensure("helm", on_build)
    workdir = cluster_dir(name)
    _remove_node(workdir)
    remove_tree(workdir)
    workdir.mkdir(parents=True, mode=0o700)
    node: Node | None = None
    if with_node:
        ensure_debian_packages(missing_packages(), progress)
        node = Node(
            binaries=node_binaries(toolchain, on_build),
            workdir=workdir,
            name=node_name(name),
            detach=True,
            progress=progress,
        )
        node.prepare()  # the bridge first: the API server serves on its address, where pods reach it
    plane = ControlPlane(
        binaries=binaries,
        workdir=workdir,
        detach=True,
        progress=progress,
        host=node.gateway if node else "127.0.0.1",
        node_name=node.name if node else None,
    )
    try:
        plane.start(timeout=timeout)
        if node is not None:
            node.start(plane, timeout=timeout)
    except BaseException:
        if node is not None:
            node.stop()
        plane.stop()
        raise
    state = ClusterState(
        name=name,
        mode="local",
        workdir=plane.workdir,
        kubeconfig=plane.kubeconfig,
        server=plane.server,
        started_at=datetime.datetime.now(datetime.UTC),
        start_seconds=round(plane.started_in + (node.started_in if node else 0.0), 2),
        pids={**plane.pids, **(node.record.pids if node else {})},
        etcd_data=plane.layout.etcd_data,
        path_dirs=[binaries.kubectl.parent, helm.parent],
        node=node.name if node else None,
    )
    save_state(state)
    return state


def down(state: ClusterState) -> None:
    """Stop the cluster's processes (only those still running from its workdir) and remove its files."""
    if state.mode == "kind":
        if state.kind_cluster:
            subprocess.run(
                [kind_binary() or "kind", "delete", "cluster", "--name", state.kind_cluster],
                check=False,
                capture_output=True,
            )
    else:
        _remove_node(state.workdir)
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            pid = state.pids.get(name)
            if pid is not None and _owned_alive(pid, state):
                terminate(pid)
        if state.etcd_data is not None:
            remove_tree(state.etcd_data)
    remove_tree(state.workdir)


def node_record(state: ClusterState) -> NodeRecord:
    """The record of the running node of ``state`` (to import images into it)."""
    record = load_record(state.workdir / "node")
    if record is None or state.node is None:
        raise ControlPlaneError(f"cluster {state.name!r} has no node")
    return record


def _remove_node(workdir: Path) -> None:
    record = load_record(workdir / "node")
    if record is not None:
        node_cleanup(record)


def kind_binary() -> str | None:
    """kind from PATH, else the one `anthill dev tools build kind` put in the cache."""
    if found := shutil.which("kind"):
        return found
    try:
        cached = Toolchain.from_environment().find("kind")
    except ToolchainError:
        return None
    return str(cached) if cached else None


def kind_unavailable(which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Why the kind path cannot run here, or None if a Docker engine answers and kind is available."""
    if which("docker") is None:
        return "docker is not installed"
    info = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, check=False
    )
    if info.returncode != 0:
        return "no Docker engine is reachable (`docker info` failed)"
    if kind_binary() is None:
        return "kind is not installed (`anthill dev tools build kind` builds it)"
    return None


def up_kind(
    name: str, progress: Callable[[str], None], path_dirs: Sequence[Path] = (), timeout: float = 300.0
) -> ClusterState:
    """Create a kind cluster named ``anthill-<name>`` and record it; ``path_dirs`` hold kubectl and helm."""
    reason = kind_unavailable()
    kind = kind_binary()
    if reason is not None or kind is None:
        raise ControlPlaneError(f"cannot start a kind cluster: {reason}")
    workdir = cluster_dir(name)
    remove_tree(workdir)
    workdir.mkdir(parents=True, mode=0o700)
    kubeconfig = workdir / "kubeconfig"
    cluster = f"anthill-{name}"
    progress(f"creating kind cluster {cluster}")
    started = datetime.datetime.now(datetime.UTC)
    result = subprocess.run(
        [
            kind,
            "create",
            "cluster",
            "--name",
            cluster,
            "--kubeconfig",
            str(kubeconfig),
            "--wait",
            f"{timeout:.0f}s",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ControlPlaneError(f"kind create cluster failed:\n{result.stderr[-4000:]}")
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    state = ClusterState(
        name=name,
        mode="kind",
        workdir=workdir,
        kubeconfig=kubeconfig,
        server=server,
        started_at=started,
        start_seconds=round((datetime.datetime.now(datetime.UTC) - started).total_seconds(), 2),
        kind_cluster=cluster,
        path_dirs=list(path_dirs),
    )
    save_state(state)
    return state


def _kind_cluster_exists(state: ClusterState) -> bool:
    kind = kind_binary()
    if kind is None or state.kind_cluster is None:
        return False
    result = subprocess.run([kind, "get", "clusters"], capture_output=True, text=True, check=False)
    return state.kind_cluster in result.stdout.split()


def _kubectl_ready(state: ClusterState) -> bool:
    pinned = [d / "kubectl" for d in state.path_dirs if (d / "kubectl").exists()]
    kubectl = str(pinned[0]) if pinned else shutil.which("kubectl")
    if kubectl is None:
        return False
    result = subprocess.run(
        [kubectl, "--kubeconfig", str(state.kubeconfig), "get", "--raw", "/readyz"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


def _owned_alive(pid: int, state: ClusterState) -> bool:
    """Alive and started for this cluster (see :func:`pid_owned`)."""
    markers = [str(state.workdir)] + ([str(state.etcd_data)] if state.etcd_data else [])
    if state.node is not None:
        markers.append(str(runtime_dir(state.workdir / "node")))
    return pid_owned(pid, markers)
