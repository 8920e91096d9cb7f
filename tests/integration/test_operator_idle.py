"""An idle operator writes nothing: once its feeds are Ready, drift passes that find nothing to change send the
API server no write at all, counted by the API server itself (so kopf's own patches count too, and a patch that
changes nothing, which leaves resourceVersion alone, counts as well).

Runs on a control plane of its own: the only writers there are this operator and the controller manager.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from anthill_devkit.controlplane import Binaries, ControlPlane, terminate, wait_for
from tests.integration.conftest import DRIFT_INTERVAL, REPO, OperatorProcess, private_plane, start_operator
from tests.integration.kubectl import Kubectl, condition

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NS = "idle"
FEEDS = 80
PASSES = 3
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RESOURCES = frozenset({"marketfeeds", "cronjobs", "configmaps"})


@pytest.fixture(scope="module")
def plane(
    binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ControlPlane, Kubectl, OperatorProcess]]:
    directory = tmp_path_factory.mktemp("idle")
    with private_plane(binaries, directory, NS) as (control_plane, kubectl, kubeconfig):
        kubectl.ok("create", "secret", "generic", "massive-api", "-n", NS, "--from-literal=apiKey=k")
        log = directory / "operator.log"
        process, metrics_url = start_operator(kubeconfig, log)
        try:
            yield control_plane, kubectl, OperatorProcess("", metrics_url, log)
        finally:
            terminate(process.pid)
            process.wait(timeout=15)


def feeds(count: int) -> str:
    base = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    docs = []
    for index in range(count):
        doc = json.loads(json.dumps(base))
        doc["metadata"] = {"name": f"idle-{index:03d}"}
        docs.append(doc)
    return yaml.safe_dump_all(docs)


def api_writes(control_plane: ControlPlane) -> Counter[str]:
    """Writes the API server has served for feeds and their children, by ``VERB resource[/subresource]``."""
    context = ssl.create_default_context(cafile=str(control_plane.ca_file))
    request = urllib.request.Request(f"{control_plane.server}/metrics")  # noqa: S310 - loopback
    request.add_header("Authorization", f"Bearer {control_plane.admin_token}")
    with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    writes: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (sample.name == "apiserver_request_total" and labels.get("verb") in WRITES
                    and labels.get("resource") in RESOURCES):  # fmt: skip
                subresource = f"/{labels['subresource']}" if labels.get("subresource") else ""
                writes[f"{labels['verb']} {labels['resource']}{subresource}"] += int(sample.value)
    return writes


def ready(kubectl: Kubectl) -> int:
    listed = json.loads(kubectl.ok("get", "mf", "-n", NS, "-o", "json"))["items"]
    return sum(condition(feed, "Ready").get("status") == "True" for feed in listed)


def test_idle_drift_passes_send_no_writes(plane: tuple[ControlPlane, Kubectl, OperatorProcess]) -> None:
    control_plane, kubectl, operator = plane
    kubectl.ok("apply", "-n", NS, "-f", "-", stdin=feeds(FEEDS))
    wait_for(lambda: ready(kubectl) == FEEDS, 120, "every feed Ready")

    def timer_runs() -> float:
        return operator.metric("anthill_reconcile_total", kind="MarketFeed", trigger="timer")

    # One full pass first: what the creation burst set in motion (kopf's own bookkeeping included) settles.
    settle = timer_runs() + FEEDS
    wait_for(lambda: timer_runs() >= settle, 120, "one full drift pass")
    before = api_writes(control_plane)
    target = timer_runs() + FEEDS * PASSES
    wait_for(lambda: timer_runs() >= target, DRIFT_INTERVAL * PASSES + 120, f"{PASSES} idle drift passes")
    after = api_writes(control_plane)
    after.subtract(before)
    assert +after == Counter()
