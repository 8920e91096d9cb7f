"""What the reconcilers of kinds with Kubernetes children (MarketFeed, MarketStream) share: status writes,
and the outcomes any of their reconciles can reach (an unreadable API-key Secret, a child the API server
refuses or someone else holds, an outage of the API server)."""

from __future__ import annotations

import datetime
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from kubernetes.client.exceptions import ApiException

from anthill import conditions as cond
from anthill.children import ChildConflictError, ChildRejectedError, api_message, ensure_child
from anthill.kube import CONFLICT, Store
from anthill.status import write_status
from anthill_api.common import SecretKeyRef

T = TypeVar("T")
PAUSED_ANNOTATION = "anthill.io/paused"
SUPERSEDED = "Superseded"  # a reconcile's outcome when its object is gone or paused by the time its turn came
Read = Callable[[str, str], dict[str, Any] | None]
Write = Callable[[dict[str, Any]], dict[str, Any]]


def is_paused(meta: dict[str, Any]) -> bool:
    return str((meta.get("annotations") or {}).get(PAUSED_ANNOTATION, "")).lower() == "true"


class SecretMissingError(Exception):
    """The API-key Secret or its key is not readable (yet); retry later."""


class UpstreamError(Exception):
    """The API server refused or failed a read or write (recorded as Synced=False/ReconcileError)."""


class ConflictError(Exception):
    """Someone else changed a child between our read and our write; retry soon."""


@dataclass
class Result:
    """What one reconcile did: its Ready reason and how many API writes it made."""

    reason: str
    writes: int = 0


@dataclass
class Turns:
    """One reconcile of an object at a time, and never one from a body older than the spec a reconcile before it
    saw. A drift pass lists a page of objects before it checks them: when an edit's handler reconciles the new
    spec in between, the pass's body is stale and would put the old spec back, so the object is read again."""

    _locks: defaultdict[tuple[str, str], threading.Lock] = field(
        default_factory=lambda: defaultdict(threading.Lock)
    )
    _generations: dict[str, int] = field(default_factory=dict)  # by uid: the newest generation reconciled

    def run(self, body: dict[str, Any], reconcile: Callable[[dict[str, Any]], Result], read: Read) -> Result:
        meta = body["metadata"]
        namespace, name, uid = meta["namespace"], meta["name"], meta.get("uid", "")
        with self._locks[(namespace, name)]:
            newest = self._generations.get(uid, 0)
            if _generation(body) < newest:
                fresh = read(namespace, name)
                if fresh is None or fresh["metadata"].get("uid") != uid or not actionable(fresh):
                    return Result(SUPERSEDED)
                body = fresh
            result = reconcile(body)
            self._generations[uid] = max(_generation(body), newest)
            return result

    def forget(self, uid: str) -> None:
        self._generations.pop(uid, None)


def _generation(body: dict[str, Any]) -> int:
    return int(body["metadata"].get("generation") or 0)


def actionable(body: dict[str, Any]) -> bool:
    """Neither paused nor being deleted."""
    meta = body["metadata"]
    return not is_paused(meta) and not meta.get("deletionTimestamp")


class OwnerReconciler:
    """Mixed into a reconciler dataclass that has ``store`` and ``clock``; ``plural`` and ``status_keys`` name
    its kind and the status fields it owns, ``child`` what it makes (for messages)."""

    store: Store
    clock: Callable[[], datetime.datetime]
    plural: ClassVar[str]
    status_keys: ClassVar[tuple[str, ...]]
    child: ClassVar[str]

    def _write_status(self, body: dict[str, Any], status: dict[str, Any], updates: list[dict[str, Any]],
                      keep_others: bool = False) -> int:  # fmt: skip
        return write_status(
            self.store, self.plural, body, status, updates, self.clock(), self.status_keys, keep_others
        )

    def mark_paused(self, body: dict[str, Any]) -> Result:
        """Synced=False, ``ReconcilePaused``: the annotation stops every write to the children."""
        generation = body["metadata"].get("generation")
        message = f"reconciliation is paused by the {PAUSED_ANNOTATION} annotation"
        update = [cond.condition(cond.SYNCED, False, cond.RECONCILE_PAUSED, message, generation)]
        return Result(cond.RECONCILE_PAUSED, self._write_status(body, {}, update, keep_others=True))

    def _not_ready(self, body: dict[str, Any], reason: str, message: str) -> Result:
        """Ready=False and Synced=False with ``reason``, other status kept."""
        generation = body["metadata"].get("generation")
        updates = cond.not_ready(reason, message, generation)
        status = {"observedGeneration": generation}
        return Result(reason, self._write_status(body, status, updates, keep_others=True))

    def _require_key_secret(self, body: dict[str, Any], namespace: str, ref: SecretKeyRef) -> None:
        """Record ``SecretNotFound`` and raise :class:`SecretMissingError` unless the operator can read the
        key Secret with its key. One message whatever the cause: status must not tell a reader whether a
        Secret exists."""
        if self.store.check_secret(namespace, ref.name, ref.key):
            return
        message = (
            f"Secret {namespace}/{ref.name} or its key {ref.key!r} is not readable: check that the Secret exists "
            f"with that key and that the operator may read Secrets in {namespace} (a RoleBinding to "
            f"anthill-operator-secrets); the {self.child} is created once it is"
        )
        self._not_ready(body, cond.SECRET_NOT_FOUND, message)
        raise SecretMissingError(message)

    def _applied(self, body: dict[str, Any], apply: Callable[[], T], owner: str) -> T | Result:
        """``apply()``'s result; or, when the API server refused a child as invalid, the ``InvalidSpec``
        result (not retried). A child someone else holds records ``ChildConflict`` and raises; an API failure
        records ``ReconcileError`` and raises :class:`UpstreamError`."""
        try:
            return apply()
        except ChildRejectedError as exc:
            return self._not_ready(body, cond.INVALID_SPEC, str(exc))
        except ChildConflictError as exc:
            message = f"{exc}; rename the {owner} or remove that object"
            self._not_ready(body, cond.CHILD_CONFLICT, message)
            raise ChildConflictError(message) from exc
        except ApiException as exc:
            message = f"{exc.status} {exc.reason}: {api_message(exc)}"
            generation = body["metadata"].get("generation")
            update = [cond.condition(cond.SYNCED, False, cond.RECONCILE_ERROR, message, generation)]
            self._write_status(body, {}, update, keep_others=True)
            raise UpstreamError(message) from exc


def ensure_owned(desired: dict[str, Any], owner: dict[str, Any], get: Read, create: Write,
                 replace: Write) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """:func:`anthill.children.ensure_child` of ``desired`` owned by ``owner`` (a controller reference); a
    409 (someone wrote the child between our read and our write) raises :class:`ConflictError`."""
    desired["metadata"]["ownerReferences"] = [owner]
    try:
        return ensure_child(desired, get, create, replace)
    except ApiException as exc:
        if exc.status == CONFLICT:
            raise ConflictError(
                f"{desired['kind']} {desired['metadata']['name']} changed concurrently"
            ) from exc
        raise
