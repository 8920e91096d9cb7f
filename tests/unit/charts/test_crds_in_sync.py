"""The chart's CRDs are crds/ byte for byte (hack/sync-chart-crds.py copies them)."""

from __future__ import annotations

from tests.helpers import REPO

SOURCE = REPO / "crds"
CHART_CRDS = REPO / "charts" / "anthill" / "files" / "crds"
NOT_CRDS = {"operator-rbac.yaml"}  # templated by the chart; test_chart compares the rules


def test_chart_has_every_crd_file_and_nothing_else() -> None:
    expected = {p.name for p in SOURCE.glob("*.yaml")} - NOT_CRDS
    assert {p.name for p in CHART_CRDS.glob("*.yaml")} == expected, "run python3 hack/sync-chart-crds.py"


def test_chart_crds_are_identical_to_crds() -> None:
    stale = [p.name for p in CHART_CRDS.glob("*.yaml") if p.read_bytes() != (SOURCE / p.name).read_bytes()]
    assert not stale, f"{stale} differ from crds/: run python3 hack/sync-chart-crds.py"
