"""The pinned helm for the chart, GitOps and Terraform contract tests (built once into the tool cache when missing)."""

from __future__ import annotations

import pytest

from tests.unit.charts.argocd import ENVS, Deployed, deploy
from tests.unit.charts.helm import Helm


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm.pinned(tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="session", params=ENVS)
def deployed(
    request: pytest.FixtureRequest, helm: Helm, tmp_path_factory: pytest.TempPathFactory
) -> Deployed:
    """What Argo CD deploys in one environment, the generated files written from Terraform-shaped outputs."""
    env: str = request.param
    return deploy(helm, env, tmp_path_factory.mktemp(f"generated-{env}"))
