"""The generated CRDs on the real API server: examples are admitted, bad input is rejected naming the field."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.kubectl import Kubectl

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
INVALID = sorted((REPO / "tests" / "data" / "marketfeeds" / "invalid").glob("*.yaml"))


@pytest.fixture
def ns(kubectl: Kubectl) -> Iterator[str]:
    name = f"crd-{uuid.uuid4().hex[:8]}"
    assert kubectl("create", "namespace", name).returncode == 0
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


def test_examples_are_admitted(kubectl: Kubectl, ns: str) -> None:
    result = kubectl("apply", "-n", ns, "-f", str(REPO / "examples"))
    assert result.returncode == 0, result.stderr
    listed = kubectl("get", "mf,mp,dbc", "-n", ns, "-o", "name").stdout.split()
    expected = sum(
        doc.get("kind") in ("MarketFeed", "MedallionPipeline", "DatabricksConnection")
        for path in (REPO / "examples").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    )
    assert len(listed) == expected >= 18


@pytest.mark.parametrize("manifest", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_marketfeed_is_rejected_naming_the_field(kubectl: Kubectl, ns: str, manifest: Path) -> None:
    header = dict(
        line[2:].split(": ", 1) for line in manifest.read_text().splitlines() if line.startswith("# ")
    )
    result = kubectl("apply", "-n", ns, "-f", str(manifest))
    assert result.returncode != 0, f"admitted, but {header['why']}"
    assert header["expect"] in result.stderr
    assert kubectl("get", "mf", "-n", ns, "-o", "name").stdout == ""  # nothing half-created


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 25


def test_kubectl_explain_teaches_the_api(kubectl: Kubectl) -> None:
    explained = kubectl("explain", "marketfeeds.spec.apiKeySecretRef")
    assert explained.returncode == 0, explained.stderr
    assert "never appears in the spec, arguments, logs or status" in " ".join(explained.stdout.split())


def test_printer_columns_and_short_names(kubectl: Kubectl, ns: str) -> None:
    assert kubectl("apply", "-n", ns, "-f", str(REPO / "examples" / "us-equities-daily.yaml")).returncode == 0
    table = kubectl("get", "mf", "-n", ns).stdout.splitlines()[0].split()
    assert table[:5] == ["NAME", "READY", "SYNCED", "DATASET", "SCHEDULE"]


def test_defaults_are_applied_by_the_server(kubectl: Kubectl, ns: str) -> None:
    assert kubectl("apply", "-n", ns, "-f", str(REPO / "examples" / "market-holidays.yaml")).returncode == 0
    spec = kubectl(
        "get",
        "mf",
        "market-holidays",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.concurrencyPolicy} {.spec.assetClass} {.spec.suspend} {.spec.resources}",
    ).stdout
    assert (
        spec == 'Forbid stocks false {"limits":{"memory":"1Gi"},"requests":{"cpu":"100m","memory":"256Mi"}}'
    )


def test_resources_left_out_keep_their_defaults_on_the_server(kubectl: Kubectl, ns: str) -> None:
    """Setting only limits keeps the default requests: the server defaults field by field, as the model does."""
    doc = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    doc["spec"]["resources"] = {"limits": {"memory": "2Gi"}}
    assert kubectl("apply", "-n", ns, "-f", "-", stdin=yaml.safe_dump(doc)).returncode == 0
    name = doc["metadata"]["name"]
    stored = kubectl("get", "mf", name, "-n", ns, "-o", "jsonpath={.spec.resources}").stdout
    assert stored == '{"limits":{"memory":"2Gi"},"requests":{"cpu":"100m","memory":"256Mi"}}'
