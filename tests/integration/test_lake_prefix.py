"""The platform's per-namespace lake prefix (`ANTHILL_LAKE_PREFIX`), enforced by a real operator.

Runs on a control plane of its own: the session's operator has no prefix, and two operators must not
reconcile the same objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from anthill_devkit.controlplane import Binaries, terminate, wait_for
from tests.integration.conftest import REPO, private_plane, start_operator
from tests.integration.kubectl import Kubectl, condition, get

pytestmark = pytest.mark.integration

NS = "tenant"
PREFIX = "s3://anthill-lake-prod/{namespace}/"
TIMEOUT = 30


@pytest.fixture(scope="module")
def kubectl(binaries: Binaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    directory = tmp_path_factory.mktemp("lake-prefix")
    with private_plane(binaries, directory, NS) as (_, kubectl, kubeconfig):
        kubectl.ok("create", "secret", "generic", "massive-api", "-n", NS, "--from-literal=apiKey=k")
        process, _ = start_operator(kubeconfig, directory / "operator.log", {"ANTHILL_LAKE_PREFIX": PREFIX})
        try:
            yield kubectl
        finally:
            terminate(process.pid)
            process.wait(timeout=15)


def feed(name: str, destination: str) -> str:
    doc = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    doc["metadata"]["name"] = name
    doc["spec"]["destination"]["uri"] = destination
    return yaml.safe_dump(doc)


def pipeline(name: str, lake: str, feeds: list[str]) -> str:
    doc = yaml.safe_load((REPO / "examples" / "medallion-kubernetes.yaml").read_text())
    doc["metadata"]["name"] = name
    doc["spec"].update(lake={"uri": lake}, feeds=[{"name": f} for f in feeds])
    return yaml.safe_dump(doc)


def ready(kubectl: Kubectl, what: str, reason: str) -> dict[str, Any]:
    wait_for(lambda: condition(get(kubectl, NS, what), "Ready").get("reason") == reason, TIMEOUT,
             f"{what} Ready reason {reason}")  # fmt: skip
    return condition(get(kubectl, NS, what), "Ready")


@pytest.mark.parametrize(
    "destination",
    [
        pytest.param("s3://anthill-lake-prod/other/equities", id="another namespace's prefix"),
        pytest.param("s3://anthill-lake-prod/tenantx/equities", id="a name that only starts like it"),
        pytest.param("s3://anthill-lake-prod/tenant/../other", id="dot-dot out of it"),
        pytest.param("s3://anthill-lake-prod-copy/tenant/equities", id="another bucket"),
    ],
)
def test_a_feed_outside_its_namespaces_prefix_is_invalid_and_gets_no_children(
    kubectl: Kubectl, destination: str
) -> None:
    name = f"out-{hashlib.sha256(destination.encode()).hexdigest()[:8]}"
    kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feed(name, destination))
    refused = ready(kubectl, f"mf/{name}", "InvalidSpec")
    assert refused["status"] == "False"
    assert refused["message"].startswith("spec.destination.uri must")
    assert "s3://anthill-lake-prod/tenant/" in refused["message"] or "'..'" in refused["message"]
    assert get(kubectl, NS, f"cronjob/{name}") is None
    assert get(kubectl, NS, f"configmap/{name}") is None


def test_inside_the_prefix_feeds_and_pipelines_run_and_a_pipeline_lake_outside_is_refused(
    kubectl: Kubectl,
) -> None:
    kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feed("inside", "s3://anthill-lake-prod/tenant/equities"))
    ready(kubectl, "mf/inside", "Available")
    assert get(kubectl, NS, "cronjob/inside") is not None

    kubectl.ok(
        "apply", "-n", NS, "-f", "-", stdin=pipeline("stray", "s3://anthill-lake-prod/other", ["inside"])
    )
    refused = ready(kubectl, "mp/stray", "InvalidSpec")
    assert refused["message"].startswith("spec.lake.uri must lie under s3://anthill-lake-prod/tenant/")
    assert get(kubectl, NS, "cronjob/stray-medallion") is None

    # s3a:// is the same bucket to Spark: a lake under the prefix spelt that way is accepted.
    kubectl.ok(
        "apply",
        "-n",
        NS,
        "-f",
        "-",
        stdin=pipeline("refine", "s3a://anthill-lake-prod/tenant/gold", ["inside"]),
    )
    ready(kubectl, "mp/refine", "Available")
    # Editing the lake out of the prefix is refused: the CronJob is suspended, otherwise as it was, and
    # resumes once the lake is back inside.
    before = get(kubectl, NS, "cronjob/refine-medallion") or {}
    assert before["spec"]["suspend"] is False
    kubectl.ok(
        "apply", "-n", NS, "-f", "-", stdin=pipeline("refine", "s3://anthill-lake-prod/other", ["inside"])
    )
    assert "CronJob refine-medallion is suspended" in ready(kubectl, "mp/refine", "InvalidSpec")["message"]
    after = get(kubectl, NS, "cronjob/refine-medallion") or {}
    assert after["spec"] == {**before["spec"], "suspend": True}
    kubectl.ok(
        "apply",
        "-n",
        NS,
        "-f",
        "-",
        stdin=pipeline("refine", "s3a://anthill-lake-prod/tenant/gold", ["inside"]),
    )
    ready(kubectl, "mp/refine", "Available")
    assert (get(kubectl, NS, "cronjob/refine-medallion") or {})["spec"]["suspend"] is False


def test_a_feed_moved_outside_the_prefix_stops_running_until_it_is_back(kubectl: Kubectl) -> None:
    """The prefix binds what a feed made before too: the platform team may set it after feeds exist."""
    kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feed("moving", "s3://anthill-lake-prod/tenant/equities"))
    ready(kubectl, "mf/moving", "Available")
    before = get(kubectl, NS, "cronjob/moving") or {}
    assert before["spec"]["suspend"] is False
    kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feed("moving", "s3://anthill-lake-prod/other/equities"))
    assert "CronJob moving is suspended" in ready(kubectl, "mf/moving", "InvalidSpec")["message"]
    after = get(kubectl, NS, "cronjob/moving") or {}
    assert after["spec"] == {**before["spec"], "suspend": True}
    kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feed("moving", "s3://anthill-lake-prod/tenant/equities"))
    ready(kubectl, "mf/moving", "Available")
    assert (get(kubectl, NS, "cronjob/moving") or {})["spec"]["suspend"] is False
