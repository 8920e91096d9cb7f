"""kopf handlers for MarketFeed: they only route to :class:`Reconciler` and translate its outcome for kopf."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from anthill.children import ChildConflictError
from anthill.controller.filters import not_paused, paused
from anthill.controller.metrics import observe_reconcile
from anthill.marketfeed.desired import FEED_LABEL, FEED_NAME_ANNOTATION
from anthill.marketfeed.reconcile import Reconciler
from anthill.owned import ConflictError, Result, SecretMissingError, UpstreamError
from anthill.settings import OperatorSettings
from anthill_api.common import GROUP, VERSION

KIND = "MarketFeed"
log = logging.getLogger(__name__)


def reconcile_runner(
    kind: str, reconcile: Callable[[dict[str, Any]], Result], settings: OperatorSettings
) -> Callable[[kopf.Body, str], None]:
    """``run(body, trigger)``: reconcile, count the outcome, and tell kopf when to retry what can recover
    (a timer tick never raises: the next tick is the retry)."""
    # Recoverable outcomes: the metrics reason, and how soon kopf retries (the drift timer retries anyway).
    retries: dict[type[Exception], tuple[str, float]] = {
        SecretMissingError: ("SecretNotFound", settings.secret_retry),
        ChildConflictError: ("ChildConflict", settings.secret_retry),
        ConflictError: ("Conflict", 1.0),
        UpstreamError: ("ReconcileError", settings.secret_retry),
    }

    def run(body: kopf.Body, trigger: str) -> None:
        with observe_reconcile(kind, trigger) as outcome:
            try:
                result = reconcile(dict(body))
            except (
                SecretMissingError,
                ChildConflictError,
                ConflictError,
                UpstreamError,
                ApiException,
                HTTPError,
            ) as exc:
                # ApiException/HTTPError: a read failed before any write (the API server restarting, say).
                outcome.reason, delay = retries.get(type(exc), ("KubernetesApiError", settings.secret_retry))
                if trigger != "timer":
                    raise kopf.TemporaryError(str(exc), delay=delay) from exc
                return
            outcome.reason = result.reason
            outcome.writes = result.writes

    return run


def refresh_owner(
    kind: str, reconcile_by_name: Callable[[str, str], Result | None], namespace: str, name: str
) -> None:
    """A child changed: reconcile its owner, counting the outcome. A failure is only logged (no retry of an
    event): the owner's own handlers and timer retry it."""
    with observe_reconcile(kind, "child-event") as outcome:
        try:
            result = reconcile_by_name(namespace, name)
        except (SecretMissingError, ChildConflictError, ConflictError, UpstreamError) as exc:
            outcome.reason = type(exc).__name__
            log.info("%s %s/%s not refreshed: %s", kind, namespace, name, exc)
            return
        if result is not None:
            outcome.reason = result.reason
            outcome.writes = result.writes


def register(registry: kopf.OperatorRegistry, reconciler: Reconciler, settings: OperatorSettings) -> None:
    """Attach the MarketFeed handlers to ``registry``."""

    run = reconcile_runner(KIND, reconciler.reconcile, settings)

    @kopf.on.resume(GROUP, VERSION, "marketfeeds", id="reconcile", when=not_paused, registry=registry)
    @kopf.on.create(GROUP, VERSION, "marketfeeds", id="reconcile", when=not_paused, registry=registry)
    @kopf.on.update(GROUP, VERSION, "marketfeeds", id="reconcile", when=not_paused, registry=registry)
    def reconcile_feed(body: kopf.Body, reason: str, **_: Any) -> None:
        run(body, str(reason))

    @kopf.timer(
        GROUP,
        VERSION,
        "marketfeeds",
        id="drift",
        interval=settings.drift_interval,
        when=not_paused,
        initial_delay=settings.drift_interval,
        registry=registry,
    )
    def correct_drift(body: kopf.Body, **_: Any) -> None:
        run(body, "timer")

    @kopf.on.resume(GROUP, VERSION, "marketfeeds", id="paused", when=paused, registry=registry)
    @kopf.on.update(GROUP, VERSION, "marketfeeds", id="paused", when=paused, registry=registry)
    def report_paused(body: kopf.Body, **_: Any) -> None:
        reconciler.mark_paused(dict(body))

    @kopf.on.event(GROUP, VERSION, "marketfeeds", id="forget", registry=registry)
    def feed_event(type: str, body: kopf.Body, **_: Any) -> None:
        """A deleted feed's metric series go with it (the feed has no finalizer, so no on.delete)."""
        if type == "DELETED":
            meta = body.get("metadata") or {}
            reconciler.forget(meta.get("namespace", ""), meta.get("name", ""), meta.get("uid", ""))

    @kopf.on.event(
        "batch", "v1", "cronjobs", id="cronjob-event", labels={FEED_LABEL: kopf.PRESENT}, registry=registry
    )
    @kopf.on.event(
        "batch", "v1", "jobs", id="job-event", labels={FEED_LABEL: kopf.PRESENT}, registry=registry
    )
    def child_changed(
        labels: kopf.Labels, annotations: kopf.Annotations, namespace: str | None, **_: Any
    ) -> None:
        """A CronJob was edited or deleted, or one of its Jobs progressed: refresh the feed."""
        if namespace is None:
            return
        # The label is hashed for long names; children made before the annotation existed have short names.
        refresh_owner(
            KIND,
            reconciler.reconcile_by_name,
            namespace,
            annotations.get(FEED_NAME_ANNOTATION) or labels[FEED_LABEL],
        )
