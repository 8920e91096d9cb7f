"""What a MarketStream should produce: a ConfigMap with its spec and a one-replica Deployment that streams.

Pure: no client, no environment, no clock. Owner references are added by the caller (they need the uid).

Edits of ``tickers`` and ``channels`` reach the running pod through the mounted ConfigMap, which the kubelet
updates in place and the stream process re-reads: it subscribes to the difference on its live connection, so
such an edit loses nothing and restarts nothing. Every other field is in the pod template's restart hash: a
new destination, market or key Secret starts a new pod (``Recreate``: the old one flushes on SIGTERM first).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from anthill.naming import controller_reference, label_value, shortened, workload_labels
from anthill.settings import OperatorSettings
from anthill.workload import container_security, pod_security, workload_lake_environment
from anthill_api.common import API_VERSION
from anthill_api.marketstream import MarketStreamSpec

STREAM_LABEL = "anthill.io/stream"
STREAM_NAME_ANNOTATION = "anthill.io/stream-name"
RESTART_HASH_ANNOTATION = "anthill.io/restart-hash"
CONFIG_DIR = "/etc/anthill"
CONFIG_FILE = "stream.json"
CONTAINER = "stream"
NAME_MAX = 63  # the Deployment's name is a label value of its pods (pod-template-hash is appended elsewhere)
HOT_FIELDS = ("tickers", "channels")  # what the running process applies without a restart
# Long enough for the process to flush what it holds and write its checkpoint after SIGTERM.
TERMINATION_GRACE_SECONDS = 60


@dataclass(frozen=True)
class Stream:
    """A parsed MarketStream: identity plus the validated spec."""

    name: str
    namespace: str
    spec: MarketStreamSpec
    uid: str = ""
    generation: int | None = None


def child_name(stream_name: str) -> str:
    """Name of the stream's Deployment and ConfigMap: the stream's own, shortened with a hash when too long."""
    return shortened(stream_name, NAME_MAX)


def stream_selector(stream_name: str) -> str:
    """The label selector of the stream's pods."""
    return f"{STREAM_LABEL}={label_value(stream_name)}"


def labels(stream: Stream) -> dict[str, str]:
    return workload_labels("anthill-stream", "stream", STREAM_LABEL, stream.name)


def stream_config(stream: Stream) -> dict[str, Any]:
    """The document the stream pod reads: the spec (references only, never secret values) and identity."""
    return {
        "apiVersion": API_VERSION,
        "kind": "MarketStream",
        "name": stream.name,
        "namespace": stream.namespace,
        "spec": stream.spec.to_k8s(),
    }


def desired_configmap(stream: Stream) -> dict[str, Any]:
    content = json.dumps(stream_config(stream), indent=2, sort_keys=True) + "\n"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": child_name(stream.name),
            "namespace": stream.namespace,
            "labels": labels(stream),
        },
        "data": {CONFIG_FILE: content},
    }


def restart_hash(stream: Stream) -> str:
    """Changes with every field the running process cannot apply by itself (all but :data:`HOT_FIELDS`)."""
    cold = {k: v for k, v in stream.spec.to_k8s().items() if k not in HOT_FIELDS}
    return hashlib.sha256(json.dumps(cold, sort_keys=True).encode()).hexdigest()[:16]


def _container(stream: Stream, settings: OperatorSettings) -> dict[str, Any]:
    ref = stream.spec.api_key_secret_ref
    urls = (("ANTHILL_MARKET_DATA_URL", settings.market_data_url),
            ("ANTHILL_MARKET_STREAM_URL", settings.market_stream_url))  # fmt: skip
    return {
        "name": CONTAINER,
        "image": settings.ingest_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["anthill", "ingest", "stream"],
        "args": ["--stream", f"{CONFIG_DIR}/{CONFIG_FILE}"],
        "env": [
            # The key reaches the process from the Secret; the operator never reads or copies its value.
            {"name": "MASSIVE_API_KEY", "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}},
            {"name": "ANTHILL_STREAM", "value": f"{stream.namespace}/{stream.name}"},
            *({"name": name, "value": value} for name, value in urls if value),
            *workload_lake_environment(settings),
        ],
        "volumeMounts": [
            # A directory mount, not subPath: the kubelet updates it in place when tickers or channels change.
            {"name": "stream", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir: the root fs is read-only
        ],
        "resources": stream.spec.resources.to_k8s(),
        "securityContext": container_security(),
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def desired_deployment(stream: Stream, settings: OperatorSettings) -> dict[str, Any]:
    """The Deployment that runs ``stream``: one pod at most, never two at once (``Recreate``), so no two
    connections write the same events; none while ``spec.suspend``."""
    name = child_name(stream.name)
    meta_labels = labels(stream)
    selector = {STREAM_LABEL: meta_labels[STREAM_LABEL]}
    annotations = {RESTART_HASH_ANNOTATION: restart_hash(stream), STREAM_NAME_ANNOTATION: stream.name}
    pod_spec = {
        # Always set, so that removing spec.serviceAccountName is drift the next reconcile corrects.
        "serviceAccountName": stream.spec.service_account_name or "default",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
        "securityContext": pod_security(),
        "containers": [_container(stream, settings)],
        "volumes": [
            {"name": "stream", "configMap": {"name": name}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": stream.namespace,
            "labels": meta_labels,
            "annotations": {STREAM_NAME_ANNOTATION: stream.name},
        },
        "spec": {
            "replicas": 0 if stream.spec.suspend else 1,
            "strategy": {"type": "Recreate"},
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": meta_labels, "annotations": annotations}, "spec": pod_spec},
        },
    }


def owner_reference(stream: Stream) -> dict[str, Any]:
    """The stream as controller owner of a child: garbage collection removes the child with the stream."""
    return controller_reference("MarketStream", stream.name, stream.uid)
