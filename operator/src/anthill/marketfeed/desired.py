"""What a MarketFeed should produce: a ConfigMap with its spec and a CronJob that runs the ingest image.

Pure: no client, no environment, no clock. Owner references are added by the caller (they need the uid).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from anthill.naming import controller_reference, label_value, shortened, workload_labels
from anthill.settings import OperatorSettings
from anthill.workload import container_security, pod_security, workload_lake_environment
from anthill_api.marketfeed import MarketFeedSpec

FEED_LABEL = "anthill.io/feed"
# The label holds a selector-safe value (hashed past 63 characters); this annotation holds the feed's name.
FEED_NAME_ANNOTATION = "anthill.io/feed-name"
SPEC_HASH_ANNOTATION = "anthill.io/spec-hash"
CONFIG_DIR = "/etc/anthill"
CONFIG_FILE = "feed.json"
CONTAINER = "ingest"
CRONJOB_NAME_MAX = 52  # the CronJob controller appends an 11-character suffix to Job names


@dataclass(frozen=True)
class Feed:
    """A parsed MarketFeed: identity plus the validated spec."""

    name: str
    namespace: str
    spec: MarketFeedSpec
    uid: str = ""
    generation: int | None = None


def child_name(feed_name: str) -> str:
    """Name of the feed's CronJob and ConfigMap: the feed's own, shortened with a hash when too long."""
    return shortened(feed_name, CRONJOB_NAME_MAX)


def feed_selector(feed_name: str) -> str:
    """The label selector of the feed's Jobs and Pods."""
    return f"{FEED_LABEL}={label_value(feed_name)}"


def labels(feed: Feed) -> dict[str, str]:
    return workload_labels("anthill-ingest", "ingest", FEED_LABEL, feed.name)


def feed_config(feed: Feed) -> dict[str, Any]:
    """The document the ingest pod reads: the spec (references only, never secret values) and identity."""
    spec = feed.spec.to_k8s()
    return {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": "MarketFeed",
        "name": feed.name,
        "namespace": feed.namespace,
        "spec": spec,
    }


def desired_configmap(feed: Feed) -> dict[str, Any]:
    content = json.dumps(feed_config(feed), indent=2, sort_keys=True) + "\n"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": child_name(feed.name), "namespace": feed.namespace, "labels": labels(feed)},
        "data": {CONFIG_FILE: content},
    }


def _spec_hash(configmap: dict[str, Any]) -> str:
    """Changes whenever the mounted spec does, so a spec edit shows on the CronJob and its next Jobs."""
    return hashlib.sha256(configmap["data"][CONFIG_FILE].encode()).hexdigest()[:16]


def _container(feed: Feed, settings: OperatorSettings) -> dict[str, Any]:
    ref = feed.spec.api_key_secret_ref
    return {
        "name": CONTAINER,
        "image": settings.ingest_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["anthill", "ingest", "run"],
        "args": ["--feed", f"{CONFIG_DIR}/{CONFIG_FILE}"],
        "env": [
            # The key reaches the process from the Secret; the operator never reads or copies its value.
            {"name": "MASSIVE_API_KEY", "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}},
            {"name": "ANTHILL_FEED", "value": f"{feed.namespace}/{feed.name}"},
            *(
                [{"name": "ANTHILL_MARKET_DATA_URL", "value": settings.market_data_url}]
                if settings.market_data_url
                else []
            ),
            *workload_lake_environment(settings),
        ],
        "volumeMounts": [
            {"name": "feed", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir: the root fs is read-only
        ],
        "resources": feed.spec.resources.to_k8s(),
        "securityContext": container_security(),
        # The ingest process writes its run summary (rows, files, watermark) here; see status.lastRun.
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def desired_cronjob(feed: Feed, settings: OperatorSettings) -> dict[str, Any]:
    """The CronJob that runs ``feed`` on its schedule."""
    spec = feed.spec
    name = child_name(feed.name)
    meta_labels = labels(feed)
    annotations = {SPEC_HASH_ANNOTATION: _spec_hash(desired_configmap(feed)), FEED_NAME_ANNOTATION: feed.name}
    pod_spec = {
        "restartPolicy": "Never",
        # Always set, so that removing spec.serviceAccountName is drift the next reconcile corrects.
        "serviceAccountName": spec.service_account_name or "default",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security(),
        "containers": [_container(feed, settings)],
        "volumes": [
            {"name": "feed", "configMap": {"name": name}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
        ],
    }
    cron_spec: dict[str, Any] = {
        "schedule": spec.schedule,
        "suspend": spec.suspend,
        "concurrencyPolicy": spec.concurrency_policy,
        "successfulJobsHistoryLimit": spec.successful_jobs_history_limit,
        "failedJobsHistoryLimit": spec.failed_jobs_history_limit,
        "startingDeadlineSeconds": 300,
        "jobTemplate": {
            "metadata": {"labels": meta_labels, "annotations": annotations},
            "spec": {
                "backoffLimit": 2,
                "template": {
                    "metadata": {"labels": meta_labels, "annotations": annotations},
                    "spec": pod_spec,
                },
            },
        },
    }
    if spec.time_zone:
        cron_spec["timeZone"] = spec.time_zone
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": name,
            "namespace": feed.namespace,
            "labels": meta_labels,
            "annotations": annotations,
        },
        "spec": cron_spec,
    }


def owner_reference(feed: Feed) -> dict[str, Any]:
    """The feed as controller owner of a child: garbage collection removes the child with the feed."""
    return controller_reference("MarketFeed", feed.name, feed.uid)


def is_up_to_date(desired: Any, observed: Any) -> bool:
    """Whether ``observed`` holds everything ``desired`` sets (server defaults on top are fine).

    Lists must match in length and element-wise, so a removed ticker or env var counts as drift.
    """
    if isinstance(desired, dict):
        return isinstance(observed, dict) and all(
            key in observed and is_up_to_date(value, observed[key]) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(observed, list)
            and len(desired) == len(observed)
            and all(is_up_to_date(d, o) for d, o in zip(desired, observed, strict=True))
        )
    return bool(desired == observed)
