"""kopf handlers for MarketFeed: they only route to :class:`Reconciler` and translate its outcome for kopf."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kopf

from anthill.controller.filters import deleted
from anthill.controller.owned import refresh_owner, register_owner
from anthill.marketfeed.desired import FEED_LABEL, FEED_NAME_ANNOTATION
from anthill.marketfeed.reconcile import Reconciler
from anthill.settings import OperatorSettings
from anthill_api.common import GROUP, VERSION

KIND = "MarketFeed"


def register(
    registry: kopf.OperatorRegistry,
    reconciler: Reconciler,
    settings: OperatorSettings,
    active: Callable[[], bool],
) -> None:
    """Attach the MarketFeed handlers to ``registry``."""

    register_owner(registry, KIND, "marketfeeds", reconciler, settings, active)

    @kopf.on.event(GROUP, VERSION, "marketfeeds", id="forget", when=deleted, registry=registry)
    def feed_deleted(body: kopf.Body, **_: Any) -> None:
        """A deleted feed's metric series go with it (no on.delete: it would make kopf's finalizer wait for it)."""
        meta = body.get("metadata") or {}
        reconciler.forget(meta.get("namespace", ""), meta.get("name", ""), meta.get("uid", ""))

    @kopf.on.event(
        "batch", "v1", "cronjobs", id="cronjob-event", labels={FEED_LABEL: kopf.PRESENT}, registry=registry
    )
    @kopf.on.event(
        "batch", "v1", "jobs", id="job-event", labels={FEED_LABEL: kopf.PRESENT}, registry=registry
    )
    def child_changed(
        labels: kopf.Labels,
        annotations: kopf.Annotations,
        namespace: str | None,
        meta: kopf.Meta,
        resource: kopf.Resource,
        type: str | None,  # kopf passes the event type by this name
        **_: Any,
    ) -> None:
        """A CronJob was edited or deleted, or one of its Jobs progressed: refresh the feed. The event of a
        CronJob the operator itself just wrote (and so already observed) changes nothing and is skipped."""
        if namespace is None:
            return
        if (
            resource.plural == "cronjobs"
            and type != "DELETED"
            and reconciler.already_seen(namespace, str(meta.get("name")), meta.get("resourceVersion"))
        ):
            return
        # The label is hashed for long names; children made before the annotation existed have short names.
        refresh_owner(
            KIND,
            reconciler.reconcile_by_name,
            namespace,
            annotations.get(FEED_NAME_ANNOTATION) or labels[FEED_LABEL],
        )
