"""Keeping an owned Kubernetes object (a CronJob, a ConfigMap) in line with what its owner wants."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException

from anthill.marketfeed.desired import is_up_to_date

log = logging.getLogger(__name__)
Get = Callable[[str, str], dict[str, Any] | None]
Write = Callable[[dict[str, Any]], dict[str, Any]]
UNPROCESSABLE = 422


class ChildConflictError(Exception):
    """An object already holds the child's name and is not controlled by this owner: it is left untouched."""


class ChildRejectedError(Exception):
    """The API server refused the child as invalid (422): only a spec change can help, so it is not retried."""


def controller_uid(obj: dict[str, Any]) -> str | None:
    """The uid in ``obj``'s controller ownerReference, if it has one."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid") or "") or None
    return None


def ensure_child(
    desired: dict[str, Any], get: Get, create: Write, replace: Write
) -> tuple[int, dict[str, Any]]:
    """Create ``desired``, or replace the object when it lacks something ``desired`` sets; (writes, the object as
    the server holds it). A replace carries the observed resourceVersion, so a concurrent edit is a 409.

    ``desired`` names its owner in a controller ownerReference. An existing object whose controller is anyone
    else (or no one) raises :class:`ChildConflictError` and is neither adopted nor written: it may be someone
    else's, and adopting it would also let garbage collection delete it with the owner. A 422 raises
    :class:`ChildRejectedError` with the API server's message.
    """
    meta = desired["metadata"]
    where = f"{desired['kind']} {meta['namespace']}/{meta['name']}"
    if controller_uid(desired) is None:
        raise ValueError(f"{where} names no controller: an ownerless child would match any ownerless object")
    observed = get(meta["namespace"], meta["name"])
    if observed is not None and controller_uid(observed) != controller_uid(desired):
        raise ChildConflictError(f"{where} already exists and is not controlled by this resource")
    try:
        if observed is None:
            stored = create(desired)
            log.info("created %s", where)
            return 1, stored
        if is_up_to_date(desired, observed):
            return 0, observed
        meta["resourceVersion"] = observed["metadata"]["resourceVersion"]
        stored = replace(desired)
    except ApiException as exc:
        if exc.status == UNPROCESSABLE:
            raise ChildRejectedError(f"the API server refused {where}: {api_message(exc)}") from exc
        raise
    log.info("updated %s to its owner's spec", where)
    return 1, stored


def api_message(exc: ApiException) -> str:
    """The API server's own message from an error body, else the raw body (shortened)."""
    try:
        parsed = json.loads(exc.body or "")
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("message"):
        return str(parsed["message"])[:500]
    return str(exc.body or "")[:500]


def suspend_owned_cronjob(get: Get, replace: Write, namespace: str, name: str, owner_uid: str) -> int | None:
    """Suspend CronJob ``name`` if ``owner_uid`` controls it: the writes made (0 when it already was), or None
    when there is no such CronJob of this owner.

    For a CronJob that must stop running without being deleted (the operator has no delete verb): one left
    under an earlier name, or one whose owner the platform's policy now refuses."""
    cronjob = get(namespace, name)
    if cronjob is None or controller_uid(cronjob) != owner_uid:
        return None
    if cronjob["spec"].get("suspend"):
        return 0
    cronjob["spec"]["suspend"] = True
    replace(cronjob)
    return 1
