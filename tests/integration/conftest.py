"""One real control plane for the whole integration session, and API clients bound to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from anthill.dev.controlplane import Binaries, ControlPlane
from anthill.dev.toolchain import CONTROL_PLANE_TOOLS, Toolchain


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    toolchain = Toolchain.from_environment(Path(__file__).resolve().parents[2])
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
