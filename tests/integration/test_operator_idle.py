"""An idle operator writes nothing: once its feeds are Ready, drift passes that find nothing to change send the
API server no write at all, counted by the API server itself (so kopf's own patches count too, and a patch that
changes nothing, which leaves resourceVersion alone, counts as well).

Runs on a control plane of its own: the only writers there are this operator and the controller manager.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest
import yaml

from anthill_devkit.controlplane import Binaries, ControlPlane, terminate, wait_for
from tests.helpers import api_writes
from tests.integration.conftest import DRIFT_INTERVAL, REPO, OperatorProcess, private_plane, start_operator
from tests.integration.kubectl import Kubectl, condition

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NS = "idle"
FEEDS = 80
PASSES = 3
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
    # The event of each CronJob the operator created is its own write, already observed: it refreshes no
    # feed (before, every one re-read its feed and all the feed's children). A handful may still race it.
    refreshed = operator.metric("anthill_reconcile_total", kind="MarketFeed", trigger="child-event")
    assert refreshed < FEEDS // 4
    before = api_writes(control_plane, RESOURCES)
    target = timer_runs() + FEEDS * PASSES
    wait_for(lambda: timer_runs() >= target, DRIFT_INTERVAL * PASSES + 120, f"{PASSES} idle drift passes")
    after = api_writes(control_plane, RESOURCES)
    after.subtract(before)
    assert +after == Counter()
