"""The platform as users run it, on a real node: the chart's operator pod from its own image, MarketFeeds whose
ingest pods write bronze to S3, a MedallionPipeline whose Spark pod writes Delta tables, garbage collection,
upgrade and uninstall. Tests run in file order and share one installation (see conftest.py)."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from anthill_devkit.controlplane import wait_for
from tests.e2e.conftest import (
    API_SECRET,
    BUCKET,
    LAKE,
    LAKE_SECRET,
    MARKET_NS,
    RELEASE,
    REPO,
    S3_KEYS,
    SYSTEM_NS,
    Platform,
    wait_json,
)
from tests.integration.kubectl import condition

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RUN_TIMEOUT = 180
BACKFILL = "2026-11-02"


def feed(name: str, dataset: str, asset_class: str, tickers: list[str], **spec: Any) -> str:
    doc: dict[str, Any] = {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": "MarketFeed",
        "metadata": {"name": name, "namespace": MARKET_NS},
        "spec": {
            "dataset": dataset,
            "assetClass": asset_class,
            "tickers": tickers,
            "schedule": "30 17 * * 1-5",
            "backfill": {"from": BACKFILL},
            "destination": {"uri": LAKE},
            "apiKeySecretRef": {"name": API_SECRET, "key": "apiKey"},
            "serviceAccountName": "anthill-ingest",
            **spec,
        },
    }
    if dataset == "aggregates":
        doc["spec"]["bars"] = {"multiplier": 1, "timespan": "day"}
    return yaml.safe_dump(doc)


def last_run(platform: Platform, name: str, job: str | None = None) -> dict[str, Any]:
    """The feed once its status reports a finished run (of ``job``, when given)."""

    def finished(obj: dict[str, Any]) -> bool:
        run = obj.get("status", {}).get("lastRun", {})
        return run.get("result") in ("Succeeded", "Failed") and (job is None or run.get("job") == job)

    return wait_json(
        platform.kubectl, MARKET_NS, f"mf/{name}", finished, RUN_TIMEOUT, f"a finished run of {name}"
    )


def test_operator_pod_ready_from_its_image(platform: Platform) -> None:
    pod = platform.operator_pod()
    [container] = pod["spec"]["containers"]
    assert container["image"] == platform.images["operator"].reference
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert condition(pod, "Ready").get("status") == "True"
    labels = json.loads(platform.kubectl.ok("get", "ns", SYSTEM_NS, "-o", "json"))["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # Through the API server's proxy to the pod: the same path on the node and on kind.
    proxy = f"/api/v1/namespaces/{SYSTEM_NS}/pods/{pod['metadata']['name']}"
    assert platform.kubectl.ok("get", "--raw", f"{proxy}:8080/proxy/healthz").strip()
    metrics = platform.kubectl.ok("get", "--raw", f"{proxy}:9090/proxy/metrics")
    assert "# TYPE" in metrics
    assert "anthill_reconcile_total" in metrics
    ip = pod["status"]["podIP"]
    print(f"\noperator pod {pod['metadata']['name']} Ready on {pod['spec']['nodeName']} at {ip}")


def test_feeds_run_as_real_pods_and_write_bronze(platform: Platform) -> None:
    kubectl = platform.kubectl
    kubectl.ok("apply", "-f", "-", stdin=feed("stocks", "aggregates", "stocks", ["AAPL", "MSFT"]))
    kubectl.ok("apply", "-f", "-", stdin=feed("index", "aggregates", "indices", ["I:NDX"]))
    # Its CronJob fires by itself: the first run is the scheduled one.
    kubectl.ok(
        "apply", "-f", "-", stdin=feed("dividends", "dividends", "stocks", ["AAPL"], schedule="* * * * *")
    )
    for name in ("stocks", "index"):
        wait_json(kubectl, MARKET_NS, f"cronjob/{name}", lambda _o: True, 60, f"the CronJob of {name}")
        kubectl.ok("create", "job", f"{name}-manual", f"--from=cronjob/{name}", "-n", MARKET_NS)
    for name in ("stocks", "index"):
        status = last_run(platform, name, f"{name}-manual")["status"]
        assert status["lastRun"]["result"] == "Succeeded", status
        assert status["lastRun"]["rows"] > 0
        assert status["watermark"] >= BACKFILL
        print(f"\n{name}: status.lastRun={json.dumps(status['lastRun'])} watermark={status['watermark']}")
    scheduled = last_run(platform, "dividends")["status"]
    assert scheduled["lastRun"]["result"] == "Succeeded", scheduled
    assert not scheduled["lastRun"]["job"].endswith("-manual")
    kubectl.ok("patch", "mf/dividends", "-n", MARKET_NS, "--type=merge", "-p", '{"spec": {"suspend": true}}')
    # Every key names the feed's namespace and name: lake/bronze/<namespace>/<feed>/<dataset>/...
    keys = platform.keys("lake/bronze/")
    assert keys
    assert {tuple(key.split("/")[2:4]) for key in keys} <= {
        (MARKET_NS, n) for n in ("stocks", "index", "dividends")
    }
    datasets = {key.split("/")[4] for key in keys}
    assert len(datasets) >= 2, datasets
    assert platform.keys(f"lake/_state/{MARKET_NS}/")
    logs = kubectl.ok("logs", "-n", MARKET_NS, "job/stocks-manual")
    assert "ingested" in logs
    print(f"\nkubectl logs job/stocks-manual:\n{logs[-1500:]}")
    # A parquet object the pod wrote, read back.
    key = next(k for k in platform.keys("lake/bronze/") if k.endswith(".parquet"))
    table = pq.read_table(io.BytesIO(platform.s3().get_object(Bucket=BUCKET, Key=key)["Body"].read()))
    assert table.num_rows > 0


def test_a_bad_api_key_fails_the_run_and_leaks_nothing(platform: Platform) -> None:
    kubectl = platform.kubectl
    wrong = "wrong-key-e2e-4bd1"
    kubectl.ok("create", "secret", "generic", "bad-key", "-n", MARKET_NS, f"--from-literal=apiKey={wrong}")
    manifest = yaml.safe_load(feed("badkey", "aggregates", "stocks", ["AAPL"]))
    manifest["spec"]["apiKeySecretRef"] = {"name": "bad-key", "key": "apiKey"}
    kubectl.ok("apply", "-f", "-", stdin=yaml.safe_dump(manifest))
    wait_json(kubectl, MARKET_NS, "cronjob/badkey", lambda _o: True, 60, "the CronJob of badkey")
    kubectl.ok("create", "job", "badkey-manual", "--from=cronjob/badkey", "-n", MARKET_NS)
    status = last_run(platform, "badkey", "badkey-manual")["status"]
    assert status["lastRun"]["result"] == "Failed"
    assert status["lastRun"].get("message")
    # Everything the run and the operator wrote afterwards, not only the status seen first: the feed as it
    # is now, its ConfigMap, the Job's and the Pod's own status (the termination message the operator copies
    # from), the pod's and the operator's logs, and the namespace's Events.
    selector = "job-name=badkey-manual"
    places = {
        "status when the run finished": json.dumps(status),
        "feed now": kubectl.ok("get", "mf/badkey", "-n", MARKET_NS, "-o", "json"),
        "ConfigMap": kubectl.ok(
            "get", "configmaps", "-n", MARKET_NS, "-l", "anthill.io/feed=badkey", "-o", "json"
        ),
        "Job": kubectl.ok("get", "job/badkey-manual", "-n", MARKET_NS, "-o", "json"),
        "Pods": kubectl.ok("get", "pods", "-n", MARKET_NS, "-l", selector, "-o", "json"),
        "pod logs": kubectl("logs", "-n", MARKET_NS, "job/badkey-manual").stdout,
        "operator logs": kubectl.ok("logs", "-n", SYSTEM_NS, "deploy/anthill-operator", "--tail=-1"),
        "Events": kubectl.ok("get", "events", "-n", MARKET_NS, "-o", "json"),
    }
    assert '"items": []' not in places["ConfigMap"], "the feed's ConfigMap is looked at"
    assert "terminated" in places["Pods"], "the pod's final status is looked at"
    for place, text in places.items():
        assert wrong not in text, f"the API key is in the {place}"
        assert S3_KEYS["AWS_SECRET_ACCESS_KEY"] not in text, f"the lake secret is in the {place}"
    print(f"\nbad key: status.lastRun={json.dumps(status['lastRun'])}")


def test_pipeline_spark_pod_builds_delta_tables(platform: Platform) -> None:
    kubectl = platform.kubectl
    spark = platform.images["spark"]
    pipeline = {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": "MedallionPipeline",
        "metadata": {"name": "refine", "namespace": MARKET_NS},
        "spec": {
            "feeds": [{"name": "stocks"}, {"name": "index"}],
            "lake": {"uri": LAKE},
            "gold": ["daily_returns", "moving_averages"],
            "schedule": "0 19 * * 1-5",
            "runtime": {
                "kubernetes": {
                    "image": spark.reference,
                    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "3Gi"}},
                }
            },
        },
    }
    kubectl.ok("apply", "-f", "-", stdin=yaml.safe_dump(pipeline))
    cronjob = wait_json(
        kubectl, MARKET_NS, "cronjob/refine-medallion", lambda _o: True, 60, "the pipeline's CronJob"
    )
    [spark_container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    # Silver reads the bronze of the two feeds it names, not the dividends feed beside them.
    assert [a for a in spark_container["args"] if "/bronze/" in a] == [
        f"{LAKE}/bronze/{MARKET_NS}/stocks",
        f"{LAKE}/bronze/{MARKET_NS}/index",
    ]
    kubectl.ok("create", "job", "refine-manual", "--from=cronjob/refine-medallion", "-n", MARKET_NS)
    job = wait_json(
        kubectl,
        MARKET_NS,
        "job/refine-manual",
        lambda o: (
            condition(o, "Complete").get("status") == "True" or condition(o, "Failed").get("status") == "True"
        ),
        600,
        "the Spark job to finish",
    )
    logs = kubectl("logs", "-n", MARKET_NS, "job/refine-manual").stdout
    assert condition(job, "Complete").get("status") == "True", logs[-3000:]
    [pod] = json.loads(
        kubectl.ok("get", "pods", "-n", MARKET_NS, "-l", "job-name=refine-manual", "-o", "json")
    )["items"]
    [container] = pod["spec"]["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    tables: dict[str, int] = {}
    for layer in ("silver", "gold"):
        logs_keys = [
            k for k in platform.keys(f"lake/{layer}/") if "/_delta_log/" in k and k.endswith(".json")
        ]
        assert logs_keys, f"no Delta log under lake/{layer}/"
        for key in logs_keys:
            table = key.split("/_delta_log/")[0].removeprefix("lake/")
            tables.setdefault(table, 0)
            body = platform.s3().get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
            for line in body.splitlines():
                action = json.loads(line)
                if "add" in action:
                    tables[table] += json.loads(action["add"]["stats"])["numRecords"]
    assert any(t.startswith("gold/") and rows > 0 for t, rows in tables.items()), tables
    assert any(t.startswith("silver/") and rows > 0 for t, rows in tables.items()), tables
    print(f"\npipeline tables (rows per Delta table): {json.dumps(tables, sort_keys=True)}")
    print(f"\nkubectl logs job/refine-manual:\n{logs[-1500:]}")


def test_a_stream_runs_as_a_real_pod_reports_into_status_and_writes_bronze(platform: Platform) -> None:
    """A MarketStream's pod, from the ingest image, streams from the sandbox's WebSocket server into S3 and
    reports through its log into status.statistics; a pod killed outright is replaced and streams on; a key
    the server refuses is a condition with its reason, not a crash loop."""
    kubectl = platform.kubectl
    stream = {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": "MarketStream",
        "metadata": {"name": "live", "namespace": MARKET_NS},
        "spec": {
            "channels": ["trades", "quotes"],
            "tickers": ["AAPL", "MSFT"],
            "flush": {"intervalSeconds": 2},
            "destination": {"uri": LAKE},
            "apiKeySecretRef": {"name": API_SECRET, "key": "apiKey"},
            "serviceAccountName": "anthill-ingest",
        },
    }
    kubectl.ok("apply", "-f", "-", stdin=yaml.safe_dump(stream))

    def streaming(obj: dict[str, Any]) -> bool:
        ready = condition(obj, "Ready")
        return (
            ready.get("reason") == "Streaming"
            and obj["status"].get("statistics", {}).get("rowsFlushed", 0) > 0
        )

    status = wait_json(kubectl, MARKET_NS, "ms/live", streaming, RUN_TIMEOUT, "the stream Streaming")[
        "status"
    ]
    print(f"\nlive: status.statistics={json.dumps(status['statistics'])}")
    assert status["statistics"]["connected"] is True
    for channel in ("trades", "quotes"):
        assert platform.keys(f"lake/bronze/{MARKET_NS}/live/{channel}/stream/"), channel
    assert platform.keys(f"lake/_state/{MARKET_NS}/streams/live.json")

    first = json.loads(
        kubectl.ok("get", "pods", "-n", MARKET_NS, "-l", "anthill.io/stream=live", "-o", "json")
    )
    [pod] = first["items"]
    kubectl.ok("delete", "pod", pod["metadata"]["name"], "-n", MARKET_NS, "--grace-period=0", "--force")

    def replaced(obj: dict[str, Any]) -> bool:
        ours = [p for p in obj["items"] if p["metadata"].get("labels", {}).get("anthill.io/stream") == "live"]
        running = [p for p in ours if p["status"].get("phase") == "Running"]
        return any(p["metadata"]["name"] != pod["metadata"]["name"] for p in running)

    wait_json(kubectl, MARKET_NS, "pods", replaced, RUN_TIMEOUT, "a new stream pod")
    wait_json(kubectl, MARKET_NS, "ms/live", streaming, RUN_TIMEOUT, "the stream Streaming again")

    # A key the server refuses: a condition with the server's reason, the pod up and retrying rather than
    # crash-looping, and the key nowhere in status or the pod's log.
    wrong = "wrong-stream-key-e2e-7c2a"
    kubectl.ok(
        "create", "secret", "generic", "stream-bad-key", "-n", MARKET_NS, f"--from-literal=apiKey={wrong}"
    )
    patch = {"spec": {"apiKeySecretRef": {"name": "stream-bad-key", "key": "apiKey"}}}
    kubectl.ok("patch", "ms/live", "-n", MARKET_NS, "--type=merge", "-p", json.dumps(patch))

    def refused(obj: dict[str, Any]) -> bool:
        return condition(obj, "Ready").get("reason") == "AuthFailed"

    stream_now = wait_json(kubectl, MARKET_NS, "ms/live", refused, RUN_TIMEOUT, "the stream AuthFailed")
    ready = condition(stream_now, "Ready")
    print(f"\nlive with a refused key: Ready={json.dumps(ready)}")
    assert ready["status"] == "False"
    assert "authentication failed" in ready["message"]
    pods = json.loads(
        kubectl.ok("get", "pods", "-n", MARKET_NS, "-l", "anthill.io/stream=live", "-o", "json")
    )
    running = [p for p in pods["items"] if p["status"].get("phase") == "Running"]
    assert running, pods
    assert all(c.get("restartCount", 0) == 0 for p in running for c in p["status"]["containerStatuses"])
    log = kubectl.ok("logs", "-n", MARKET_NS, running[0]["metadata"]["name"])
    assert wrong not in log + json.dumps(stream_now)

    kubectl.ok("patch", "ms/live", "-n", MARKET_NS, "--type=merge", "-p", '{"spec": {"suspend": true}}')
    wait_json(
        kubectl,
        MARKET_NS,
        "deployment/live",
        lambda o: o["spec"]["replicas"] == 0,
        60,
        "the stream suspended",
    )


def test_helm_upgrade_rolls_the_operator_and_keeps_feed_state(platform: Platform) -> None:
    before_pod = platform.operator_pod()["metadata"]["name"]
    before = json.loads(platform.kubectl.ok("get", "mf/stocks", "-n", MARKET_NS, "-o", "json"))["status"]
    upgraded = platform.helm_run(
        "upgrade", RELEASE, str(REPO / "charts" / "anthill"), "-n", SYSTEM_NS,
        *platform.chart_values(driftInterval=7), "--wait", "--timeout", "180s",
    )  # fmt: skip
    assert upgraded.returncode == 0, upgraded.stderr
    after_pod = platform.operator_pod()
    assert after_pod["metadata"]["name"] != before_pod
    env = {e["name"]: e.get("value") for e in after_pod["spec"]["containers"][0]["env"]}
    assert env["ANTHILL_DRIFT_INTERVAL"] == "7"
    # The new operator reconciles the feed again (a drift check) without losing its run state.
    after = wait_json(
        platform.kubectl,
        MARKET_NS,
        "mf/stocks",
        lambda o: condition(o, "Ready").get("status") == "True",
        60,
        "the feed Ready under the new operator",
    )["status"]
    assert after["watermark"] == before["watermark"]
    assert after["lastRun"]["job"] == before["lastRun"]["job"]


def test_deleting_a_feed_collects_its_cronjob_jobs_and_pods(platform: Platform) -> None:
    kubectl = platform.kubectl
    assert kubectl.ok(
        "get", "jobs,pods", "-n", MARKET_NS, "-l", "app.kubernetes.io/instance=index", "-o", "name"
    )
    kubectl.ok("delete", "mf/index", "-n", MARKET_NS, "--timeout=60s")
    wait_for(
        lambda: (
            not kubectl.ok(
                "get",
                "cronjobs,jobs,pods",
                "-n",
                MARKET_NS,
                "-l",
                "app.kubernetes.io/instance=index",
                "-o",
                "name",
            ).strip()
        ),
        60,
        "the feed's CronJob, Jobs and pods to be collected",
        interval=1.0,
    )


def test_helm_uninstall_keeps_the_crds(platform: Platform) -> None:
    removed = platform.helm_run("uninstall", RELEASE, "-n", SYSTEM_NS, "--wait", "--timeout", "120s")
    assert removed.returncode == 0, removed.stderr
    crds = platform.kubectl.ok("get", "crd", "-o", "name")
    assert "customresourcedefinition.apiextensions.k8s.io/marketfeeds.anthill.io" in crds.split()
    assert platform.kubectl.ok("get", "mf", "-n", MARKET_NS, "-o", "name").strip()
    assert LAKE_SECRET in platform.kubectl.ok("get", "secrets", "-n", MARKET_NS, "-o", "name")
