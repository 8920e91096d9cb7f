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
from tests.integration.kubectl import Kubectl, condition, get, wait_condition
from tests.integration.test_marketfeed_operator import feed_manifest, with_secret

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
    cronjob = get(kubectl, ns, "cronjob/local-medallion")
    assert pipeline is not None
    assert cronjob is not None
    assert pipeline["status"]["atProvider"]["cronJobName"] == "local-medallion"
    owner = cronjob["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"]) == ("MedallionPipeline", pipeline["metadata"]["uid"])
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["anthill", "spark", "run"]

    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest(schedule="15 20 * * *", suspend=True))
    wait_for(lambda: (get(kubectl, ns, "cronjob/local-medallion") or {}).get("spec", {}).get("schedule") == "15 20 * * *",
             TIMEOUT, "the CronJob to follow the spec")  # fmt: skip
    assert (get(kubectl, ns, "cronjob/local-medallion") or {})["spec"]["suspend"] is True

    old_uid = (get(kubectl, ns, "cronjob/local-medallion") or {})["metadata"]["uid"]
    kubectl.ok("delete", "cronjob", "local-medallion", "-n", ns)
    wait_for(lambda: (get(kubectl, ns, "cronjob/local-medallion") or {}).get("metadata", {}).get("uid") not in (None, old_uid),
             TIMEOUT, "the CronJob to be restored")  # fmt: skip

    # Deleting the pipeline takes its CronJob with it (garbage collection after the finalizer).
    kubectl.ok("delete", "mp", "local", "-n", ns, "--timeout=30s")
    wait_for(
        lambda: get(kubectl, ns, "cronjob/local-medallion") is None, TIMEOUT, "the CronJob to be collected"
    )


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
    assert get(kubectl, ns, "cronjob/waits-medallion") is None

    # The second feed writes to a lake of its own: its bronze is read there.
    kubectl.ok(
        "apply", "-n", ns, "-f", "-", stdin=feeds("us-indices-daily", destination="s3://indices-lake/x")
    )
    wait_for(
        lambda: get(kubectl, ns, "cronjob/waits-medallion") is not None,
        TIMEOUT,
        "the CronJob once the feeds exist",
    )
    [container] = (get(kubectl, ns, "cronjob/waits-medallion") or {})["spec"]["jobTemplate"]["spec"][
        "template"
    ]["spec"]["containers"]
    args = container["args"]
    bronze = [args[i + 1] for i, arg in enumerate(args) if arg == "--bronze"]
    assert bronze == [
        f"s3://anthill-lake-dev/market/bronze/{ns}/us-equities-daily",
        f"s3://indices-lake/x/bronze/{ns}/us-indices-daily",
    ]
    wait_for(lambda: condition(get(kubectl, ns, "mp/waits"), "Ready").get("reason") == "Available", TIMEOUT,
             "the pipeline Ready")  # fmt: skip


def test_a_pipeline_reads_a_streams_bronze(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    """A MarketStream named in spec.feeds (kind MarketStream) is waited for like a feed, then silver reads
    its bronze location: the stream's destination, namespace and name."""
    ns = feed_namespace
    doc = yaml.safe_load(manifest("ticks"))
    doc["spec"]["feeds"] = [{"name": "us-equities-live", "kind": "MarketStream"}]
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=yaml.safe_dump(doc))
    wait_for(lambda: condition(get(kubectl, ns, "mp/ticks"), "Ready").get("reason") == "FeedNotFound", TIMEOUT,
             "the pipeline FeedNotFound")  # fmt: skip
    assert "MarketStream us-equities-live named in spec.feeds not found" in condition(
        get(kubectl, ns, "mp/ticks"), "Ready")["message"]  # fmt: skip

    kubectl.ok("apply", "-n", ns, "-f", str(REPO / "examples" / "us-equities-stream.yaml"))
    wait_for(
        lambda: get(kubectl, ns, "cronjob/ticks-medallion") is not None, TIMEOUT, "the pipeline's CronJob"
    )
    [container] = (get(kubectl, ns, "cronjob/ticks-medallion") or {})["spec"]["jobTemplate"]["spec"][
        "template"
    ]["spec"]["containers"]
    args = container["args"]
    assert [args[i + 1] for i, arg in enumerate(args) if arg == "--bronze"] == [
        f"s3://anthill-lake-dev/market/bronze/{ns}/us-equities-live"
    ]


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


def test_a_feed_and_a_pipeline_of_the_same_name_each_get_their_own_cronjob(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feeds("us-equities-daily", "us-indices-daily"))
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("daily") + "---\n" + manifest("daily"))
    feed = wait_condition(kubectl, ns, "mf/daily", "Ready", "Available", TIMEOUT)
    pipeline = wait_condition(kubectl, ns, "mp/daily", "Ready", "Available", TIMEOUT)
    feed_cronjob = get(kubectl, ns, f"cronjob/{feed['status']['cronJobName']}")
    pipeline_cronjob = get(kubectl, ns, f"cronjob/{pipeline['status']['atProvider']['cronJobName']}")
    assert feed_cronjob is not None
    assert pipeline_cronjob is not None
    assert feed_cronjob["metadata"]["name"] != pipeline_cronjob["metadata"]["name"]
    assert feed_cronjob["metadata"]["ownerReferences"][0]["uid"] == feed["metadata"]["uid"]
    assert pipeline_cronjob["metadata"]["ownerReferences"][0]["uid"] == pipeline["metadata"]["uid"]
    # Each keeps its own: a drift pass of either leaves the other's CronJob as it is.
    versions = {
        c["metadata"]["name"]: c["metadata"]["resourceVersion"] for c in (feed_cronjob, pipeline_cronjob)
    }
    timers = operator.metric("anthill_reconcile_total", trigger="timer")
    wait_for(lambda: operator.metric("anthill_reconcile_total", trigger="timer") >= timers + 2, TIMEOUT,
             "two drift passes")  # fmt: skip
    for name, version in versions.items():
        assert (get(kubectl, ns, f"cronjob/{name}") or {})["metadata"]["resourceVersion"] == version


def test_a_pipeline_never_takes_over_a_cronjob_it_does_not_own(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feeds("us-equities-daily", "us-indices-daily"))
    kubectl.ok("create", "cronjob", "taken-medallion", "--image=backup:1", "--schedule=0 3 * * *", "-n", ns)
    victim = get(kubectl, ns, "cronjob/taken-medallion")
    assert victim is not None
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("taken"))
    pipeline = wait_condition(kubectl, ns, "mp/taken", "Ready", "ChildConflict", TIMEOUT)
    assert f"CronJob {ns}/taken-medallion already exists" in condition(pipeline, "Ready")["message"]
    kubectl.ok("delete", "mp", "taken", "-n", ns, "--timeout=30s")
    after = get(kubectl, ns, "cronjob/taken-medallion")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == victim["metadata"]["resourceVersion"]
    assert "ownerReferences" not in after["metadata"]


def test_a_cronjob_the_api_server_refuses_is_an_invalid_spec(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feeds("us-equities-daily", "us-indices-daily"))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("nowhere", timeZone="America/Nowhere"))
    pipeline = wait_condition(kubectl, ns, "mp/nowhere", "Ready", "InvalidSpec", TIMEOUT)
    message = condition(pipeline, "Ready")["message"]
    assert f"the API server refused CronJob {ns}/nowhere-medallion" in message
    assert "America/Nowhere" in message


def test_the_cronjob_of_an_earlier_version_under_the_bare_name_is_suspended(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    """Pipelines' CronJobs used to take the pipeline's own name: after an upgrade that one must not run beside
    the renamed one. It is suspended, not deleted (the operator has no delete verb); GC takes it later."""
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feeds("us-equities-daily", "us-indices-daily"))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("upgraded"))
    pipeline = wait_condition(kubectl, ns, "mp/upgraded", "Ready", "Available", TIMEOUT)
    # What the earlier version left: a CronJob named like the pipeline, controlled by it, recorded in status.
    legacy = json.loads(kubectl.ok("get", "cronjob", "upgraded-medallion", "-n", ns, "-o", "json"))
    legacy["metadata"] = {"name": "upgraded", "namespace": ns, "labels": legacy["metadata"]["labels"],
                          "ownerReferences": legacy["metadata"]["ownerReferences"]}  # fmt: skip
    legacy.pop("status", None)
    kubectl.ok("create", "-f", "-", stdin=json.dumps(legacy))
    at_provider = {**pipeline["status"]["atProvider"], "cronJobName": "upgraded"}
    kubectl.ok("patch", "mp", "upgraded", "-n", ns, "--subresource=status", "--type=merge", "-p",
               json.dumps({"status": {"atProvider": at_provider}}))  # fmt: skip
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("upgraded", schedule="15 20 * * *"))

    wait_for(lambda: (get(kubectl, ns, "cronjob/upgraded") or {}).get("spec", {}).get("suspend") is True,
             TIMEOUT, "the bare-named CronJob to be suspended")  # fmt: skip
    wait_for(lambda: (get(kubectl, ns, "mp/upgraded") or {})["status"]["atProvider"]["cronJobName"]
             == "upgraded-medallion", TIMEOUT, "status to name the renamed CronJob")  # fmt: skip
    assert (get(kubectl, ns, "cronjob/upgraded-medallion") or {})["spec"]["suspend"] is False


def test_an_image_outside_the_allowlist_is_refused_naming_the_field(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    foreign = {"kubernetes": {"image": "ghcr.io/anthill-platform-evil/miner:1"}}
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("foreign", runtime=foreign))
    wait_for(
        lambda: condition(get(kubectl, ns, "mp/foreign"), "Ready").get("reason") == "InvalidSpec",
        TIMEOUT,
        "the pipeline refused",
    )
    ready = condition(get(kubectl, ns, "mp/foreign"), "Ready")
    assert ready["status"] == "False"
    assert ready["message"].startswith("spec.runtime.kubernetes.image: ")
    assert kubectl.ok("get", "cronjobs", "-n", ns, "-o", "name").strip() == ""


def test_a_pipeline_whose_image_is_no_longer_allowed_stops_running_until_it_is(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    """What the pipeline made before must not keep running an image the allowlist refuses (the platform team may
    narrow the list after the CronJob exists): the CronJob is suspended, and an allowed image resumes it."""
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feeds("us-equities-daily", "us-indices-daily"))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("narrowed"))
    wait_condition(kubectl, ns, "mp/narrowed", "Ready", "Available", TIMEOUT)
    before = get(kubectl, ns, "cronjob/narrowed-medallion") or {}
    assert before["spec"]["suspend"] is False
    foreign = {"kubernetes": {"image": "ghcr.io/anthill-platform-evil/miner:1"}}
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("narrowed", runtime=foreign))
    refused = condition(wait_condition(kubectl, ns, "mp/narrowed", "Ready", "InvalidSpec", TIMEOUT), "Ready")
    assert "CronJob narrowed-medallion is suspended" in refused["message"]
    after = get(kubectl, ns, "cronjob/narrowed-medallion") or {}
    assert after["spec"] == {**before["spec"], "suspend": True}  # the refused image never reaches it
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=manifest("narrowed"))
    wait_condition(kubectl, ns, "mp/narrowed", "Ready", "Available", TIMEOUT)
    assert (get(kubectl, ns, "cronjob/narrowed-medallion") or {})["spec"]["suspend"] is False


def land(kubectl: Kubectl, ns: str, feed: str, watermark: str) -> None:
    """A feed's run finished: its status.watermark moves (what the feed's reconciler records from the run)."""
    patch = json.dumps({"status": {"watermark": watermark}})
    kubectl.ok("patch", "mf", feed, "-n", ns, "--subresource=status", "--type=merge", "-p", patch)


def test_a_pipeline_triggered_by_its_feeds_landing_runs_once_per_set_of_watermarks(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feeds("us-equities-daily", "us-indices-daily"))
    doc = yaml.safe_load(manifest("landed"))
    del doc["spec"]["schedule"]
    doc["spec"]["trigger"] = {"feedsLanded": {}}
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=yaml.safe_dump(doc))
    ready = condition(wait_condition(kubectl, ns, "mp/landed", "Ready", "Available"), "Ready")
    assert "waiting for us-equities-daily, us-indices-daily" in ready["message"]
    cronjob = get(kubectl, ns, "cronjob/landed-medallion") or {}
    assert cronjob["spec"]["suspend"] is True, "the CronJob only holds the template; it never fires"

    def jobs() -> list[str]:
        listed = json.loads(kubectl.ok("get", "jobs", "-n", ns, "-o", "json"))
        return sorted(job["metadata"]["name"] for job in listed["items"])

    def polls() -> float:
        return operator.metric("anthill_reconcile_total", kind="MedallionPipeline", trigger="timer",
                               reason="Available")  # fmt: skip

    land(kubectl, ns, "us-equities-daily", "2026-11-27")
    wait_for(lambda: "waiting for us-indices-daily" in condition(get(kubectl, ns, "mp/landed"), "Ready")["message"],
             TIMEOUT, "one feed landed, the other awaited")  # fmt: skip
    assert jobs() == []

    land(kubectl, ns, "us-indices-daily", "2026-11-27")
    wait_for(lambda: len(jobs()) == 1, TIMEOUT, "a run once both feeds landed")
    [first] = jobs()
    assert first.startswith("landed-medallion-")
    landed = (get(kubectl, ns, "mp/landed") or {})["status"]["atProvider"]["lastLanded"]
    assert landed["watermarks"] == {"us-equities-daily": "2026-11-27", "us-indices-daily": "2026-11-27"}
    assert landed["run"] == first
    job = get(kubectl, ns, f"job/{first}") or {}
    assert job["metadata"]["ownerReferences"][0]["name"] == "landed"

    # The same watermarks again (a feed re-reports, the operator polls): nothing more starts.
    land(kubectl, ns, "us-equities-daily", "2026-11-27")
    base = polls()
    wait_for(lambda: polls() >= base + 2, TIMEOUT, "two more polls")
    assert jobs() == [first]

    land(kubectl, ns, "us-equities-daily", "2026-11-30")
    land(kubectl, ns, "us-indices-daily", "2026-11-30")
    wait_for(lambda: len(jobs()) == 2, TIMEOUT, "a second run for the next set")
