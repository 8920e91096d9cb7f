"""A real node for the local cluster: containerd + runc + Debian's CNI plugins + a kubelet, and kube-scheduler.

Everything the node makes is private to its cluster: containerd's config, root, state and socket, the
kubelet's root and pod logs, the CNI bridge (its own name and /24), one cgroup per hierarchy. Whatever
reaches outside that folder is written into ``node.json`` *before* it is made, so :func:`cleanup` can undo
all of it, also after a crash:

- the kernel settings the kubelet rewrites at start (and ``ip_forward``, which the bridge plugin sets) are
  read first and put back once the node is Ready and again at cleanup;
- the kubelet makes no iptables chains (``makeIPTablesUtilChains: false``; nothing here runs kube-proxy) and
  the bridge does no masquerading, so pod traffic stays on this machine: pods get only their /24, whose
  gateway is the bridge's own address, where the API server and the suite's servers listen;
- the few paths kubelet and containerd use whatever they are told (``/var/lib/kubelet/device-plugins``,
  ``/var/lib/cni``, ``/var/log/containers``, ``/run/containerd/s``) are removed if the node created them.

Argument and config builders are pure; :class:`Node` and :func:`cleanup` do the I/O.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from anthill_devkit.controlplane import (
    ControlPlane,
    ControlPlaneError,
    component_args,
    die_with_parent,
    free_ports,
    get_json,
    log_tail,
    pid_alive,
    pid_owned,
    probe,
    spawn,
    terminate,
    unverified_context,
    wait_for,
)

CGROUP_MOUNT = Path("/sys/fs/cgroup")
CNI_BIN_DIR = Path("/usr/lib/cni")
# What the kubelet rewrites when its container manager starts (pkg/kubelet/cm setupKernelTunables), and
# what the CNI bridge plugin turns on for its gateway.
KERNEL_SETTINGS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
)
# Paths outside the node's folder that the kubelet, containerd or libcni use regardless of their settings.
SHARED_PATHS = (
    Path("/var/lib/kubelet"),
    Path("/var/lib/cni"),
    Path("/var/log/containers"),
    Path("/run/containerd"),
)
# The Debian packages a node needs, by the file each provides.
DEBIAN_PACKAGES: Mapping[str, str] = {
    "/usr/bin/containerd": "containerd",
    "/usr/bin/containerd-shim-runc-v2": "containerd",
    "/usr/bin/ctr": "containerd",
    "/usr/sbin/runc": "runc",
    str(CNI_BIN_DIR / "bridge"): "containernetworking-plugins",
    str(CNI_BIN_DIR / "host-local"): "containernetworking-plugins",
    str(CNI_BIN_DIR / "loopback"): "containernetworking-plugins",
}
PAUSE_IMAGE = "local/anthill-pause"
RUNC = Path("/usr/sbin/runc")
CTR = Path("/usr/bin/ctr")
SUBNET_POOL = ipaddress.IPv4Network("10.200.0.0/13")
RECORD = "node.json"
# A unix socket's path holds at most 108 bytes; the deepest the node makes is
# ``<runtime>/kubelet/root/pod-resources/kubelet.sock``. A cluster folder deeper than this keeps the
# node's runtime state (containerd, kubelet, CNI) under RUNTIME_FALLBACK/<id> instead.
MAX_RUNTIME_DIR = 60
RUNTIME_FALLBACK = Path("/var/lib/anthill/nodes")


class NodeError(ControlPlaneError):
    """The node could not be prepared, started or removed; the message says why."""


class NodeRecord(BaseModel):
    """What a node made outside its folder, written before it is made so that cleanup finds all of it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    home: Path
    """The node's folder in its cluster's folder: this record, the logs."""
    dir: Path
    """Runtime state (containerd, kubelet, CNI): ``home``, or a short path when ``home`` is too deep."""
    bridge: str
    subnet: str
    gateway: str
    cgroup: str
    containerd_socket: Path
    kernel_settings: dict[str, str] = {}
    created_paths: list[Path] = []
    pids: dict[str, int] = {}


# ---------------------------------------------------------------------------------------------------------
# Debian packages


def missing_packages(
    by_file: Mapping[str, str] = DEBIAN_PACKAGES, exists: Callable[[str], bool] = os.path.exists
) -> list[str]:
    """The Debian packages to install for the files in ``by_file`` that are absent (sorted, unique); by
    default those a node needs."""
    return sorted({package for path, package in by_file.items() if not exists(path)})


def ensure_debian_packages(
    packages: Sequence[str], progress: Callable[[str], None], what: str = "the local node"
) -> None:
    """Install ``packages`` with apt-get (refreshing the lists once if an install fails)."""
    if not packages:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise NodeError(
            f"{what} needs the Debian packages {', '.join(packages)}; install them as root: "
            f"{' '.join(command)}"
        )
    progress(f"installing Debian packages for {what}: {' '.join(packages)} (first time only)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise NodeError(f"`{' '.join(command)}` failed:\n{result.stderr[-3000:]}")


# ---------------------------------------------------------------------------------------------------------
# Pure builders


def node_id(workdir: Path) -> str:
    """A short id for the names a node makes outside its folder (bridge, cgroup): one per cluster folder."""
    return hashlib.sha256(str(workdir.resolve()).encode()).hexdigest()[:8]


def choose_subnet(key: str, taken: Iterable[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """A /24 of ``SUBNET_POOL`` that overlaps nothing in ``taken``, starting where ``key`` hashes to."""
    subnets = list(SUBNET_POOL.subnets(new_prefix=24))
    start = int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(subnets)
    used = list(taken)
    for offset in range(len(subnets)):
        candidate = subnets[(start + offset) % len(subnets)]
        if not any(candidate.overlaps(net) for net in used):
            return candidate
    raise NodeError(f"every /24 of {SUBNET_POOL} is in use on this machine")


def containerd_config(record: NodeRecord, sandbox_image: str, runc: Path = RUNC) -> str:
    """containerd's config: everything under the node's folder, runc only, CNI bridge, no OOM score below 0."""
    root = record.dir / "containerd"
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{root / "root"}"
state = "{root / "state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{record.containerd_socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{root / "opt"}"

[{cri}]
  sandbox_image = "{sandbox_image}"
  # The pause container asks for oom_score_adj -998, which needs CAP_SYS_RESOURCE.
  restrict_oom_score_adj = true
  # Network namespaces under the state folder instead of /var/run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [{cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [{cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [{cri}.containerd.runtimes.runc.options]
        BinaryName = "{runc}"
        Root = "{root / "runc"}"
        SystemdCgroup = false

  [{cri}.cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{record.dir / "cni" / "net.d"}"
    max_conf_num = 1
"""


def cni_config(record: NodeRecord) -> dict[str, Any]:
    """The bridge network: the node's /24 on its own bridge, no masquerading, no default route."""
    return {
        "cniVersion": "1.0.0",
        "name": f"anthill-{record.name}",
        "plugins": [
            {
                "type": "bridge",
                "bridge": record.bridge,
                "isGateway": True,
                "isDefaultGateway": False,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": record.subnet, "gateway": record.gateway}]],
                    "dataDir": str(record.dir / "cni" / "ipam"),
                },
            }
        ],
    }


@dataclass(frozen=True)
class KubeletPorts:
    port: int
    healthz: int
    scheduler: int


def kubelet_config(record: NodeRecord, ca_file: Path, ports: KubeletPorts) -> dict[str, Any]:
    """The KubeletConfiguration: cgroupfs on v1 under the node's cgroup, ports of its own, no iptables."""
    nearly_full = "1%"
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": record.gateway,
        "port": ports.port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": ports.healthz,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_file)},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{record.cgroup}",
        "failCgroupV1": False,
        "failSwapOn": False,
        "resolvConf": "",
        "clusterDomain": "cluster.local",
        "containerRuntimeEndpoint": f"unix://{record.containerd_socket}",
        "imageServiceEndpoint": f"unix://{record.containerd_socket}",
        "podLogsDir": str(record.dir / "pod-logs"),
        "volumePluginDir": str(record.dir / "kubelet" / "volume-plugins"),
        "makeIPTablesUtilChains": False,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "registerNode": True,
        "maxPods": 50,
        # The disk is shared with everything else on the machine: evict and collect images only near full.
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": nearly_full,
            "imagefs.available": nearly_full,
            "nodefs.inodesFree": nearly_full,
        },
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "imageMinimumGCAge": "24h",
        "serializeImagePulls": False,
        "nodeStatusUpdateFrequency": "5s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "shutdownGracePeriod": "0s",
        "logging": {"verbosity": 1},
    }


def kubelet_args(binary: Path, record: NodeRecord, kubeconfig: Path) -> list[str]:
    return [
        str(binary),
        f"--config={record.dir / 'kubelet' / 'config.yaml'}",
        f"--kubeconfig={kubeconfig}",
        f"--root-dir={record.dir / 'kubelet' / 'root'}",
        f"--cert-dir={record.dir / 'kubelet' / 'pki'}",
        f"--hostname-override={record.name}",
        f"--node-ip={record.gateway}",
    ]


def pause_archive(pause_binary: bytes, tag: str) -> bytes:
    """A docker-archive of a one-file image running ``/pause`` (containerd's sandbox process)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("pause")
        info.size, info.mode, info.mtime = len(pause_binary), 0o755, 0
        tar.addfile(info, io.BytesIO(pause_binary))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "anthill dev: pause"}],
        },
        sort_keys=True,
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": ["layer.tar"]}]).encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, content in (("layer.tar", layer_bytes), (config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(content), 0
            tar.addfile(info, io.BytesIO(content))
    return archive.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Host state: addresses, cgroups, mounts, kernel settings


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise NodeError(f"`{' '.join(args)}` failed: {result.stderr.strip()}")
    return result


def networks_in_use() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network on an interface or in a route of this machine."""
    found: list[ipaddress.IPv4Network] = []
    for line in _run("ip", "-4", "-o", "addr", "show").stdout.splitlines():
        if match := re.search(r"inet (\S+)", line):
            found.append(ipaddress.IPv4Interface(match.group(1)).network)
    for line in _run("ip", "-4", "route", "show", "table", "all").stdout.splitlines():
        first = line.split()[0] if line.split() else ""
        with contextlib.suppress(ValueError):
            if first not in ("default", "broadcast", "local", "unreachable"):
                found.append(ipaddress.IPv4Network(first, strict=False))
    return found


def cgroup_hierarchies() -> list[Path]:
    """The cgroup hierarchies mounted under /sys/fs/cgroup: v1's, and the v2 tree a hybrid host mounts
    beside them (the kubelet makes its pod cgroups there too)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        separator = fields.index("-")
        if fields[separator + 1] in ("cgroup", "cgroup2") and fields[4].startswith(str(CGROUP_MOUNT) + "/"):
            found.append(Path(fields[4]))
    return sorted(set(found))


def read_kernel_settings() -> dict[str, str]:
    values = {}
    for key in KERNEL_SETTINGS:
        with contextlib.suppress(OSError):
            values[key] = (Path("/proc/sys") / key).read_text().strip()
    return values


def restore_kernel_settings(saved: Mapping[str, str]) -> None:
    for key, value in saved.items():
        path = Path("/proc/sys") / key
        with contextlib.suppress(OSError):
            if path.read_text().strip() != value:
                path.write_text(value)


def mounts_under(directory: Path) -> list[Path]:
    """Mount points at or below ``directory``, deepest first."""
    prefix = str(directory.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(Path(point))
    return sorted(set(points), key=lambda p: len(p.parts), reverse=True)


def _umount(path: Path) -> None:
    mnt_detach = 2
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.umount2(str(path).encode(), mnt_detach)


def _cgroup_dirs(cgroup: str) -> list[Path]:
    return [h / cgroup for h in cgroup_hierarchies() if (h / cgroup).is_dir()]


def _kill_cgroup_tasks(cgroup: str) -> None:
    """SIGKILL every process in the node's cgroup tree (containers left by a killed containerd)."""
    for top in _cgroup_dirs(cgroup):
        for directory in _cgroup_tree(top):
            with contextlib.suppress(OSError, ValueError):
                for pid in (directory / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(pid), signal.SIGKILL)


def _cgroup_tree(top: Path) -> list[Path]:
    """``top`` and every directory below it, deepest first.

    Container cgroups disappear while they are walked (runc removes an exited container's); ``os.walk``
    skips a directory that is gone by the time it is listed, where ``Path.rglob`` raises.
    """
    return [Path(directory) for directory, _, _ in os.walk(top, topdown=False)]


def _remove_cgroups(cgroup: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    for top in _cgroup_dirs(cgroup):
        for directory in _cgroup_tree(top):
            _rmdir_cgroup(directory, deadline)


def _rmdir_cgroup(directory: Path, deadline: float) -> None:
    while True:
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # busy: its last tasks are still exiting
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


def _processes_with(marker: str) -> list[int]:
    """Pids whose command line contains ``marker`` (the node's own shims, found after a crash)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
    return found


def load_record(directory: Path) -> NodeRecord | None:
    try:
        return NodeRecord.model_validate_json((directory / RECORD).read_text())
    except (FileNotFoundError, ValueError):
        return None


def runtime_dir(home: Path) -> Path:
    """Where a node in ``home`` keeps its runtime state: ``home`` unless its sockets' paths would be too long."""
    return home if len(str(home)) <= MAX_RUNTIME_DIR else RUNTIME_FALLBACK / node_id(home)


def _save(record: NodeRecord) -> None:
    path = record.home / RECORD
    partial = path.with_suffix(".partial")
    partial.write_text(record.model_dump_json(indent=2) + "\n")
    partial.replace(path)


def cleanup(record: NodeRecord) -> None:
    """Undo everything the node made: processes, containers, mounts, interface, cgroups, kernel settings,
    shared paths. Safe to run twice and after a crash at any point of :meth:`Node.start`."""
    markers = [str(record.dir)]
    for name in ("kubelet", "kube-scheduler"):
        pid = record.pids.get(name)
        if pid is not None and pid_owned(pid, markers):
            terminate(pid, timeout=10)
    _kill_cgroup_tasks(record.cgroup)
    pid = record.pids.get("containerd")
    if pid is not None and pid_owned(pid, markers):
        terminate(pid, timeout=10)
    for shim in _processes_with(str(record.containerd_socket)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(shim, signal.SIGKILL)
    _kill_cgroup_tasks(record.cgroup)
    if record.dir.exists():
        for point in mounts_under(record.dir):
            _umount(point)
    _run("ip", "link", "delete", record.bridge, check=False)
    _remove_cgroups(record.cgroup)
    restore_kernel_settings(record.kernel_settings)
    for path in record.created_paths:
        shutil.rmtree(path, ignore_errors=True)
    _remove_stale_log_links()
    shutil.rmtree(record.dir, ignore_errors=True)
    if record.dir.parent == RUNTIME_FALLBACK:
        for parent in (RUNTIME_FALLBACK, RUNTIME_FALLBACK.parent):
            with contextlib.suppress(OSError):
                parent.rmdir()  # only when no other node uses it
    shutil.rmtree(record.home, ignore_errors=True)


def ctr(record: NodeRecord, *args: str) -> subprocess.CompletedProcess[str]:
    """``ctr`` against the node's containerd, in the namespace the kubelet uses."""
    command = [str(CTR), "--address", str(record.containerd_socket), "-n", "k8s.io", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def import_image(record: NodeRecord, archive: Path) -> None:
    """Import a docker-archive into the node's containerd, where the kubelet finds it."""
    result = ctr(record, "images", "import", "--no-unpack", str(archive))
    if result.returncode != 0:
        raise NodeError(f"importing {archive.name} into the node failed: {result.stderr.strip()}")


def list_images(record: NodeRecord) -> list[str]:
    return ctr(record, "images", "list", "--quiet").stdout.split()


def _remove_stale_log_links() -> None:
    """/var/log/containers holds the kubelet's links to pod logs; drop those whose target is gone."""
    links = Path("/var/log/containers")
    if links.is_dir():
        for link in links.iterdir():
            if link.is_symlink() and not link.exists():
                link.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------------------
# The node


@dataclass(frozen=True)
class NodeBinaries:
    kubelet: Path
    kube_scheduler: Path
    pause: Path
    containerd: Path = Path("/usr/bin/containerd")
    runc: Path = RUNC


@dataclass
class Node:
    """One node on the bridge ``prepare`` creates; :meth:`start` joins it to a control plane on that bridge.

    ``prepare()`` comes first: the control plane must serve on :attr:`gateway`, the address pods reach.
    """

    binaries: NodeBinaries
    workdir: Path
    name: str = "anthill-node"
    detach: bool = False
    progress: Callable[[str], None] = field(default=lambda _msg: None)
    record: NodeRecord = field(init=False)
    started_in: float = field(init=False, default=0.0)
    _reaper: subprocess.Popen[bytes] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.workdir = (self.workdir / "node").resolve()

    @property
    def gateway(self) -> str:
        return self.record.gateway

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    def prepare(self) -> None:
        """Record the kernel settings and create the bridge and cgroups (undone by :meth:`stop`)."""
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        ident = node_id(self.workdir)
        runtime = runtime_dir(self.workdir)
        subnet = choose_subnet(ident, networks_in_use())
        self.record = NodeRecord(
            name=self.name,
            home=self.workdir,
            dir=runtime,
            bridge=f"anthill{ident[:7]}",
            subnet=str(subnet),
            gateway=str(subnet.network_address + 1),
            cgroup=f"anthill-{ident}",
            containerd_socket=runtime / "containerd" / "containerd.sock",
            kernel_settings=read_kernel_settings(),
            created_paths=[p for p in SHARED_PATHS if not p.exists()],
        )
        _save(self.record)
        if not self.detach:
            self._reaper = _start_reaper(self.workdir)
        try:
            runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
            _run("ip", "link", "add", self.record.bridge, "type", "bridge")
            _run("ip", "addr", "add", f"{self.record.gateway}/{subnet.prefixlen}", "dev", self.record.bridge)
            _run("ip", "link", "set", self.record.bridge, "up")
            for hierarchy in cgroup_hierarchies():
                directory = hierarchy / self.record.cgroup
                directory.mkdir(exist_ok=True)
                if hierarchy.name == "cpuset":  # a cpuset cgroup takes no task until it has cpus and mems
                    for knob in ("cpuset.cpus", "cpuset.mems"):
                        (directory / knob).write_text((hierarchy / knob).read_text())
        except BaseException:
            self.stop()
            raise

    def start(self, plane: ControlPlane, timeout: float = 90.0) -> None:
        """Start containerd, kube-scheduler and the kubelet; return once the node is Ready."""
        started = time.monotonic()
        try:
            self._start(plane, timeout)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - started

    def _start(self, plane: ControlPlane, timeout: float) -> None:
        record = self.record
        self.logs.mkdir(parents=True, exist_ok=True)
        pause_tag = f"{PAUSE_IMAGE}:{hashlib.sha256(self.binaries.pause.read_bytes()).hexdigest()[:12]}"
        for sub in ("containerd", "cni/net.d", "cni/ipam", "kubelet/root", "kubelet/pki", "pod-logs"):
            (record.dir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        (record.dir / "containerd" / "config.toml").write_text(
            containerd_config(record, f"docker.io/{pause_tag}", self.binaries.runc)
        )
        (record.dir / "cni" / "net.d" / "10-anthill.conflist").write_text(
            json.dumps(cni_config(record), indent=2)
        )
        kubelet_port, healthz, scheduler_port = free_ports(3)
        ports = KubeletPorts(kubelet_port, healthz, scheduler_port)
        config = kubelet_config(record, plane.ca_file, ports)
        (record.dir / "kubelet" / "config.yaml").write_text(yaml.safe_dump(config))

        self.progress("starting containerd")
        self._spawn(
            "containerd",
            [str(self.binaries.containerd), "--config", str(record.dir / "containerd" / "config.toml")],
        )
        wait_for(
            lambda: self._alive("containerd") and ctr(record, "version").returncode == 0,
            timeout,
            "containerd to answer",
            on_timeout=lambda: log_tail(self.logs / "containerd.log"),
        )
        archive = record.dir / "pause.tar"
        archive.write_bytes(pause_archive(self.binaries.pause.read_bytes(), pause_tag))
        import_image(record, archive)
        archive.unlink()

        self.progress("starting kube-scheduler")
        self._spawn(
            "kube-scheduler",
            component_args(
                self.binaries.kube_scheduler,
                plane.layout.scheduler_kubeconfig,
                ports.scheduler,
                record.dir / "scheduler",
            ),
        )
        url = f"https://127.0.0.1:{ports.scheduler}/healthz"
        wait_for(
            lambda: self._alive("kube-scheduler") and probe(url, unverified_context()),
            timeout,
            "kube-scheduler to become healthy",
            on_timeout=lambda: log_tail(self.logs / "kube-scheduler.log"),
        )

        self.progress("starting the kubelet")
        self._spawn("kubelet", kubelet_args(self.binaries.kubelet, record, plane.layout.node_kubeconfig))
        wait_for(
            lambda: self._alive("kubelet") and self._node_ready(plane),
            timeout,
            f"node {record.name} to become Ready",
            interval=0.25,
            on_timeout=lambda: log_tail(self.logs / "kubelet.log"),
        )
        # The kubelet rewrote them as its container manager started; it does not look at them again.
        restore_kernel_settings({k: v for k, v in record.kernel_settings.items() if not k.startswith("net/")})

    def import_image(self, archive: Path) -> None:
        import_image(self.record, archive)

    def stop(self) -> None:
        """Stop the node and undo everything it made (see :func:`cleanup`)."""
        record = load_record(self.workdir) or getattr(self, "record", None)
        if record is not None:
            cleanup(record)
        if self._reaper is not None:
            terminate(self._reaper.pid, timeout=5)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._reaper.wait(timeout=5)
            self._reaper = None

    def _spawn(self, name: str, args: list[str]) -> None:
        popen = spawn(args, self.logs / f"{name}.log", self.workdir, self.detach)
        self.record.pids[name] = popen.pid
        _save(self.record)

    def _alive(self, name: str) -> bool:
        pid = self.record.pids[name]
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not pid_alive(pid):
            raise NodeError(f"{name} exited{log_tail(self.logs / f'{name}.log')}")
        return True

    def _node_ready(self, plane: ControlPlane) -> bool:
        """Ready, and schedulable: the node lifecycle controller has lifted the `not-ready` taint."""
        node = get_json(
            f"{plane.server}/api/v1/nodes/{self.record.name}", plane.ssl_context(), plane.admin_token
        )
        if node is None:
            return False
        ready = [c for c in node.get("status", {}).get("conditions", []) if c["type"] == "Ready"]
        return bool(ready) and ready[0]["status"] == "True" and not node["spec"].get("taints")


def _start_reaper(directory: Path) -> subprocess.Popen[bytes]:
    """A watcher that outlives a SIGKILLed parent just long enough to run :func:`cleanup`."""
    return subprocess.Popen(
        [sys.executable, "-m", "anthill_devkit.node", "reap", str(directory)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads fork here
    )


def _reap(directory: Path) -> None:
    """Wait for the parent's death (SIGTERM from the kernel), then clean up what it left."""

    def on_term(_signum: int, _frame: object) -> None:
        record = load_record(directory)
        if record is not None:
            cleanup(record)
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    if os.getppid() == 1:  # the parent died before the handler was in place
        on_term(signal.SIGTERM, None)
    while True:
        signal.pause()


if __name__ == "__main__" and sys.argv[1:2] == ["reap"]:
    _reap(Path(sys.argv[2]))
