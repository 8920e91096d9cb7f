"""kopf handlers for MarketStream: they only route to :class:`StreamReconciler` and translate its outcome."""

from __future__ import annotations

from typing import Any

import kopf

from anthill.controller.filters import not_paused, paused
from anthill.controller.marketfeed import reconcile_runner, refresh_owner
from anthill.marketstream.desired import STREAM_LABEL, STREAM_NAME_ANNOTATION
from anthill.marketstream.reconcile import PLURAL, StreamReconciler
from anthill.settings import OperatorSettings
from anthill_api.common import GROUP, VERSION

KIND = "MarketStream"


def register(
    registry: kopf.OperatorRegistry, reconciler: StreamReconciler, settings: OperatorSettings
) -> None:
    """Attach the MarketStream handlers to ``registry``."""
    run = reconcile_runner(KIND, reconciler.reconcile, settings)

    @kopf.on.resume(GROUP, VERSION, PLURAL, id="reconcile", when=not_paused, registry=registry)
    @kopf.on.create(GROUP, VERSION, PLURAL, id="reconcile", when=not_paused, registry=registry)
    @kopf.on.update(GROUP, VERSION, PLURAL, id="reconcile", when=not_paused, registry=registry)
    def reconcile_stream(body: kopf.Body, reason: str, **_: Any) -> None:
        run(body, str(reason))

    # Drift correction, and the pod's newest report into status.statistics.
    @kopf.timer(
        GROUP,
        VERSION,
        PLURAL,
        id="drift",
        interval=settings.drift_interval,
        when=not_paused,
        initial_delay=settings.drift_interval,
        registry=registry,
    )
    def correct_drift(body: kopf.Body, **_: Any) -> None:
        run(body, "timer")

    @kopf.on.resume(GROUP, VERSION, PLURAL, id="paused", when=paused, registry=registry)
    @kopf.on.update(GROUP, VERSION, PLURAL, id="paused", when=paused, registry=registry)
    def report_paused(body: kopf.Body, **_: Any) -> None:
        reconciler.mark_paused(dict(body))

    @kopf.on.event(
        "apps",
        "v1",
        "deployments",
        id="deployment-event",
        labels={STREAM_LABEL: kopf.PRESENT},
        registry=registry,
    )
    def deployment_changed(
        labels: kopf.Labels, annotations: kopf.Annotations, namespace: str | None, **_: Any
    ) -> None:
        """The Deployment was edited or deleted, or its pod came up or went: refresh the stream."""
        if namespace is None:
            return
        name = annotations.get(STREAM_NAME_ANNOTATION) or labels[STREAM_LABEL]
        refresh_owner(KIND, reconciler.reconcile_by_name, namespace, name)
