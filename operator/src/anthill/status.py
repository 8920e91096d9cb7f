"""Writing a resource's status subresource: only when it changed, so an idle reconcile costs no write."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from anthill import conditions as cond
from anthill.kube import Store

log = logging.getLogger(__name__)


def merge_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) that turns ``old`` into ``new``: a merge patch merges objects key by key,
    so a field ``new`` leaves out, at any depth, must be sent as null to be removed. Without that, a run's
    ``lastRun`` would keep the ``resultState`` of the run before it while it is still running."""
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            patch[key] = merge_patch(before, value)
        else:
            patch[key] = value
    return patch


def write_status(
    store: Store,
    plural: str,
    body: dict[str, Any],
    status: dict[str, Any],
    updates: list[dict[str, Any]],
    now: datetime.datetime,
    keys: tuple[str, ...],
    keep_others: bool = False,
) -> int:
    """Patch ``body``'s status to ``status`` plus ``updates`` merged into its conditions; the writes made (0 or 1).

    ``keys`` are the status fields this kind owns: those missing from the new status are removed, unless
    ``keep_others``. ``body["status"]`` is updated to what was written, so later calls in the same reconcile
    compare against it.
    """
    current = body.get("status") or {}
    merged = cond.merge_conditions(current.get("conditions") or [], updates, now)
    new = {
        **({k: v for k, v in current.items() if k in keys} if keep_others else {}),
        **status,
        "conditions": merged,
    }
    old = {k: v for k, v in current.items() if k in keys}
    if new == old:
        return 0
    meta = body["metadata"]
    store.patch_status(plural, meta["namespace"], meta["name"], merge_patch(old, new))
    body["status"] = new
    log.debug("status of %s %s/%s: %s", plural, meta["namespace"], meta["name"],
              sorted(k for k in new if new[k] != old.get(k)))  # fmt: skip
    return 1
