"""kopf handlers for MarketStream: they only route to :class:`StreamReconciler` and translate its outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kopf

from anthill.controller.owned import refresh_owner, register_owner
from anthill.marketstream.desired import STREAM_LABEL, STREAM_NAME_ANNOTATION
from anthill.marketstream.reconcile import PLURAL, StreamReconciler
from anthill.settings import OperatorSettings

KIND = "MarketStream"


def register(
    registry: kopf.OperatorRegistry,
    reconciler: StreamReconciler,
    settings: OperatorSettings,
    active: Callable[[], bool],
) -> None:
    """Attach the MarketStream handlers to ``registry``."""
    # The drift sweep also brings the pod's newest report into status.statistics.
    register_owner(registry, KIND, PLURAL, reconciler, settings, active)

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
