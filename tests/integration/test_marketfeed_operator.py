"""The operator on the real control plane, under its own RBAC: MarketFeed -> owned CronJob, Crossplane-style."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from anthill.runs import EVENT_FIELD, OBJECT_FIELD, RUN_FAILED
from anthill_devkit.controlplane import wait_for
from tests.integration.conftest import OperatorProcess
from tests.integration.kubectl import Kubectl, condition, get

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 30


def feed_manifest(name: str, **spec: Any) -> str:
    doc = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    doc["metadata"]["name"] = name
    doc["spec"].update(spec)
    return yaml.safe_dump(doc)


def wait_ready(kubectl: Kubectl, ns: str, name: str, reason: str = "Available") -> dict[str, Any]:
    def ready() -> bool:
        return condition(get(kubectl, ns, f"mf/{name}"), "Ready").get("reason") == reason

    wait_for(ready, TIMEOUT, f"MarketFeed {ns}/{name} Ready with reason {reason}")
    feed = get(kubectl, ns, f"mf/{name}")
    assert feed is not None
    return feed


def with_secret(kubectl: Kubectl, ns: str) -> None:
    kubectl.ok(
        "create", "secret", "generic", "massive-api", "-n", ns, "--from-literal=apiKey=sk-not-a-real-key"
    )


def test_feed_becomes_ready_with_an_owned_cronjob(kubectl: Kubectl, feed_namespace: str) -> None:
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("daily"))
    feed = wait_ready(kubectl, ns, "daily")

    assert feed["status"]["cronJobName"] == "daily"
    assert feed["status"]["observedGeneration"] == feed["metadata"]["generation"]
    assert condition(feed, "Synced")["status"] == "True"
    cronjob = get(kubectl, ns, "cronjob/daily")
    assert cronjob is not None
    owner = cronjob["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("MarketFeed", feed["metadata"]["uid"], True)
    spec = cronjob["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"], spec["suspend"]) == (
        "30 17 * * 1-5", "America/New_York", "Forbid", False)  # fmt: skip
    container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert {
        "name": "MASSIVE_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "massive-api", "key": "apiKey"}},
    } in (container["env"])
    assert "sk-not-a-real-key" not in json.dumps(cronjob) + json.dumps(feed)
    configmap = get(kubectl, ns, "configmap/daily")
    assert configmap is not None
    assert json.loads(configmap["data"]["feed.json"])["spec"]["tickers"][0] == "AAPL"


def test_spec_edit_updates_the_cronjob_and_observed_generation(kubectl: Kubectl, feed_namespace: str) -> None:
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("edit"))
    wait_ready(kubectl, ns, "edit")
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("edit", schedule="0 6 * * *", suspend=True,
                                                                 failedJobsHistoryLimit=7))  # fmt: skip

    def updated() -> bool:
        cronjob = get(kubectl, ns, "cronjob/edit") or {}
        return bool(cronjob.get("spec", {}).get("schedule") == "0 6 * * *")

    wait_for(updated, TIMEOUT, "the CronJob to follow the spec")
    cronjob = get(kubectl, ns, "cronjob/edit")
    assert cronjob is not None
    assert (cronjob["spec"]["suspend"], cronjob["spec"]["failedJobsHistoryLimit"]) == (True, 7)

    def generation_followed() -> bool:
        feed = get(kubectl, ns, "mf/edit") or {}
        return bool(feed["status"].get("observedGeneration") == feed["metadata"]["generation"] == 2)

    wait_for(generation_followed, TIMEOUT, "observedGeneration to follow")


def test_pods_run_as_the_named_service_account_and_unnaming_it_reverts(
    kubectl: Kubectl, feed_namespace: str
) -> None:
    """The Job the CronJob starts makes a pod that runs as the feed's ServiceAccount (the kube-controller-
    manager creates it, so the API server's ServiceAccount admission has checked that it exists); dropping
    the field puts the CronJob back on the namespace's default."""
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("create", "serviceaccount", "anthill-ingest", "-n", ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("irsa", serviceAccountName="anthill-ingest"))
    wait_ready(kubectl, ns, "irsa")
    kubectl.ok("create", "job", "irsa-now", "--from=cronjob/irsa", "-n", ns)

    def job_pods() -> list[dict[str, Any]]:
        pods = json.loads(kubectl.ok("get", "pods", "-n", ns, "-l", "job-name=irsa-now", "-o", "json"))
        return cast("list[dict[str, Any]]", pods["items"])

    wait_for(lambda: bool(job_pods()), TIMEOUT, "the Job's pod")
    (pod,) = job_pods()
    assert pod["spec"]["serviceAccountName"] == "anthill-ingest"
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert not [v for v in pod["spec"]["volumes"] if v.get("projected")]  # no API token mounted

    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("irsa"))

    def back_to_default() -> bool:
        cronjob = get(kubectl, ns, "cronjob/irsa") or {}
        pod_spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        return bool(pod_spec.get("serviceAccountName") == "default")

    wait_for(back_to_default, TIMEOUT, "the CronJob back on the default ServiceAccount")


def test_deleted_cronjob_is_restored(kubectl: Kubectl, feed_namespace: str) -> None:
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("restore"))
    wait_ready(kubectl, ns, "restore")
    old_uid = (get(kubectl, ns, "cronjob/restore") or {})["metadata"]["uid"]
    kubectl.ok("delete", "cronjob", "restore", "-n", ns)

    def recreated() -> bool:
        cronjob = get(kubectl, ns, "cronjob/restore")
        return cronjob is not None and cronjob["metadata"]["uid"] != old_uid

    wait_for(recreated, TIMEOUT, "the CronJob to be recreated")


def test_edited_cronjob_is_reverted(kubectl: Kubectl, feed_namespace: str) -> None:
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("drift"))
    wait_ready(kubectl, ns, "drift")
    kubectl.ok("patch", "cronjob", "drift", "-n", ns, "--type=merge", "-p",
               '{"spec": {"schedule": "* * * * *", "suspend": true}}')  # fmt: skip

    def reverted() -> bool:
        spec = (get(kubectl, ns, "cronjob/drift") or {}).get("spec", {})
        return spec.get("schedule") == "30 17 * * 1-5" and spec.get("suspend") is False

    wait_for(reverted, TIMEOUT, "the hand edit to be reverted")


def test_deleting_the_feed_collects_its_children(kubectl: Kubectl, feed_namespace: str) -> None:
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("gone"))
    wait_ready(kubectl, ns, "gone")
    # No finalizer: deleting a feed, or its namespace, never waits for the operator (nor for one that is gone).
    assert not (get(kubectl, ns, "mf/gone") or {})["metadata"].get("finalizers")
    kubectl.ok("delete", "mf", "gone", "-n", ns)
    wait_for(lambda: get(kubectl, ns, "cronjob/gone") is None and get(kubectl, ns, "configmap/gone") is None,
             TIMEOUT, "garbage collection of the CronJob and ConfigMap")  # fmt: skip


NOT_READABLE = (
    "Secret {ns}/massive-api or its key 'apiKey' is not readable: check that the Secret exists with that key "
    "and that the operator may read Secrets in {ns} (a RoleBinding to anthill-operator-secrets); "
    "the CronJob is created once it is"
)


@pytest.mark.parametrize(
    "secret_args",
    [
        pytest.param([], id="secret-missing"),
        pytest.param(["--from-literal=other=x"], id="key-missing"),
    ],
)
def test_missing_secret_is_reported_then_recovered(
    kubectl: Kubectl, feed_namespace: str, secret_args: list[str]
) -> None:
    """Both cases read alike: whoever may read the feed's status must not learn whether a Secret exists."""
    ns = feed_namespace
    if secret_args:
        kubectl.ok("create", "secret", "generic", "massive-api", "-n", ns, *secret_args)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("nokey"))
    feed = wait_ready(kubectl, ns, "nokey", reason="SecretNotFound")
    assert condition(feed, "Ready")["message"] == NOT_READABLE.format(ns=ns)
    assert condition(feed, "Ready")["status"] == "False"
    assert get(kubectl, ns, "cronjob/nokey") is None

    kubectl.ok("delete", "secret", "massive-api", "-n", ns, "--ignore-not-found")
    with_secret(kubectl, ns)
    wait_ready(kubectl, ns, "nokey")
    assert get(kubectl, ns, "cronjob/nokey") is not None


def _finish_pod(kubectl: Kubectl, ns: str, job: str, exit_code: int, message: str) -> None:
    """Act as the kubelet: the Job's pod ran and ended with ``exit_code`` and a termination message."""
    wait_for(lambda: bool(kubectl.ok("get", "pods", "-n", ns, "-l", f"job-name={job}", "-o", "name").strip()),
             TIMEOUT, f"the pod of Job {job}")  # fmt: skip
    pod = kubectl.ok("get", "pods", "-n", ns, "-l", f"job-name={job}", "-o", "name").split()[0]
    terminated = {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error", "message": message,
                  "startedAt": "2026-11-27T22:30:01Z", "finishedAt": "2026-11-27T22:31:40Z"}  # fmt: skip
    status = {"phase": "Succeeded" if exit_code == 0 else "Failed", "containerStatuses": [
        {"name": "ingest", "image": "anthill-ingest", "imageID": "", "ready": False, "restartCount": 0,
         "state": {"terminated": terminated}}]}  # fmt: skip
    kubectl.ok(
        "patch", pod, "-n", ns, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})
    )


def run_failed_lines(operator: OperatorProcess, namespace: str, name: str) -> list[dict[str, Any]]:
    """The operator's RunFailed log lines about MarketFeed ``namespace/name`` (its log is JSON lines)."""
    found = []
    for line in operator.log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        ref = record.get(OBJECT_FIELD) or {}
        if record.get(EVENT_FIELD) == RUN_FAILED and (ref.get("namespace"), ref.get("name")) == (
            namespace,
            name,
        ):
            found.append(record)
    return found


def test_runs_are_reflected_in_status(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("runs"))
    wait_ready(kubectl, ns, "runs")

    kubectl.ok("create", "job", "runs-ok", "-n", ns, "--from=cronjob/runs")
    _finish_pod(kubectl, ns, "runs-ok", 0, json.dumps({"rows": 1260, "files": 8, "watermark": "2026-11-27"}))

    def last_run(result: str) -> dict[str, Any]:
        run: dict[str, Any] = ((get(kubectl, ns, "mf/runs") or {}).get("status") or {}).get("lastRun") or {}
        return run if run.get("result") == result else {}

    wait_for(lambda: bool(last_run("Succeeded")), TIMEOUT, "lastRun Succeeded")
    run = last_run("Succeeded")
    assert (run["job"], run["rows"], run["files"]) == ("runs-ok", 1260, 8)
    assert (get(kubectl, ns, "mf/runs") or {})["status"]["watermark"] == "2026-11-27"

    # A failing run, with backoff disabled so the Job fails at the first pod failure.
    job = json.loads(kubectl.ok("create", "job", "runs-bad", "-n", ns, "--from=cronjob/runs", "--dry-run=client",
                                "-o", "json"))  # fmt: skip
    job["spec"]["backoffLimit"] = 0
    kubectl.ok("create", "-n", ns, "-f", "-", stdin=json.dumps(job))
    _finish_pod(kubectl, ns, "runs-bad", 1, "Traceback: 401 Unauthorized from the market-data API")
    wait_for(lambda: bool(last_run("Failed")), TIMEOUT, "lastRun Failed")
    run = last_run("Failed")
    assert run["job"] == "runs-bad"
    assert "401 Unauthorized" in run["message"]
    assert (get(kubectl, ns, "mf/runs") or {})["status"][
        "watermark"
    ] == "2026-11-27"  # a failure keeps the mark

    # One RunFailed line for the failed run, and not again on later passes (the Job's events, drift timers).
    wait_for(lambda: bool(run_failed_lines(operator, ns, "runs")), TIMEOUT, "the RunFailed log line")
    events = operator.metric("anthill_reconcile_total", kind="MarketFeed", trigger="child-event")
    timers = operator.metric("anthill_reconcile_total", kind="MarketFeed", trigger="timer")
    kubectl.ok("annotate", "job/runs-bad", "-n", ns, "touched=1")
    wait_for(lambda: operator.metric("anthill_reconcile_total", kind="MarketFeed", trigger="child-event") > events,
             TIMEOUT, "a reconcile from the Job's event")  # fmt: skip
    wait_for(lambda: operator.metric("anthill_reconcile_total", kind="MarketFeed", trigger="timer") >= timers + 6,
             TIMEOUT, "drift passes")  # fmt: skip
    (line,) = run_failed_lines(operator, ns, "runs")
    assert (line["run"], line["reason"], line["severity"]) == ("runs-bad", "BackoffLimitExceeded", "warn")
    assert line["object"]["kind"] == "MarketFeed"
    assert "401 Unauthorized" in line["message"]
    assert "sk-not-a-real-key" not in json.dumps(line)
    assert operator.metric("anthill_run_failures_total", kind="MarketFeed", object_namespace=ns,
                           object_name="runs") == 1  # fmt: skip
    assert operator.metric("anthill_feed_watermark_timestamp_seconds", object_namespace=ns,
                           object_name="runs") == 1795737600  # 2026-11-27, midnight UTC  # fmt: skip


def test_paused_feed_is_left_alone_and_can_be_deleted(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok(
        "apply", "-n", ns, "-f", "-", stdin=feed_manifest("paused") + "---\n" + feed_manifest("witness")
    )
    wait_ready(kubectl, ns, "paused")
    kubectl.ok("annotate", "mf", "paused", "-n", ns, "anthill.io/paused=true")
    wait_for(lambda: condition(get(kubectl, ns, "mf/paused"), "Synced").get("reason") == "ReconcilePaused",
             TIMEOUT, "Synced=False ReconcilePaused")  # fmt: skip
    kubectl.ok("patch", "mf", "paused", "-n", ns, "--type=merge", "-p", '{"spec": {"schedule": "0 1 * * *"}}')
    kubectl.ok("delete", "cronjob", "paused", "-n", ns)
    # The unpaused witness feed's drift timer fires every interval; once it has fired twice, the paused
    # feed has had two chances (and its CronJob's deletion event one) to be acted on.
    timers = operator.metric("anthill_reconcile_total", trigger="timer")
    wait_for(lambda: operator.metric("anthill_reconcile_total", trigger="timer") >= timers + 2, TIMEOUT,
             "two drift passes")  # fmt: skip
    assert get(kubectl, ns, "cronjob/paused") is None
    assert get(kubectl, ns, "cronjob/witness") is not None

    kubectl.ok("delete", "mf", "paused", "-n", ns, "--timeout=20s")
    assert get(kubectl, ns, "mf/paused") is None


def test_idle_drift_passes_make_no_api_writes(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("idle"))
    wait_ready(kubectl, ns, "idle")
    objects = ("mf/idle", "cronjob/idle", "configmap/idle")
    versions = {what: (get(kubectl, ns, what) or {})["metadata"]["resourceVersion"] for what in objects}
    timers = operator.metric("anthill_reconcile_total", trigger="timer")

    wait_for(lambda: operator.metric("anthill_reconcile_total", trigger="timer") >= timers + 3, TIMEOUT,
             "three drift passes")  # fmt: skip

    # Other tests' feeds share the operator, so the figure for the whole operator is the benchmark's;
    # here: not one write to this feed or its children.
    assert {
        what: (get(kubectl, ns, what) or {})["metadata"]["resourceVersion"] for what in objects
    } == versions


def test_pod_template_is_admitted_under_restricted_pod_security(
    kubectl: Kubectl, feed_namespace: str
) -> None:
    ns = feed_namespace
    kubectl.ok("label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted")
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("psa"))
    wait_ready(kubectl, ns, "psa")
    template = (get(kubectl, ns, "cronjob/psa") or {})["spec"]["jobTemplate"]["spec"]["template"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "psa-check", **template["metadata"]},
           "spec": template["spec"]}  # fmt: skip
    result = kubectl("create", "-n", ns, "--dry-run=server", "-f", "-", stdin=json.dumps(pod))
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr


@pytest.mark.parametrize(
    ("verb", "resource", "namespace", "allowed"),
    [
        pytest.param("create", "cronjobs.batch", "default", True, id="create CronJobs"),
        pytest.param("update", "cronjobs.batch", "default", True, id="replace drifted CronJobs"),
        pytest.param("patch", "marketfeeds.anthill.io/status", "default", True, id="write feed status"),
        pytest.param("get", "secrets", None, False, id="no Secrets cluster-wide"),
        pytest.param("get", "secrets", "kube-system", False, id="no Secrets where not granted"),
        pytest.param("list", "secrets", "default", False, id="no listing Secrets anywhere"),
        pytest.param("create", "pods/exec", "default", False, id="no pods/exec"),
        pytest.param(
            "create", "clusterrolebindings.rbac.authorization.k8s.io", None, False, id="no RBAC edits"
        ),
        pytest.param("escalate", "clusterroles.rbac.authorization.k8s.io", None, False, id="no escalation"),
        pytest.param("delete", "cronjobs.batch", "default", False, id="no deletes: GC does that"),
        pytest.param("create", "pods", "default", False, id="no pods directly"),
    ],
)
def test_operator_rbac_is_least_privilege(
    kubectl: Kubectl,
    operator: OperatorProcess,
    verb: str,
    resource: str,
    namespace: str | None,
    allowed: bool,
) -> None:
    scope = ["-n", namespace] if namespace else ["--all-namespaces"]
    result = kubectl("auth", "can-i", verb, resource, *scope, f"--as={operator.service_account}")
    assert result.stdout.strip() == ("yes" if allowed else "no"), result.stderr


def test_operator_reads_secrets_only_where_granted(kubectl: Kubectl, feed_namespace: str,
                                                   operator: OperatorProcess) -> None:  # fmt: skip
    as_operator = f"--as={operator.service_account}"
    assert (
        kubectl("auth", "can-i", "get", "secrets", "-n", feed_namespace, as_operator).stdout.strip() == "yes"
    )
    assert kubectl("get", "secret", "-n", "kube-system", "anything", as_operator).returncode != 0


def test_api_refusal_is_synced_false_with_the_upstream_message(kubectl: Kubectl, feed_namespace: str) -> None:
    """An outage or refusal is not an invalid spec: Synced=False/ReconcileError, retried until it clears."""
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("create", "quota", "no-cronjobs", "-n", ns, "--hard=count/cronjobs.batch=0")
    wait_for(lambda: "count/cronjobs.batch" in kubectl.ok("get", "quota", "no-cronjobs", "-n", ns, "-o",
                                                           "jsonpath={.status.hard}"), TIMEOUT, "the quota to be active")  # fmt: skip
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("quota"))

    def refused() -> bool:
        return condition(get(kubectl, ns, "mf/quota"), "Synced").get("reason") == "ReconcileError"

    wait_for(refused, TIMEOUT, "Synced=False/ReconcileError")
    synced = condition(get(kubectl, ns, "mf/quota"), "Synced")
    assert synced["status"] == "False"
    assert "exceeded quota" in synced["message"]

    kubectl.ok("delete", "quota", "no-cronjobs", "-n", ns)
    wait_ready(kubectl, ns, "quota")
    assert condition(get(kubectl, ns, "mf/quota"), "Synced")["reason"] == "ReconcileSuccess"


def _unchanged(kubectl: Kubectl, ns: str, ref: str, before: dict[str, Any]) -> None:
    """``ref`` is still the object ``before`` was: never written, never given an owner."""
    now = get(kubectl, ns, ref)
    assert now is not None, f"{ref} was deleted"
    assert now["metadata"]["uid"] == before["metadata"]["uid"]
    assert now["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert "ownerReferences" not in now["metadata"]


@pytest.mark.parametrize(
    ("kind", "create"),
    [
        pytest.param("configmap", ["configmap", "victim", "--from-literal=app.conf=keep"], id="configmap"),
        pytest.param(
            "cronjob", ["cronjob", "victim", "--image=backup:1", "--schedule=0 3 * * *"], id="cronjob"
        ),
    ],
)
def test_a_feed_never_takes_over_an_object_it_does_not_own(
    kubectl: Kubectl, feed_namespace: str, kind: str, create: list[str]
) -> None:
    """A feed named like someone else's ConfigMap or CronJob reports the conflict and leaves the object alone;
    deleting the feed then cannot garbage-collect it."""
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("create", *create, "-n", ns)
    victim = get(kubectl, ns, f"{kind}/victim")
    assert victim is not None
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("victim"))
    feed = wait_ready(kubectl, ns, "victim", reason="ChildConflict")
    message = condition(feed, "Ready")["message"]
    assert f"{ns}/victim already exists and is not controlled by this resource" in message
    assert {"configmap": "ConfigMap", "cronjob": "CronJob"}[kind] in message
    assert condition(feed, "Synced")["reason"] == "ChildConflict"
    _unchanged(kubectl, ns, f"{kind}/victim", victim)

    kubectl.ok("delete", "mf", "victim", "-n", ns, "--wait=true")
    # Garbage collection removes what the feed did own (the ConfigMap, when only the CronJob was taken).
    if kind == "cronjob":
        wait_for(
            lambda: get(kubectl, ns, "configmap/victim") is None, TIMEOUT, "the feed's own ConfigMap to go"
        )
    _unchanged(kubectl, ns, f"{kind}/victim", victim)


def test_a_feed_with_the_longest_name_becomes_ready_and_sees_its_runs(
    kubectl: Kubectl, feed_namespace: str
) -> None:
    """253 characters is a valid name; the labels built from it are hashed to 63 and the Jobs still found."""
    ns = feed_namespace
    name = "long-" + "n" * 248
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest(name))
    feed = wait_ready(kubectl, ns, name)
    cronjob_name = feed["status"]["cronJobName"]
    assert len(cronjob_name) <= 52
    kubectl.ok("create", "job", "long-now", f"--from=cronjob/{cronjob_name}", "-n", ns)

    def last_run() -> dict[str, Any]:
        status = (get(kubectl, ns, f"mf/{name}") or {}).get("status") or {}
        return cast("dict[str, Any]", status.get("lastRun") or {})

    wait_for(lambda: last_run().get("job") == "long-now", TIMEOUT, "the manual run in status.lastRun")


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param(
            {"timeZone": "America/Nowhere"}, "spec.timeZone", id="a time zone the tz database lacks"
        ),
        pytest.param({"schedule": "30-10 * * * *"}, "spec.schedule", id="a backwards range"),
    ],
)
def test_a_child_the_api_server_refuses_is_an_invalid_spec_not_retried(
    kubectl: Kubectl, feed_namespace: str, spec: dict[str, str], field: str
) -> None:
    """The CRD admits these (any Area/City time zone; ranges are checked per bound, not against each other);
    the CronJob API refuses them. Its 422 is the spec's fault, so it is shown as InvalidSpec with the
    server's message instead of being retried as an outage."""
    ns = feed_namespace
    with_secret(kubectl, ns)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("refused", **spec))
    feed = wait_ready(kubectl, ns, "refused", reason="InvalidSpec")
    message = condition(feed, "Ready")["message"]
    assert f"the API server refused CronJob {ns}/refused" in message
    assert f'{field}: Invalid value: "{next(iter(spec.values()))}"' in message
    assert condition(feed, "Synced")["reason"] == "InvalidSpec"
    assert get(kubectl, ns, "cronjob/refused") is None

    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest("refused"))
    wait_ready(kubectl, ns, "refused")
