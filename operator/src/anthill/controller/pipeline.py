"""kopf handlers for MedallionPipeline and DatabricksConnection: they route to the reconcilers, post their
events, and turn :class:`RetryLaterError` into kopf's retry with the delay the failure asked for."""

from __future__ import annotations

import logging
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from anthill.controller.filters import landed, not_paused, paused
from anthill.controller.metrics import observe_reconcile
from anthill.pipeline.connection_reconcile import ConnectionReconciler
from anthill.pipeline.connections import CONNECTIONS, PIPELINES
from anthill.pipeline.kubernetes import PIPELINE_LABEL, PIPELINE_NAME_ANNOTATION
from anthill.pipeline.reconcile import PipelineReconciler
from anthill.pipeline.results import Result, RetryLaterError
from anthill.settings import OperatorSettings
from anthill_api.common import GROUP, VERSION

PIPELINE_KIND = "MedallionPipeline"
CONNECTION_KIND = "DatabricksConnection"
log = logging.getLogger(__name__)


def backoff(retry: int, most: float) -> float:
    """Seconds before retry number ``retry`` (0-based) after a failure that named no delay: 1, 2, 4 ... ``most``."""
    return float(min(2.0 ** min(retry, 16), most))


def _temporary(
    exc: RetryLaterError | ApiException | HTTPError, retry: int, most: float
) -> kopf.TemporaryError:
    """kopf's retry for ``exc``: after the delay it asked for, else after the backoff for attempt ``retry``."""
    delay = exc.delay if isinstance(exc, RetryLaterError) else None
    return kopf.TemporaryError(str(exc), delay=delay if delay is not None else backoff(retry, most))


def _reason(exc: RetryLaterError | ApiException | HTTPError) -> str:
    # ApiException/HTTPError: the API server itself failing (restarting, overloaded), retried like the rest
    return exc.reason if isinstance(exc, RetryLaterError) else "KubernetesApiError"


def register(
    registry: kopf.OperatorRegistry,
    pipelines: PipelineReconciler,
    connections: ConnectionReconciler,
    settings: OperatorSettings,
) -> None:
    """Attach the MedallionPipeline and DatabricksConnection handlers to ``registry``."""

    def run(kind: str, reconcile: Any, body: kopf.Body, trigger: str, retry: int) -> None:
        with observe_reconcile(kind, trigger) as outcome:
            try:
                result: Result = reconcile(dict(body))
            except (RetryLaterError, ApiException, HTTPError) as exc:
                outcome.reason = _reason(exc)
                if trigger == "timer":
                    log.info("%s %s: %s", kind, body.get("metadata", {}).get("name"), exc)
                    return  # the next tick tries again (and waits out any Retry-After first)
                raise _temporary(exc, retry, settings.backoff_max) from exc
            outcome.reason = result.reason
            outcome.writes = result.writes
            for event in result.events:
                pipelines.store.post_event(dict(body), event.type, event.reason, event.message)

    # -- MedallionPipeline --------------------------------------------------------------------------------

    @kopf.on.resume(GROUP, VERSION, PIPELINES, id="reconcile", when=not_paused, registry=registry)
    @kopf.on.create(GROUP, VERSION, PIPELINES, id="reconcile", when=not_paused, registry=registry)
    @kopf.on.update(GROUP, VERSION, PIPELINES, id="reconcile", when=not_paused, registry=registry)
    def reconcile_pipeline(body: kopf.Body, reason: str, retry: int, **_: Any) -> None:
        run(PIPELINE_KIND, pipelines.reconcile, body, str(reason), retry)

    @kopf.timer(
        GROUP,
        VERSION,
        PIPELINES,
        id="poll",
        interval=settings.drift_interval,
        initial_delay=settings.drift_interval,
        when=not_paused,
        registry=registry,
    )
    def poll_pipeline(body: kopf.Body, **_: Any) -> None:
        """Drift, deleted jobs and the last run are observed on this tick."""
        run(PIPELINE_KIND, pipelines.reconcile, body, "timer", 0)

    @kopf.on.resume(GROUP, VERSION, PIPELINES, id="paused", when=paused, registry=registry)
    @kopf.on.update(GROUP, VERSION, PIPELINES, id="paused", when=paused, registry=registry)
    def report_pipeline_paused(body: kopf.Body, **_: Any) -> None:
        pipelines.mark_paused(dict(body))

    # Not filtered by the paused annotation: a paused (or suspended) pipeline can still be deleted.
    @kopf.on.delete(GROUP, VERSION, PIPELINES, id="delete", registry=registry)
    def delete_pipeline(body: kopf.Body, retry: int, **_: Any) -> None:
        with observe_reconcile(PIPELINE_KIND, "delete") as outcome:
            try:
                result = pipelines.delete(dict(body))
            except (RetryLaterError, ApiException, HTTPError) as exc:
                outcome.reason = _reason(exc)
                raise _temporary(exc, retry, settings.backoff_max) from exc
            outcome.reason = result.reason

    @kopf.on.event(
        "batch",
        "v1",
        "cronjobs",
        id="pipeline-cronjob",
        labels={PIPELINE_LABEL: kopf.PRESENT},
        registry=registry,
    )
    @kopf.on.event(
        "batch", "v1", "jobs", id="pipeline-job", labels={PIPELINE_LABEL: kopf.PRESENT}, registry=registry
    )
    def pipeline_child_changed(
        labels: kopf.Labels, annotations: kopf.Annotations, namespace: str | None, **_: Any
    ) -> None:
        """The owned CronJob was edited or deleted, or a run progressed: refresh the pipeline."""
        if namespace is None:
            return
        # The label is hashed for long names; children made before the annotation existed have short names.
        name = annotations.get(PIPELINE_NAME_ANNOTATION) or labels[PIPELINE_LABEL]
        with observe_reconcile(PIPELINE_KIND, "child-event") as outcome:
            try:
                result = pipelines.reconcile_by_name(namespace, name)
            except (RetryLaterError, ApiException, HTTPError) as exc:
                outcome.reason = _reason(exc)
                log.info("pipeline %s/%s not refreshed: %s", namespace, name, exc)
                return
            outcome.reason = result.reason
            outcome.writes = result.writes

    _register_feed_events(registry, pipelines)

    # -- DatabricksConnection -----------------------------------------------------------------------------

    @kopf.on.resume(GROUP, VERSION, CONNECTIONS, id="check", registry=registry)
    @kopf.on.create(GROUP, VERSION, CONNECTIONS, id="check", registry=registry)
    @kopf.on.update(GROUP, VERSION, CONNECTIONS, id="check", registry=registry)
    def check_connection(body: kopf.Body, reason: str, retry: int, **_: Any) -> None:
        run(CONNECTION_KIND, connections.reconcile, body, str(reason), retry)

    @kopf.timer(
        GROUP,
        VERSION,
        CONNECTIONS,
        id="recheck",
        interval=settings.connection_check_interval,
        initial_delay=settings.connection_check_interval,
        registry=registry,
    )
    def recheck_connection(body: kopf.Body, **_: Any) -> None:
        run(CONNECTION_KIND, connections.reconcile, body, "timer", 0)

    # Not optional: the finalizer it brings holds a connection while pipelines still name it, so that a
    # pipeline being deleted (with its namespace, say) can still reach Databricks to delete its job.
    @kopf.on.delete(GROUP, VERSION, CONNECTIONS, id="release", registry=registry)
    def release_connection(body: kopf.Body, retry: int, **_: Any) -> None:
        run(CONNECTION_KIND, connections.release, body, "delete", retry)


def _register_feed_events(registry: kopf.OperatorRegistry, pipelines: PipelineReconciler) -> None:
    @kopf.on.event(GROUP, VERSION, "marketfeeds", id="pipeline-feed", when=landed, registry=registry)
    def feed_changed(namespace: str | None, name: str | None, **_: Any) -> None:
        """A feed landed data (its status.watermark moved): pipelines run on trigger.feedsLanded look now, not
        at their next poll. Events without a watermark cannot complete a set and are ignored."""
        if namespace is None or name is None:
            return
        with observe_reconcile(PIPELINE_KIND, "feed-event") as outcome:
            try:
                for pipeline, result in pipelines.feed_landed(namespace, name):
                    outcome.reason = result.reason
                    outcome.writes += result.writes
                    for event in result.events:
                        pipelines.store.post_event(pipeline, event.type, event.reason, event.message)
            except (RetryLaterError, ApiException, HTTPError) as exc:
                outcome.reason = _reason(exc)
                log.info("pipelines of feed %s/%s not refreshed: %s", namespace, name, exc)
