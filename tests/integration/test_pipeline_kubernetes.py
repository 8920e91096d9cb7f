"""MedallionPipeline on the Kubernetes runtime: an owned Spark CronJob, on the real control plane; and the
admission rules that keep a pipeline from changing runtime or workspace after creation."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from anthill_devkit.controlplane import wait_for
from tests.helpers import REPO, anthill
from tests.integration.conftest import OperatorProcess
from tests.integration.kubectl import Kubectl, condition, get

pytestmark = pytest.mark.integration

TIMEOUT = 30


def feeds(*names: str, destination: str = "s3://anthill-lake-dev/market") -> str:
    """MarketFeeds for a pipeline to read (their own readiness does not matter to it: no Secret here)."""
    docs = []
    for name in names:
        doc = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
        doc["metadata"]["name"] = name
        doc["spec"]["destination"]["uri"] = destination
        docs.append(doc)
    return yaml.safe_dump_all(docs)


def manifest(name: str = "local", **spec: Any) -> str:
    doc = yaml.safe_load((REPO / "examples" / "medallion-kubernetes.yaml").read_text())
    doc["metadata"]["name"] = name
    doc["spec"].update(spec)
    return yaml.safe_dump(doc)


def test_pipeline_owns_a_spark_cronjob_that_follows_the_spec(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feeds("us-equities-daily", "us-indices-daily"))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest())
    wait_for(
        lambda: condition(get(kubectl, ns, "mp/local"), "Ready").get("reason") == "Available",
        TIMEOUT,
        "the pipeline Ready",
    )
    pipeline = get(kubectl, ns, "mp/local")
    cronjob = get(kubectl, ns, "cronjob/local")
    assert pipeline is not None
    assert cronjob is not None
    assert pipeline["status"]["atProvider"]["cronJobName"] == "local"
    owner = cronjob["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"]) == ("MedallionPipeline", pipeline["metadata"]["uid"])
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["anthill", "spark", "run"]

    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest(schedule="15 20 * * *", suspend=True))
    wait_for(lambda: (get(kubectl, ns, "cronjob/local") or {}).get("spec", {}).get("schedule") == "15 20 * * *",
             TIMEOUT, "the CronJob to follow the spec")  # fmt: skip
    assert (get(kubectl, ns, "cronjob/local") or {})["spec"]["suspend"] is True

    old_uid = (get(kubectl, ns, "cronjob/local") or {})["metadata"]["uid"]
    kubectl.ok("delete", "cronjob", "local", "-n", ns)
    wait_for(lambda: (get(kubectl, ns, "cronjob/local") or {}).get("metadata", {}).get("uid") not in (None, old_uid),
             TIMEOUT, "the CronJob to be restored")  # fmt: skip

    # Deleting the pipeline takes its CronJob with it (garbage collection after the finalizer).
    kubectl.ok("delete", "mp", "local", "-n", ns, "--timeout=30s")
    wait_for(lambda: get(kubectl, ns, "cronjob/local") is None, TIMEOUT, "the CronJob to be collected")


def test_a_pipeline_waits_for_its_feeds_and_reads_exactly_their_bronze(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    """A feed named in spec.feeds that does not exist is FeedNotFound, naming it, and nothing is created;
    once the feeds exist, silver is handed their bronze locations, the namespace in each, and no other."""
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feeds("us-equities-daily"))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("waits"))
    wait_for(lambda: condition(get(kubectl, ns, "mp/waits"), "Ready").get("reason") == "FeedNotFound", TIMEOUT,
             "the pipeline FeedNotFound")  # fmt: skip
    ready = condition(get(kubectl, ns, "mp/waits"), "Ready")
    assert ready["status"] == "False"
    assert "MarketFeed us-indices-daily named in spec.feeds not found" in ready["message"]
    assert "us-equities-daily" not in ready["message"]
    assert get(kubectl, ns, "cronjob/waits") is None

    # The second feed writes to a lake of its own: its bronze is read there.
    kubectl.ok(
        "apply", "-n", ns, "-f", "-", stdin=feeds("us-indices-daily", destination="s3://indices-lake/x")
    )
    wait_for(
        lambda: get(kubectl, ns, "cronjob/waits") is not None, TIMEOUT, "the CronJob once the feeds exist"
    )
    [container] = (get(kubectl, ns, "cronjob/waits") or {})["spec"]["jobTemplate"]["spec"]["template"][
        "spec"
    ]["containers"]
    args = container["args"]
    bronze = [args[i + 1] for i, arg in enumerate(args) if arg == "--bronze"]
    assert bronze == [
        f"s3://anthill-lake-dev/market/bronze/{ns}/us-equities-daily",
        f"s3://indices-lake/x/bronze/{ns}/us-indices-daily",
    ]
    wait_for(lambda: condition(get(kubectl, ns, "mp/waits"), "Ready").get("reason") == "Available", TIMEOUT,
             "the pipeline Ready")  # fmt: skip


def test_rendered_cronjob_passes_a_server_side_dry_run(kubectl: Kubectl, namespace: str) -> None:
    rendered = anthill("render", "examples/medallion-kubernetes.yaml", env={"PATH": "/usr/bin:/bin"})
    assert rendered.returncode == 0, rendered.stderr
    [cronjob] = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    cronjob["metadata"]["namespace"] = namespace
    del cronjob["metadata"]["ownerReferences"]  # the owner would have to exist
    result = kubectl("create", "--dry-run=server", "--validate=strict", "-f", "-", stdin=json.dumps(cronjob))
    assert result.returncode == 0, result.stderr


def test_runtime_and_connection_cannot_change_after_creation(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("fixed"))
    databricks = {"databricks": {"connectionRef": {"name": "dev"},
                                 "cluster": {"sparkVersion": "15.4.x-scala2.12", "nodeTypeId": "i3.xlarge"}}}  # fmt: skip
    switched = kubectl("apply", "-n", ns, "-f", "-",
                       stdin=manifest("fixed", runtime=databricks, catalog={"name": "anthill"}))  # fmt: skip
    assert switched.returncode != 0
    assert "the runtime cannot switch between databricks and kubernetes" in switched.stderr

    kubectl.ok(
        "apply", "-n", ns, "-f", "-", stdin=manifest("remote", runtime=databricks, catalog={"name": "a"})
    )
    databricks["databricks"]["connectionRef"] = {"name": "prod"}
    moved = kubectl(
        "apply", "-n", ns, "-f", "-", stdin=manifest("remote", runtime=databricks, catalog={"name": "a"})
    )
    assert moved.returncode != 0
    assert "spec.runtime.databricks.connectionRef" in moved.stderr
    assert "connectionRef is immutable" in moved.stderr
