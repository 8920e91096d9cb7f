"""A real local Kubernetes control plane: etcd + kube-apiserver + kube-controller-manager on loopback.

This is what controller-runtime's envtest does, plus the controller manager, so that CronJobs create Jobs,
owners garbage-collect their dependents and namespaces terminate. The API server authorizes with RBAC; the
admin is a static token in ``system:masters`` and the controller manager runs as
``system:kube-controller-manager`` with per-controller service-account credentials, as in a real cluster.

Argument builders are pure; :class:`ControlPlane` does the process I/O.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import datetime
import json
import os
import random
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import yaml

from anthill_devkit import pki

SERVICE_CIDR = "10.0.0.0/24"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
ADMIN_USER = "anthill-admin"
KCM_USER = "system:kube-controller-manager"
SCHEDULER_USER = "system:kube-scheduler"
NODE_GROUP = "system:nodes"

# What the platform needs from the controller manager: CronJobs create Jobs and Jobs create Pods, owners
# collect their dependents, namespaces terminate, every namespace gets its `default` ServiceAccount and
# root CA, and Deployments (the operator itself, once installed) get their ReplicaSets.
CONTROLLERS = (
    "cronjob-controller",
    "job-controller",
    "ttl-after-finished-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "deployment-controller",
    "replicaset-controller",
    "disruption-controller",
    "endpointslice-controller",
    "resourcequota-controller",
    # With a node: lift its `not-ready` taint once it reports Ready, and collect pods of a deleted node.
    "node-lifecycle-controller",
    "pod-garbage-collector-controller",
)


class ControlPlaneError(RuntimeError):
    """The control plane failed to start or stop; the message carries the failing process' log tail."""


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kubectl: Path


@dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int


@dataclass(frozen=True)
class Layout:
    """Where one control plane keeps its files. ``etcd_data`` may sit elsewhere (tmpfs)."""

    workdir: Path
    etcd_data: Path

    @property
    def certs(self) -> Path:
        return self.workdir / "pki"

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def kcm_kubeconfig(self) -> Path:
        return self.workdir / "controller-manager.kubeconfig"

    @property
    def scheduler_kubeconfig(self) -> Path:
        return self.workdir / "scheduler.kubeconfig"

    @property
    def node_kubeconfig(self) -> Path:
        return self.workdir / "node.kubeconfig"

    @property
    def token_file(self) -> Path:
        return self.certs / "tokens.csv"

    def cert(self, name: str) -> Path:
        return self.certs / name


def etcd_args(binary: Path, layout: Layout, ports: Ports) -> list[str]:
    """etcd on loopback without fsync: a disposable store, so speed beats durability."""
    client = f"http://127.0.0.1:{ports.etcd_client}"
    peer = f"http://127.0.0.1:{ports.etcd_peer}"
    return [
        str(binary),
        "--name=anthill",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=anthill={peer}",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]


def apiserver_args(binary: Path, layout: Layout, ports: Ports, host: str = "127.0.0.1") -> list[str]:
    """The API server on ``host`` (loopback, or a node's bridge address so that pods reach it too)."""
    return [
        str(binary),
        f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
        f"--bind-address={host}",
        f"--advertise-address={host}",
        f"--secure-port={ports.apiserver}",
        f"--cert-dir={layout.workdir / 'apiserver'}",
        f"--tls-cert-file={layout.cert('apiserver.crt')}",
        f"--tls-private-key-file={layout.cert('apiserver.key')}",
        f"--client-ca-file={layout.cert('ca.crt')}",
        f"--token-auth-file={layout.token_file}",
        # Node: a kubelet may read only what its own pods need.
        "--authorization-mode=Node,RBAC",
        # Reaching kubelets (logs, exec) by the address they register, with a client cert they trust.
        "--kubelet-preferred-address-types=InternalIP",
        f"--kubelet-client-certificate={layout.cert('apiserver-kubelet-client.crt')}",
        f"--kubelet-client-key={layout.cert('apiserver-kubelet-client.key')}",
        f"--service-account-issuer={SA_ISSUER}",
        f"--service-account-key-file={layout.cert('sa.pub')}",
        f"--service-account-signing-key-file={layout.cert('sa.key')}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        # A loopback address is not a valid endpoint for the in-cluster `kubernetes` Service.
        "--endpoint-reconciler-type=none",
        "--v=1",
    ]


def component_args(binary: Path, kubeconfig: Path, port: int, cert_dir: Path) -> list[str]:
    """What every control-plane component (controller manager, scheduler) runs with: one identity for the
    API and for delegated authn/authz, health on loopback, a single instance."""
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={cert_dir}",
        "--leader-elect=false",
        "--v=1",
    ]


def controller_manager_args(
    binary: Path, layout: Layout, ports: Ports, controllers: Sequence[str] = CONTROLLERS
) -> list[str]:
    return [
        *component_args(
            binary, layout.kcm_kubeconfig, ports.controller_manager, layout.workdir / "controller-manager"
        ),
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={layout.cert('sa.key')}",
        f"--root-ca-file={layout.cert('ca.crt')}",
        f"--controllers={','.join(controllers)}",
    ]


def build_kubeconfig(
    server: str, ca_pem: bytes, user: str, token: str, context: str = "anthill"
) -> dict[str, Any]:
    """A kubeconfig for ``user`` authenticating with a bearer token."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": context,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": user}}],
        "current-context": context,
    }


def build_token_file(admin_token: str, kcm_token: str, extra: Sequence[tuple[str, str, str]] = ()) -> str:
    """The API server's static token file: token,user,uid,"group1,group2". ``extra`` holds more
    ``(token, user, group)`` rows (the scheduler, a node); an empty group adds none."""
    lines = [
        f'{admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"',
        f"{kcm_token},{KCM_USER},{KCM_USER}",
    ]
    lines += [
        f'{token},{user},{user},"{group}"' if group else f"{token},{user},{user}"
        for token, user, group in extra
    ]
    return "\n".join(lines) + "\n"


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_LISTEN_PORT = 20000
MIN_LISTEN_SPAN = 1000  # fewer ports than this below the ephemeral range: pick above it instead


def ephemeral_ports() -> range:
    """The kernel's range for outgoing connections' local ports (and for ``bind(0)``)."""
    try:
        low, high = (int(part) for part in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def listen_ports() -> range:
    """Where :func:`free_ports` picks: below the ephemeral range, or above it when it starts too low."""
    ephemeral = ephemeral_ports()
    if ephemeral.start - LOWEST_LISTEN_PORT >= MIN_LISTEN_SPAN:
        return range(LOWEST_LISTEN_PORT, ephemeral.start)
    return range(max(ephemeral.stop, LOWEST_LISTEN_PORT), 65536)


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports for servers this process starts, held open together so they differ.

    They come from outside the kernel's ephemeral range: a port found free there can be taken as the local
    port of any outgoing connection (the API server's to etcd, a client's to the API server) in the moment
    between this check and the server's own bind, and the server then fails with "Address already in use".
    Outside that range only an explicit bind can take it, and the pick is random across thousands of ports.
    """
    choices = listen_ports()
    pick = random.SystemRandom()
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for _ in range(count * 50):
            if len(ports) == count:
                break
            port = pick.choice(choices)
            if port in ports:
                continue
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind(("", port))  # every address: the servers bind 0.0.0.0 or loopback
            except OSError:
                continue
            ports.append(port)
        if len(ports) < count:
            raise RuntimeError(f"no {count} free ports in {choices.start}-{choices.stop - 1}")
        return ports


def default_etcd_dir(workdir: Path) -> Path:
    """etcd data on tmpfs when there is one: its fsync-heavy writes are the control plane's bottleneck."""
    shm = Path("/dev/shm")  # noqa: S108 - a private, randomly named directory created 0700
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm / f"anthill-etcd-{secrets.token_hex(6)}"
    return workdir / "etcd"


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    interval: float = 0.1,
    on_timeout: Callable[[], str] | None = None,
) -> None:
    """Poll ``condition`` until it holds; raise with ``what`` (and ``on_timeout()``'s detail) otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            detail = on_timeout() if on_timeout else ""
            raise ControlPlaneError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


def die_with_parent() -> None:
    """Run in the child before exec: SIGTERM it when the parent dies, so a killed test run leaves no orphans."""
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def spawn(args: list[str], log: Path, cwd: Path, detach: bool) -> subprocess.Popen[bytes]:
    """Start ``args`` in a session of its own, output appended to ``log``; unless ``detach``, it dies with us."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=None if detach else die_with_parent,  # noqa: PLW1509 - no threads fork here
        )


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def pid_owned(pid: int, markers: Sequence[str]) -> bool:
    """Alive and started by us: its command line names one of ``markers`` (our folders), so a recycled pid
    belonging to something else is never signalled."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return False
    return any(marker in cmdline for marker in markers)


def rss_bytes(pid: int) -> int | None:
    """Resident memory of ``pid`` from /proc, or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def terminate(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL it if it outlives ``timeout``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        if not pid_alive(pid):
            return


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class ControlPlane:
    """Starts and stops one local control plane.

    ``detach=True`` lets the processes outlive this Python process (``anthill dev cluster up``); otherwise
    they die with it (tests). Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    binaries: Binaries
    workdir: Path
    etcd_data: Path | None = None
    detach: bool = False
    host: str = "127.0.0.1"
    """The address the API server serves on: loopback, or the node's bridge address."""
    node_name: str | None = None
    """With a node: also write credentials for kube-scheduler and for the kubelet of this node."""
    progress: Callable[[str], None] = field(default=lambda _msg: None)
    ports: Ports = field(init=False)
    layout: Layout = field(init=False)
    admin_token: str = field(init=False, repr=False)
    started_in: float = field(init=False, default=0.0)
    _processes: list[_Process] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.workdir = self.workdir.resolve()
        etcd_dir = self.etcd_data or default_etcd_dir(self.workdir)
        self.layout = Layout(workdir=self.workdir, etcd_data=etcd_dir)
        self.ports = Ports(*free_ports(4))
        self.admin_token = pki.new_token()

    @property
    def server(self) -> str:
        return f"https://{self.host}:{self.ports.apiserver}"

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    @property
    def ca_file(self) -> Path:
        return self.layout.cert("ca.crt")

    @property
    def pids(self) -> dict[str, int]:
        return {proc.name: proc.popen.pid for proc in self._processes}

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 90.0) -> None:
        """Start etcd, the API server and the controller manager; return once all three are healthy."""
        started = time.monotonic()
        try:
            self._write_files()
            self.progress("starting etcd")
            etcd = self._spawn("etcd", etcd_args(self.binaries.etcd, self.layout, self.ports))
            self._wait_healthy(etcd, f"http://127.0.0.1:{self.ports.etcd_client}/health", timeout)
            self.progress("starting kube-apiserver")
            api = self._spawn(
                "kube-apiserver",
                apiserver_args(self.binaries.kube_apiserver, self.layout, self.ports, self.host),
            )
            self._wait_healthy(api, f"{self.server}/readyz", timeout)
            self.progress("starting kube-controller-manager")
            kcm = self._spawn(
                "kube-controller-manager",
                controller_manager_args(self.binaries.kube_controller_manager, self.layout, self.ports),
            )
            self._wait_healthy(kcm, f"https://127.0.0.1:{self.ports.controller_manager}/healthz", timeout)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - started

    def restart_apiserver(self, timeout: float = 90.0) -> None:
        """Stop kube-apiserver and start it again on the same port and data (what a control-plane upgrade or a
        crash does to every client): watches break, requests fail until it is back."""
        [old] = [proc for proc in self._processes if proc.name == "kube-apiserver"]
        terminate(old.popen.pid)
        old.popen.wait(timeout=15)
        self._processes.remove(old)
        api = self._spawn(
            "kube-apiserver", apiserver_args(self.binaries.kube_apiserver, self.layout, self.ports, self.host)
        )
        self._wait_healthy(api, f"{self.server}/readyz", timeout)

    def stop(self) -> None:
        """Stop every process this control plane started (newest first) and remove the etcd data."""
        for proc in reversed(self._processes):
            terminate(proc.popen.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=5)
        self._processes.clear()
        remove_tree(self.layout.etcd_data)

    def _write_files(self) -> None:
        for path in (self.layout.certs, self.layout.logs, self.layout.etcd_data):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        extra_ips = () if self.host == "127.0.0.1" else (self.host,)
        material = pki.build_pki(now=datetime.datetime.now(datetime.UTC), extra_ips=extra_ips)
        kcm_token = pki.new_token()
        users: dict[Path, tuple[str, str, str]] = {}
        if self.node_name is not None:
            users[self.layout.scheduler_kubeconfig] = (pki.new_token(), SCHEDULER_USER, "")
            users[self.layout.node_kubeconfig] = (
                pki.new_token(),
                f"system:node:{self.node_name}",
                NODE_GROUP,
            )
        files = {
            "ca.crt": material.ca_cert,
            "apiserver.crt": material.serving_cert,
            "apiserver.key": material.serving_key,
            "apiserver-kubelet-client.crt": material.kubelet_client_cert,
            "apiserver-kubelet-client.key": material.kubelet_client_key,
            "sa.key": material.sa_private_key,
            "sa.pub": material.sa_public_key,
            "tokens.csv": build_token_file(self.admin_token, kcm_token, list(users.values())).encode(),
        }
        for name, content in files.items():
            _write_private(self.layout.cert(name), content)
        admin = build_kubeconfig(self.server, material.ca_cert, ADMIN_USER, self.admin_token)
        kcm = build_kubeconfig(self.server, material.ca_cert, KCM_USER, kcm_token)
        _write_private(self.layout.kubeconfig, yaml.safe_dump(admin).encode())
        _write_private(self.layout.kcm_kubeconfig, yaml.safe_dump(kcm).encode())
        for path, (token, user, _group) in users.items():
            config = build_kubeconfig(self.server, material.ca_cert, user, token)
            _write_private(path, yaml.safe_dump(config).encode())

    def _spawn(self, name: str, args: list[str]) -> _Process:
        log = self.layout.logs / f"{name}.log"
        proc = _Process(name, spawn(args, log, self.workdir, self.detach), log)
        self._processes.append(proc)
        return proc

    def _wait_healthy(self, proc: _Process, url: str, timeout: float) -> None:
        def healthy() -> bool:
            if proc.popen.poll() is not None:
                raise ControlPlaneError(
                    f"{proc.name} exited with code {proc.popen.returncode}{log_tail(proc.log)}"
                )
            return self._probe(url)

        wait_for(
            healthy,
            timeout,
            f"{proc.name} to become healthy at {url}",
            on_timeout=lambda: log_tail(proc.log),
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the API server against this control plane's CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def _probe(self, url: str) -> bool:
        if url.startswith(self.server):
            return probe(url, self.ssl_context(), self.admin_token)
        # The controller manager serves health with a self-signed cert of its own, on loopback.
        return probe(url, unverified_context())


def _get(url: str, context: ssl.SSLContext | None, token: str | None) -> bytes | None:
    """The body if ``url`` answers 200 within two seconds, else None."""
    request = urllib.request.Request(url)  # noqa: S310 - only http(s) URLs we built ourselves
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:  # noqa: S310
            return bytes(response.read()) if response.status == HTTPStatus.OK else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError):
        return None


def probe(url: str, context: ssl.SSLContext | None = None, token: str | None = None) -> bool:
    """True if ``url`` answers 200 within two seconds."""
    return _get(url, context, token) is not None


def get_json(url: str, context: ssl.SSLContext | None = None, token: str | None = None) -> Any:
    """The JSON ``url`` answers with 200 within two seconds, or None."""
    body = _get(url, context, token)
    return None if body is None else json.loads(body)


def unverified_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)


def log_tail(log: Path, lines: int = 25) -> str:
    try:
        tail = log.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return ""
    return f"\n--- last lines of {log} ---\n" + "\n".join(tail)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
