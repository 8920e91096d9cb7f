"""The pinned helm for the chart, GitOps and Terraform contract tests (built once into the tool cache when missing)."""

from __future__ import annotations

import pytest

from tests.unit.charts.helm import Helm


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm.pinned(tmp_path_factory.mktemp("helm-home"))
