"""The local node's pure builders: packages, subnet, containerd/CNI/kubelet configs, the pause image."""

from __future__ import annotations

import io
import ipaddress
import json
import tarfile
from pathlib import Path

import pytest

from anthill_devkit.node import (
    RUNTIME_FALLBACK,
    SUBNET_POOL,
    KubeletPorts,
    NodeError,
    NodeRecord,
    choose_subnet,
    cni_config,
    containerd_config,
    kubelet_args,
    kubelet_config,
    missing_packages,
    pause_archive,
    runtime_dir,
)

RECORD = NodeRecord(
    name="dev-node",
    home=Path("/state/dev/node"),
    dir=Path("/state/dev/node"),
    bridge="anthill1234567",
    subnet="10.201.7.0/24",
    gateway="10.201.7.1",
    cgroup="anthill-12345678",
    containerd_socket=Path("/state/dev/node/containerd/containerd.sock"),
)


def test_missing_packages_names_each_package_once() -> None:
    assert missing_packages(exists=lambda _path: True) == []
    assert missing_packages(exists=lambda path: "cni" not in path) == ["containernetworking-plugins"]
    assert missing_packages(exists=lambda _path: False) == [
        "containerd",
        "containernetworking-plugins",
        "runc",
    ]


def test_subnet_is_stable_and_avoids_networks_in_use() -> None:
    first = choose_subnet("abc", [])
    assert first == choose_subnet("abc", [])
    assert first.subnet_of(SUBNET_POOL)
    assert first.prefixlen == 24
    moved = choose_subnet("abc", [first])
    assert moved != first
    assert not moved.overlaps(first)
    wide = ipaddress.IPv4Network("10.0.0.0/8")
    with pytest.raises(NodeError, match="in use"):
        choose_subnet("abc", [wide])


def test_containerd_stays_in_the_node_folder_and_never_asks_for_negative_oom_scores() -> None:
    config = containerd_config(RECORD, "docker.io/local/anthill-pause:1")
    assert 'root = "/state/dev/node/containerd/root"' in config
    assert 'state = "/state/dev/node/containerd/state"' in config
    assert f'address = "{RECORD.containerd_socket}"' in config
    assert "restrict_oom_score_adj = true" in config
    assert "netns_mounts_under_state_dir = true" in config
    assert 'Root = "/state/dev/node/containerd/runc"' in config
    assert 'conf_dir = "/state/dev/node/cni/net.d"' in config
    assert 'stream_server_address = "127.0.0.1"' in config


def test_pod_network_stays_on_the_machine() -> None:
    [bridge] = cni_config(RECORD)["plugins"]
    assert bridge["bridge"] == RECORD.bridge
    assert bridge["ipMasq"] is False
    assert bridge["isDefaultGateway"] is False  # no route beyond the pod subnet
    assert bridge["ipam"]["ranges"] == [[{"subnet": RECORD.subnet, "gateway": RECORD.gateway}]]
    assert bridge["ipam"]["dataDir"].startswith(str(RECORD.dir))


def test_kubelet_uses_its_own_ports_cgroup_and_makes_no_iptables_chains() -> None:
    config = kubelet_config(RECORD, Path("/pki/ca.crt"), KubeletPorts(31001, 31002, 31003))
    assert (config["port"], config["healthzPort"], config["readOnlyPort"]) == (31001, 31002, 0)
    assert config["address"] == RECORD.gateway
    assert config["makeIPTablesUtilChains"] is False
    assert config["cgroupRoot"] == f"/{RECORD.cgroup}"
    assert (config["cgroupDriver"], config["failCgroupV1"], config["failSwapOn"]) == (
        "cgroupfs",
        False,
        False,
    )
    assert config["authentication"]["anonymous"]["enabled"] is False
    assert config["authorization"]["mode"] == "Webhook"
    assert config["resolvConf"] == ""  # no DNS server outside the machine
    assert config["containerRuntimeEndpoint"] == f"unix://{RECORD.containerd_socket}"
    args = kubelet_args(Path("/bin/kubelet"), RECORD, Path("/k/node.kubeconfig"))
    assert f"--node-ip={RECORD.gateway}" in args
    assert f"--hostname-override={RECORD.name}" in args
    assert all(not a.startswith("--root-dir=/var") for a in args)


def test_runtime_state_moves_to_a_short_path_when_sockets_would_not_fit() -> None:
    short = Path("/root/.local/state/anthill/clusters/anthill/node")
    assert runtime_dir(short) == short
    deep = Path("/home/dev/projects/anthill/work/state/clusters/integration-lifecycle/node")
    moved = runtime_dir(deep)
    assert moved.parent == RUNTIME_FALLBACK
    assert moved == runtime_dir(deep)
    for path in (short, moved):
        assert len(str(path / "kubelet/root/pod-resources/kubelet.sock")) < 104
        assert len(str(path / "containerd/containerd.sock.ttrpc")) < 104


def test_pause_archive_is_a_one_file_image() -> None:
    with tarfile.open(fileobj=io.BytesIO(pause_archive(b"\x7fELF...", "local/anthill-pause:abc"))) as archive:
        [manifest] = json.loads(archive.extractfile("manifest.json").read())
        config = json.loads(archive.extractfile(manifest["Config"]).read())
        layer_bytes = archive.extractfile("layer.tar").read()
    assert manifest["RepoTags"] == ["local/anthill-pause:abc"]
    assert config["config"]["Entrypoint"] == ["/pause"]
    with tarfile.open(fileobj=io.BytesIO(layer_bytes)) as layer:
        [member] = layer.getmembers()
    assert (member.name, member.mode) == ("pause", 0o755)
    assert pause_archive(b"x", "t:1") == pause_archive(b"x", "t:1")  # reproducible
