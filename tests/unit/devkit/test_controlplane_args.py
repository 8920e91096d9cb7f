"""Pure builders of the control plane's arguments, token file and kubeconfig."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from anthill_devkit import controlplane
from anthill_devkit.controlplane import (
    ADMIN_USER,
    CONTROLLERS,
    KCM_USER,
    Layout,
    Ports,
    apiserver_args,
    build_kubeconfig,
    build_token_file,
    controller_manager_args,
    ephemeral_ports,
    etcd_args,
    free_ports,
)

LAYOUT = Layout(workdir=Path("/w"), etcd_data=Path("/shm/etcd"))
PORTS = Ports(etcd_client=2379, etcd_peer=2380, apiserver=6443, controller_manager=10257)


def _flags(args: list[str]) -> dict[str, str]:
    return dict(arg.removeprefix("--").split("=", 1) for arg in args[1:])


def test_etcd_listens_on_loopback_only() -> None:
    flags = _flags(etcd_args(Path("/bin/etcd"), LAYOUT, PORTS))
    assert flags["listen-client-urls"] == "http://127.0.0.1:2379"
    assert flags["listen-peer-urls"] == "http://127.0.0.1:2380"
    assert flags["data-dir"] == "/shm/etcd"


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        pytest.param("bind-address", "127.0.0.1", id="loopback only"),
        pytest.param("secure-port", "6443", id="allocated port"),
        pytest.param("authorization-mode", "Node,RBAC", id="Node and RBAC, not AlwaysAllow"),
        pytest.param("token-auth-file", "/w/pki/tokens.csv", id="static admin token"),
        pytest.param("service-account-signing-key-file", "/w/pki/sa.key", id="can issue SA tokens"),
        pytest.param("service-account-key-file", "/w/pki/sa.pub", id="can verify SA tokens"),
        pytest.param("etcd-servers", "http://127.0.0.1:2379", id="its own etcd"),
        pytest.param("tls-cert-file", "/w/pki/apiserver.crt", id="serving cert from our CA"),
    ],
)
def test_apiserver_flags(flag: str, value: str) -> None:
    assert _flags(apiserver_args(Path("/bin/kube-apiserver"), LAYOUT, PORTS))[flag] == value


def test_controller_manager_runs_what_the_platform_needs() -> None:
    flags = _flags(controller_manager_args(Path("/bin/kcm"), LAYOUT, PORTS))
    controllers = flags["controllers"].split(",")
    for needed in (
        "cronjob-controller",
        "job-controller",
        "garbage-collector-controller",
        "namespace-controller",
        "serviceaccount-controller",
    ):
        assert needed in controllers
    assert controllers == list(CONTROLLERS)
    assert flags["use-service-account-credentials"] == "true"
    assert flags["bind-address"] == "127.0.0.1"
    assert flags["kubeconfig"] == "/w/controller-manager.kubeconfig"


def test_token_file_puts_only_the_admin_in_system_masters() -> None:
    lines = build_token_file("admintok", "kcmtok").splitlines()
    assert lines == [f'admintok,{ADMIN_USER},{ADMIN_USER},"system:masters"', f"kcmtok,{KCM_USER},{KCM_USER}"]


def test_kubeconfig_embeds_ca_and_token() -> None:
    config = build_kubeconfig("https://127.0.0.1:6443", b"PEM", "alice", "tok")
    assert config["current-context"] == "anthill"
    assert config["clusters"][0]["cluster"] == {
        "server": "https://127.0.0.1:6443",
        "certificate-authority-data": base64.b64encode(b"PEM").decode(),
    }
    assert config["users"] == [{"name": "alice", "user": {"token": "tok"}}]


def test_free_ports_are_distinct() -> None:
    ports = free_ports(8)
    assert len(set(ports)) == 8
    assert all(1024 < port < 65536 for port in ports)


def test_free_ports_stay_out_of_the_range_outgoing_connections_take() -> None:
    """A port from the ephemeral range can become some connection's local port before the server binds it."""
    ephemeral = ephemeral_ports()
    ports = free_ports(64)
    assert not [port for port in ports if port in ephemeral]


def test_free_ports_skip_a_port_already_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", free_ports(1)[0]))
        port = held.getsockname()[1]
        monkeypatch.setattr(controlplane, "listen_ports", lambda: range(port, port + 1))
        with pytest.raises(RuntimeError, match=f"no 1 free ports in {port}-{port}"):
            free_ports(1)
