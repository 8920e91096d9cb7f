"""Runs that ended: one ``RunFailed`` log line per failed run, the failed-run counter, the feeds' landing gauges.

The log line is a contract: CloudWatch metric filters (``terraform/modules/monitoring``) match the field names
and values below, and a test keeps them together. In JSON mode (kopf's formatter) the line reads::

    {"message": "MarketFeed market/spy run spy-29000000 failed: ...", "event": "RunFailed", "run": "spy-29000000",
     "reason": "BackoffLimitExceeded", "object": {"apiVersion": "anthill.io/v1alpha1", "kind": "MarketFeed",
     "name": "spy", "uid": "...", "namespace": "market"}, "timestamp": "...", "severity": "warn"}

``object`` is kopf's own reference key (``name`` and ``message`` are taken by Python's log records), so a query
for one object finds kopf's lines and these alike. A failed run is a warning: the workload failed, not the
operator; ``error`` stays the operator's own failures, which the reconcile-error filter counts.

A run is reported once: the status the reconcile started from already showing the same failed run means it was
reported before (by this process or one before a restart), and a memo per object covers a reconcile that starts
from a body older than the status the previous one wrote (the drift timer's).
"""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from anthill_api.common import API_VERSION

LOGGER = "anthill.runs"
FEED_KIND = "MarketFeed"
PIPELINE_KIND = "MedallionPipeline"
RUN_FAILED = "RunFailed"
HEARTBEAT = (
    "Heartbeat"  # a line every ANTHILL_HEARTBEAT_INTERVAL: a silent log means a dead operator or shipper
)
# JSON field names of the line (kopf's formatter adds ``message``, ``severity`` and ``timestamp``).
EVENT_FIELD = "event"
OBJECT_FIELD = "object"  # kopf's DEFAULT_JSON_REFKEY, filled from the ``k8s_ref`` extra
SEVERITY_FIELD = "severity"
RUN_FAILED_SEVERITY = "warn"  # kopf's name for WARNING
ERROR_SEVERITY = "error"  # kopf's name for ERROR: kopf logs a handler failure (a reconcile error) at it
MESSAGE_MAX = 512  # characters of the run's own message carried by the line

log = logging.getLogger(LOGGER)

# One series per object, never per run: bounded by the objects in the cluster, like the gauges below, and an
# alert must say which feed or pipeline failed. Each series starts at 0 when its object is first reconciled:
# `increase()` cannot see a series whose first sample is already 1, so the first failure would not alert.
# ``object_*`` rather than ``namespace``: a scrape attaches the target's own ``namespace`` label, which would
# rename this one.
RUN_FAILURES = Counter(
    "anthill_run_failures_total",
    "Runs of a MarketFeed or MedallionPipeline that ended failed, by kind and object.",
    ["kind", "object_namespace", "object_name"],
)
FEED_LAST_SUCCESS = Gauge(
    "anthill_feed_last_success_timestamp_seconds",
    "When the feed's CronJob last completed a run successfully (status.lastSuccessfulTime), Unix seconds.",
    ["object_namespace", "object_name"],
)
FEED_WATERMARK = Gauge(
    "anthill_feed_watermark_timestamp_seconds",
    "The feed's watermark (status.watermark: data landed up to this date or time), Unix seconds.",
    ["object_namespace", "object_name"],
)


@dataclass(frozen=True)
class FailedRun:
    """One run that ended failed: ``run`` names it (the Job, or the Databricks run id); ``key`` tells it from the
    object's other runs as its status records them (``run`` when empty)."""

    kind: str
    namespace: str
    name: str
    uid: str
    run: str
    reason: str
    message: str = ""
    key: str = ""

    @property
    def identity(self) -> str:
        return self.key or self.run

    def line(self) -> str:
        text = f"{self.kind} {self.namespace}/{self.name} run {self.run} failed ({self.reason})"
        return f"{text}: {self.message[:MESSAGE_MAX]}" if self.message else text


@dataclass
class RunReporter:
    """Reports each failed run once per operator process and across restarts (see the module docstring)."""

    _reported: dict[str, str] = field(default_factory=dict)  # uid -> the failed run last reported
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def track(self, kind: str, namespace: str, name: str) -> None:
        """Start the object's failed-run series at 0 (see ``RUN_FAILURES``)."""
        RUN_FAILURES.labels(kind, namespace, name)

    def report(self, failed: FailedRun | None, previous: str | None) -> bool:
        """Log ``failed`` and count it, unless its identity is ``previous`` (the failed run the status showed
        before this reconcile) or it was reported already. True when it was reported now."""
        if failed is None:
            return False
        with self._lock:
            if failed.identity in (previous, self._reported.get(failed.uid)):
                self._reported[failed.uid] = failed.identity
                return False
            self._reported[failed.uid] = failed.identity
        RUN_FAILURES.labels(failed.kind, failed.namespace, failed.name).inc()
        ref = {"apiVersion": API_VERSION, "kind": failed.kind, "name": failed.name, "uid": failed.uid,
               "namespace": failed.namespace}  # fmt: skip
        extra = {EVENT_FIELD: RUN_FAILED, "run": failed.run, "reason": failed.reason, "k8s_ref": ref}
        log.warning("%s", failed.line(), extra=extra)
        return True

    def forget(self, kind: str, namespace: str, name: str, uid: str) -> None:
        """A deleted object: drop its memo and its series (a stale-feed alert must not fire for a feed that is
        gone)."""
        with self._lock:
            self._reported.pop(uid, None)
        RUN_FAILURES.remove(kind, namespace, name)  # a series that never existed is no error
        if kind == FEED_KIND:
            FEED_LAST_SUCCESS.remove(namespace, name)
            FEED_WATERMARK.remove(namespace, name)


def heartbeat(interval: float, stop: threading.Event) -> None:
    """Log a ``Heartbeat`` line every ``interval`` seconds until ``stop`` is set (the first one at once)."""
    while not stop.is_set():
        log.info("operator alive", extra={EVENT_FIELD: HEARTBEAT})
        stop.wait(interval)


def record_feed_landing(
    namespace: str, name: str, last_success: str | None, watermark: str | None, suspended: bool = False
) -> None:
    """Set the feed's gauges from its status (RFC 3339 time; a watermark is a date or a time). A suspended
    feed has none: it lands nothing on purpose, and a stale-feed alert must not say otherwise."""
    for gauge, value in ((FEED_LAST_SUCCESS, last_success), (FEED_WATERMARK, watermark)):
        seconds = timestamp(value)
        if suspended:
            gauge.remove(namespace, name)
        elif seconds is not None:
            gauge.labels(namespace, name).set(seconds)


def timestamp(value: str | None) -> float | None:
    """Unix seconds of an RFC 3339 time or an ISO date (midnight UTC); None for nothing or nonsense."""
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
