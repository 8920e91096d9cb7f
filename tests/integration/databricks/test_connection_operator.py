"""DatabricksConnections as a tenant might abuse them, against the session's operator and the sandbox Jobs API:
hosts off the allowlist, Secrets that did not opt in, credentials with line breaks, a host echoing what it is
sent, a binary key, and a whole namespace deleted with its pipeline, connection and Secret."""

from __future__ import annotations

import base64
import uuid

import pytest
import yaml
from databricks.sdk import WorkspaceClient

from anthill_devkit.controlplane import wait_for
from anthill_sandbox.databricks import DatabricksServer, Echo
from tests.integration.conftest import OPERATOR_NAMESPACE, OPERATOR_SA, OperatorProcess
from tests.integration.databricks.conftest import (
    CREDENTIALS_LABEL,
    PAT,
    connection_manifest,
    feed_manifest,
    pipeline_manifest,
    stats,
)
from tests.integration.kubectl import Kubectl, condition, get, wait_condition

pytestmark = pytest.mark.integration

TIMEOUT = 30
NAMESPACE_GONE = 120  # seconds: the namespace controller retries finalizers with its own backoff


def secret(name: str, data: dict[str, bytes], labelled: bool = True) -> str:
    labels = {CREDENTIALS_LABEL: "true"} if labelled else {}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "labels": labels},
                           "data": {k: base64.b64encode(v).decode() for k, v in data.items()}})  # fmt: skip


def connection(name: str, host: str, secret_name: str) -> str:
    return yaml.safe_dump({"apiVersion": "anthill.io/v1alpha1", "kind": "DatabricksConnection",
                           "metadata": {"name": name},
                           "spec": {"host": host, "credentialsSecretRef": {"name": secret_name}}})  # fmt: skip


def everything_shown(kubectl: Kubectl, ns: str, operator: OperatorProcess) -> str:
    """Conditions and status of every connection and pipeline, the namespace's Events, the operator's log."""
    objects = kubectl.ok("get", "dbc,mp", "-n", ns, "-o", "json")
    events = kubectl.ok("get", "events", "-n", ns, "-o", "json")
    return objects + events + operator.log.read_text()


def test_a_host_off_the_allowlist_is_invalid_spec_naming_the_field(
    kubectl: Kubectl, feed_namespace: str, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=secret("away", {"token": b"dapi-sent-nowhere-0123"}))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection("sandbox", "https://attacker.example", "away"))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest() + "---\n" + pipeline_manifest("exfil"))
    ready = condition(wait_condition(kubectl, ns, "dbc/sandbox", "Ready", "InvalidSpec"), "Ready")
    assert "spec.host" in ready["message"]
    assert ".cloud.databricks.com" in ready["message"]
    synced = condition(wait_condition(kubectl, ns, "mp/exfil", "Synced", "InvalidSpec"), "Synced")
    assert "spec.host" in synced["message"]
    assert "dapi-sent-nowhere" not in everything_shown(kubectl, ns, operator)


def test_a_secret_without_the_opt_in_label_is_not_readable_like_a_missing_one(
    kubectl: Kubectl, feed_namespace: str, server: DatabricksServer, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    kubectl.ok(
        "apply", "-n", ns, "-f", "-", stdin=secret("unlabelled", {"token": PAT.encode()}, labelled=False)
    )
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection("sandbox", server.url, "unlabelled"))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection("ghost", server.url, "absent"))
    unlabelled = condition(wait_condition(kubectl, ns, "dbc/sandbox", "Ready", "SecretNotFound"), "Ready")
    absent = condition(wait_condition(kubectl, ns, "dbc/ghost", "Ready", "SecretNotFound"), "Ready")
    # One wording for both: a status does not tell whether a Secret exists.
    assert unlabelled["message"].replace("unlabelled", "X") == absent["message"].replace("absent", "X")
    assert "not readable" in unlabelled["message"]
    assert CREDENTIALS_LABEL in unlabelled["message"]
    assert stats(server) == {}  # the Secret's value was never used

    kubectl.ok("label", "secret", "unlabelled", "-n", ns, f"{CREDENTIALS_LABEL}=true")
    wait_condition(kubectl, ns, "dbc/sandbox", "Ready", "Available")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(b"dapi-first-half-7f3a\nsecond-half-9c1e", id="line-feed"),
        pytest.param(b"dapi-first-half-7f3a\r\nX-Injected: second-half-9c1e", id="carriage-return-line-feed"),
        pytest.param(b"dapi-first-half-7f3a\rsecond-half-9c1e", id="carriage-return"),
    ],
)
def test_a_credential_with_a_line_break_is_refused_naming_the_key_and_never_shown(
    kubectl: Kubectl, feed_namespace: str, server: DatabricksServer, operator: OperatorProcess, token: bytes
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=secret("pem", {"token": token}))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection("sandbox", server.url, "pem"))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest() + "---\n" + pipeline_manifest("multiline"))
    ready = condition(wait_condition(kubectl, ns, "dbc/sandbox", "Ready", "InvalidSecret"), "Ready")
    assert "'token'" in ready["message"]
    wait_condition(kubectl, ns, "mp/multiline", "Synced", "InvalidSecret")
    shown = everything_shown(kubectl, ns, operator)
    for part in ("first-half-7f3a", "second-half-9c1e", "X-Injected"):
        assert part not in shown
    assert stats(server) == {}


def test_a_host_echoing_what_it_is_sent_is_summarised_never_read_back(
    kubectl: Kubectl, feed_namespace: str, server: DatabricksServer, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    marker = f"internal-only-{uuid.uuid4().hex[:8]}"
    server.state.faults.echo = Echo(500, "text", marker)
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection_manifest(server))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest() + "---\n" + pipeline_manifest("echoed"))
    ready = condition(wait_condition(kubectl, ns, "dbc/sandbox", "Ready", "ReconcileError"), "Ready")
    assert "HTTP 500" in ready["message"]
    wait_condition(kubectl, ns, "mp/echoed", "Synced", "ReconcileError")
    assert stats(server)  # the host was called, and answered with the echo
    shown = everything_shown(kubectl, ns, operator)
    assert marker not in shown
    assert f"Bearer {PAT}" not in shown


def test_a_binary_key_next_to_the_token_does_not_break_reading_the_secret(
    kubectl: Kubectl, feed_namespace: str, server: DatabricksServer, operator: OperatorProcess
) -> None:
    ns = feed_namespace
    data = {"token": PAT.encode(), "keystore.p12": b"\x30\x82\xff\xfe\x00binary"}
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=secret("mixed", data))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection("sandbox", server.url, "mixed"))
    wait_condition(kubectl, ns, "dbc/sandbox", "Ready", "Available")


def test_deleting_the_namespace_deletes_the_job_and_completes(
    kubectl: Kubectl, server: DatabricksServer, sdk: WorkspaceClient, operator: OperatorProcess
) -> None:
    """The namespace controller deletes the Secret and the connection with the pipeline, in no order the
    operator chooses; the pipeline's finalizer must still reach Databricks to delete its job."""
    ns = f"doomed-{uuid.uuid4().hex[:8]}"
    kubectl.ok("create", "namespace", ns)
    kubectl.ok("create", "rolebinding", "anthill-operator-secrets", "-n", ns,
               "--clusterrole=anthill-operator-secrets",
               f"--serviceaccount={OPERATOR_NAMESPACE}:{OPERATOR_SA}")  # fmt: skip
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection_manifest(server))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest() + "---\n" + pipeline_manifest("tenant"))
    job_id = wait_condition(kubectl, ns, "mp/tenant", "Ready", "Available")["status"]["atProvider"]["jobId"]
    assert job_id in {job.job_id for job in sdk.jobs.list()}

    kubectl.ok("delete", "namespace", ns, "--wait=false")

    def gone() -> bool:
        result = kubectl("get", "namespace", ns, "-o", "json")
        if result.returncode != 0:
            return "NotFound" in result.stderr
        return False

    wait_for(gone, NAMESPACE_GONE, f"namespace {ns} to be deleted")
    assert job_id not in {job.job_id for job in sdk.jobs.list()}
    assert stats(server).get("jobs/delete", 0) == 1


def test_a_connection_in_use_is_kept_until_its_pipelines_are_deleted(
    kubectl: Kubectl,
    feed_namespace: str,
    server: DatabricksServer,
    sdk: WorkspaceClient,
    operator: OperatorProcess,
) -> None:
    ns = feed_namespace
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=connection_manifest(server))
    kubectl.ok("apply", "-n", ns, "-f", "-", stdin=feed_manifest() + "---\n" + pipeline_manifest("user"))
    job_id = wait_condition(kubectl, ns, "mp/user", "Ready", "Available")["status"]["atProvider"]["jobId"]
    kubectl.ok("delete", "dbc", "sandbox", "-n", ns, "--wait=false")
    held = condition(wait_condition(kubectl, ns, "dbc/sandbox", "Ready", "Deleting"), "Ready")
    assert "user" in held["message"]

    kubectl.ok("delete", "mp", "user", "-n", ns, f"--timeout={TIMEOUT}s")
    wait_for(lambda: get(kubectl, ns, "dbc/sandbox") is None, TIMEOUT, "the connection to go")
    assert job_id not in {job.job_id for job in sdk.jobs.list()}


def test_a_namespace_deleted_with_no_credentials_left_completes_and_names_the_job_it_leaves(
    kubectl: Kubectl, server: DatabricksServer, sdk: WorkspaceClient, operator: OperatorProcess
) -> None:
    """An operator that starts after the Secret is gone never built a client for it: the pipeline's finalizer
    cannot reach Databricks, and nobody can bring the credentials back into a namespace being deleted. Holding
    the finalizer would keep the namespace forever; instead the job is left and named, loudly."""
    ns = f"stranded-{uuid.uuid4().hex[:8]}"
    kubectl.ok("create", "namespace", ns)
    job_id = sdk.jobs.create(name=f"{ns}/left", tags={"anthill.io/pipeline": f"{ns}/left"}).job_id
    # No DatabricksConnection "sandbox" in this namespace: the state a restarted operator finds.
    kubectl.ok("apply", "-n", ns, "-f", "-",
               stdin=pipeline_manifest("left", annotations={"anthill.io/external-name": str(job_id)}))  # fmt: skip
    wait_for(lambda: bool((get(kubectl, ns, "mp/left") or {}).get("metadata", {}).get("finalizers")),
             TIMEOUT, "the pipeline's finalizer")  # fmt: skip

    kubectl.ok("delete", "namespace", ns, "--wait=false")

    def gone() -> bool:
        result = kubectl("get", "namespace", ns, "-o", "json")
        return result.returncode != 0 and "NotFound" in result.stderr

    wait_for(gone, NAMESPACE_GONE, f"namespace {ns} to be deleted")
    assert job_id in {job.job_id for job in sdk.jobs.list()}  # left in the workspace, not deleted blindly
    assert f"Databricks job {job_id} is left in the workspace" in operator.log.read_text()
