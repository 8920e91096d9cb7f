"""Keeping an owned Kubernetes object (a CronJob, a ConfigMap) in line with what its owner wants."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from anthill.marketfeed.desired import is_up_to_date

log = logging.getLogger(__name__)
Get = Callable[[str, str], dict[str, Any] | None]
Write = Callable[[dict[str, Any]], dict[str, Any]]


def ensure_child(
    desired: dict[str, Any], get: Get, create: Write, replace: Write
) -> tuple[int, dict[str, Any]]:
    """Create ``desired``, or replace the object when it lacks something ``desired`` sets; (writes, the object as
    the server holds it). A replace carries the observed resourceVersion, so a concurrent edit is a 409."""
    meta = desired["metadata"]
    observed = get(meta["namespace"], meta["name"])
    if observed is None:
        stored = create(desired)
        log.info("created %s %s/%s", desired["kind"], meta["namespace"], meta["name"])
        return 1, stored
    if is_up_to_date(desired, observed):
        return 0, observed
    meta["resourceVersion"] = observed["metadata"]["resourceVersion"]
    stored = replace(desired)
    log.info("updated %s %s/%s to its owner's spec", desired["kind"], meta["namespace"], meta["name"])
    return 1, stored
