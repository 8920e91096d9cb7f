"""The operator on the real control plane, under its own RBAC: MarketStream -> owned ConfigMap and Deployment.

No kubelet runs here, so the stream's pod stays Pending and the stream reports Starting; the pod's reports
reaching status are shown end to end in tests/e2e/test_platform.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from anthill.marketstream.desired import RESTART_HASH_ANNOTATION
from anthill_devkit.controlplane import wait_for
from tests.helpers import REPO
from tests.integration.kubectl import Kubectl, condition, get
from tests.integration.test_marketfeed_operator import with_secret

pytestmark = pytest.mark.integration

TIMEOUT = 30


def manifest(name: str = "live", **spec: Any) -> str:
    doc = yaml.safe_load((REPO / "examples" / "us-equities-stream.yaml").read_text())
    doc["metadata"]["name"] = name
    doc["spec"].update(spec)
    return yaml.safe_dump(doc)


def wait_reason(kubectl: Kubectl, ns: str, name: str, reason: str) -> dict[str, Any]:
    def reached() -> bool:
        return condition(get(kubectl, ns, f"ms/{name}"), "Ready").get("reason") == reason

    wait_for(reached, TIMEOUT, f"MarketStream {ns}/{name} Ready with reason {reason}")
    stream = get(kubectl, ns, f"ms/{name}")
    assert stream is not None
    return stream


def wait_deployment(kubectl: Kubectl, ns: str, check: Any, what: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def matches() -> bool:
        deployment = get(kubectl, ns, "deployment/live")
        found["deployment"] = deployment
        return deployment is not None and bool(check(deployment))

    wait_for(matches, TIMEOUT, what)
    return dict(found["deployment"])


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        pytest.param({"tickers": ["*", "AAPL"]}, "spec.tickers", "list it alone", id="star-with-others"),
        pytest.param({"tickers": ["X:BTCUSD"]}, "spec.tickers", "no market prefix", id="stock-with-prefix"),
        pytest.param({"channels": []}, "spec.channels", "at least 1", id="no-channel"),
        pytest.param({"channels": ["bars"]}, "spec.channels", "Unsupported value", id="unknown-channel"),
        pytest.param({"flush": {"intervalSeconds": 0}}, "spec.flush.intervalSeconds", "greater than or equal",
                     id="flush-interval"),
    ],
)  # fmt: skip
def test_admission_names_the_field(kubectl: Kubectl, feed_namespace: str, spec: dict[str, Any], field: str,
                                   message: str) -> None:  # fmt: skip
    result = kubectl("apply", "-n", feed_namespace, "-f", "-", stdin=manifest(**spec))
    assert result.returncode != 0
    assert field in result.stderr, result.stderr
    assert message in result.stderr, result.stderr


def test_stream_owns_a_one_pod_deployment_that_follows_its_spec(
    kubectl: Kubectl, feed_namespace: str
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest())
    stream = wait_reason(kubectl, ns, "live", "SecretNotFound")
    assert "massive-api" in condition(stream, "Ready")["message"]
    assert get(kubectl, ns, "deployment/live") is None

    with_secret(kubectl, ns)
    stream = wait_reason(kubectl, ns, "live", "Starting")  # no kubelet here: the pod never runs
    assert condition(stream, "Synced")["status"] == "True"
    assert stream["status"]["deploymentName"] == "live"
    deployment = get(kubectl, ns, "deployment/live")
    assert deployment is not None
    owner = deployment["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "MarketStream",
        stream["metadata"]["uid"],
        True,
    )
    assert (deployment["spec"]["replicas"], deployment["spec"]["strategy"]["type"]) == (1, "Recreate")
    first_hash = deployment["spec"]["template"]["metadata"]["annotations"][RESTART_HASH_ANNOTATION]

    # Tickers reach the pod through the ConfigMap, with no new pod.
    kubectl.ok("patch", "-n", ns, "ms/live", "--type=merge", "-p", '{"spec": {"tickers": ["AAPL", "TSLA"]}}')

    def configmap_has_tsla() -> bool:
        configmap = get(kubectl, ns, "configmap/live") or {}
        return "TSLA" in json.loads(configmap.get("data", {}).get("stream.json", "{}"))["spec"]["tickers"]

    wait_for(configmap_has_tsla, TIMEOUT, "the ConfigMap to carry the new tickers")
    deployment = get(kubectl, ns, "deployment/live")
    assert deployment is not None
    assert deployment["spec"]["template"]["metadata"]["annotations"][RESTART_HASH_ANNOTATION] == first_hash

    # A new destination needs a new pod.
    kubectl.ok("patch", "-n", ns, "ms/live", "--type=merge", "-p",
               '{"spec": {"destination": {"uri": "s3://anthill-lake-dev/other"}}}')  # fmt: skip
    wait_deployment(
        kubectl, ns,
        lambda d: d["spec"]["template"]["metadata"]["annotations"][RESTART_HASH_ANNOTATION] != first_hash,
        "a new restart hash after the destination changed",
    )  # fmt: skip

    # Suspend scales to zero, and the stream is Ready with nothing to run.
    kubectl.ok("patch", "-n", ns, "ms/live", "--type=merge", "-p", '{"spec": {"suspend": true}}')
    wait_deployment(kubectl, ns, lambda d: d["spec"]["replicas"] == 0, "the Deployment scaled to zero")
    stream = wait_reason(kubectl, ns, "live", "Available")
    assert condition(stream, "Ready")["status"] == "True"

    # Drift: a Deployment deleted by hand comes back.
    kubectl.ok("delete", "-n", ns, "deployment/live")
    wait_deployment(kubectl, ns, lambda d: d["spec"]["replicas"] == 0, "the deleted Deployment recreated")
