"""Ready/Synced conditions (metav1.Condition), kept pure: the clock is an argument."""

from __future__ import annotations

import datetime
from typing import Any

READY = "Ready"
SYNCED = "Synced"

# Reasons, as Crossplane and the platform's docs name them.
AVAILABLE = "Available"
CREATING = "Creating"
INVALID_SPEC = "InvalidSpec"
SECRET_NOT_FOUND = "SecretNotFound"  # noqa: S105 - a condition reason, not a secret
INVALID_SECRET = "InvalidSecret"  # noqa: S105 - a condition reason, not a secret
RECONCILE_SUCCESS = "ReconcileSuccess"
RECONCILE_ERROR = "ReconcileError"
RECONCILE_PAUSED = "ReconcilePaused"
CONNECTION_NOT_FOUND = "ConnectionNotFound"
UNAUTHORIZED = "Unauthorized"
THROTTLED = "Throttled"
JOB_NOT_FOUND = "JobNotFound"
EXTERNAL_NOT_OWNED = "ExternalNotOwned"
FEED_NOT_FOUND = "FeedNotFound"
WHEEL_NOT_DEPLOYED = "WheelNotDeployed"
DELETING = "Deleting"
CHILD_CONFLICT = "ChildConflict"


def condition(type_: str, status: bool, reason: str, message: str, generation: int | None) -> dict[str, Any]:
    """A condition without its transition time (set by :func:`merge_conditions`)."""
    entry: dict[str, Any] = {
        "type": type_,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
    }
    if generation is not None:
        entry["observedGeneration"] = generation
    return entry


def not_ready(reason: str, message: str, generation: int | None) -> list[dict[str, Any]]:
    """Ready=False and Synced=False for the same ``reason``: what stops a resource also stops its sync."""
    return [
        condition(READY, False, reason, message, generation),
        condition(SYNCED, False, reason, message, generation),
    ]


def merge_conditions(
    current: list[dict[str, Any]], updates: list[dict[str, Any]], now: datetime.datetime
) -> list[dict[str, Any]]:
    """``current`` with ``updates`` applied; lastTransitionTime moves only when a status changes.

    Order is stable (by type) so an unchanged set renders identically and costs no API write.
    """
    by_type = {c["type"]: c for c in current}
    stamp = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for update in updates:
        previous = by_type.get(update["type"])
        changed = previous is None or previous.get("status") != update["status"]
        transition = stamp if changed or previous is None else previous.get("lastTransitionTime", stamp)
        by_type[update["type"]] = {**update, "lastTransitionTime": transition}
    return [by_type[key] for key in sorted(by_type)]


def find(conditions: list[dict[str, Any]], type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == type_), None)
