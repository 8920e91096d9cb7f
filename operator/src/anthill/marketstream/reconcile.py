"""One reconcile path for a MarketStream: parse, build desired, observe, create/replace, write status.

Create, update, resume, the status timer and events from the owned Deployment all end here. Children are
written only when they differ from what is desired; the status changes as the pod reports, so a running
stream's status is written about once per timer interval (streams are few; feeds are the many).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import ValidationError

from anthill import conditions as cond
from anthill.kube import Store
from anthill.marketstream.desired import (
    CONTAINER,
    Stream,
    child_name,
    desired_configmap,
    desired_deployment,
    owner_reference,
    stream_selector,
)
from anthill.marketstream.observe import latest_report, readiness
from anthill.owned import OwnerReconciler, Result, Turns, actionable, ensure_owned
from anthill.settings import OperatorSettings
from anthill_api.errors import describe_validation_error
from anthill_api.lake import prefix_violation
from anthill_api.marketstream import MarketStreamSpec

log = logging.getLogger(__name__)
PLURAL = "marketstreams"
STATUS_KEYS = ("observedGeneration", "conditions", "deploymentName", "statistics")
LOG_LINES = 200  # the newest report is among them: the process writes one per flush interval at least


def newest_running_pod(pods: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The stream's pod that runs, the newest first (a Recreate rollout may briefly list the old one)."""
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
    return max(running, key=lambda p: str(p["metadata"].get("creationTimestamp") or ""), default=None)


@dataclass
class StreamReconciler(OwnerReconciler):
    """Reconciles MarketStreams; one instance per operator process."""

    plural: ClassVar[str] = PLURAL
    status_keys: ClassVar[tuple[str, ...]] = STATUS_KEYS
    child: ClassVar[str] = "Deployment"

    store: Store
    settings: OperatorSettings
    clock: Callable[[], datetime.datetime] = field(default=lambda: datetime.datetime.now(datetime.UTC))
    turns: Turns = field(default_factory=Turns)

    def reconcile(self, body: dict[str, Any]) -> Result:
        """Bring ``body``'s ConfigMap and Deployment in line with its spec and write its status.

        Raises as :meth:`anthill.marketfeed.reconcile.Reconciler.reconcile` does, for the same causes.
        """
        return self.turns.run(body, self._reconcile, self.store.get_stream)

    def reconcile_by_name(self, namespace: str, name: str) -> Result | None:
        """Re-read the stream and reconcile it (for events on its Deployment). None if gone or paused."""
        body = self.store.get_stream(namespace, name)
        if body is None or not actionable(body):
            return None
        return self.reconcile(body)

    def _reconcile(self, body: dict[str, Any]) -> Result:
        meta = body["metadata"]
        generation = meta.get("generation")
        try:
            spec = MarketStreamSpec.model_validate(body.get("spec") or {})
        except ValidationError as exc:
            return self._not_ready(body, cond.INVALID_SPEC, describe_validation_error(exc))
        stream = Stream(meta["name"], meta["namespace"], spec, meta["uid"], generation)
        outside = prefix_violation(
            self.settings.lake_prefix, stream.namespace, "spec.destination.uri", spec.destination.uri
        )
        if outside is not None:
            # Streaming outside the tenant's lake must stop even if it ran before the prefix was set.
            writes = self._apply_children(stream, suspend=True)[0] if self._deployment(stream) else 0
            result = self._not_ready(body, cond.INVALID_SPEC, f"{outside}; no stream pod runs until it is")
            result.writes += writes
            return result
        self._require_key_secret(body, stream.namespace, spec.api_key_secret_ref)
        applied = self._applied(body, lambda: self._apply_children(stream, suspend=spec.suspend), "stream")
        if isinstance(applied, Result):
            return applied
        writes, pods = applied
        status: dict[str, Any] = {"observedGeneration": generation, "deploymentName": child_name(stream.name)}
        if spec.suspend:
            ready, reason, message = True, cond.AVAILABLE, "suspended: no stream pod runs"
        else:
            pod = newest_running_pod(pods)
            text = self.store.pod_log_tail(stream.namespace, pod["metadata"]["name"], CONTAINER, LOG_LINES) \
                if pod else None  # fmt: skip
            report = latest_report(text)
            if report is not None:
                status["statistics"] = report.statistics
            ready, reason, message = readiness(report, spec.flush.interval_seconds, self.clock())
        updates = [
            cond.condition(cond.READY, ready, reason, message, generation),
            cond.condition(cond.SYNCED, True, cond.RECONCILE_SUCCESS, "", generation),
        ]
        writes += self._write_status(body, status, updates)
        return Result(reason, writes)

    def _deployment(self, stream: Stream) -> dict[str, Any] | None:
        return self.store.get_deployment(stream.namespace, child_name(stream.name))

    def _apply_children(self, stream: Stream, suspend: bool) -> tuple[int, list[dict[str, Any]]]:
        """Create or replace the ConfigMap and the Deployment (scaled to zero with ``suspend``); the writes
        made and the stream's pods."""
        deployment = desired_deployment(stream, self.settings)
        if suspend:
            deployment["spec"]["replicas"] = 0
        writes = 0
        for desired, get, create, replace in (
            (desired_configmap(stream), self.store.get_configmap, self.store.create_configmap,
             self.store.replace_configmap),
            (deployment, self.store.get_deployment, self.store.create_deployment,
             self.store.replace_deployment),
        ):  # fmt: skip
            writes += ensure_owned(desired, owner_reference(stream), get, create, replace)[0]
        pods = [] if suspend else self.store.list_pods(stream.namespace, stream_selector(stream.name))
        return writes, pods
