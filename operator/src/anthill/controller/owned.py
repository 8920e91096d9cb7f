"""The kopf handlers every kind with Kubernetes children has (MarketFeed, MarketStream): reconcile on create,
update and resume, a drift sweep, the paused annotation, and the refresh of an owner when a child changes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import kopf
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from anthill.children import ChildConflictError
from anthill.controller.filters import not_paused, paused
from anthill.controller.metrics import observe_reconcile
from anthill.controller.sweep import DriftSweep
from anthill.kube import Store
from anthill.owned import ConflictError, Result, SecretMissingError, UpstreamError
from anthill.settings import OperatorSettings
from anthill_api.common import GROUP, VERSION

log = logging.getLogger(__name__)


class Owner(Protocol):
    store: Store

    def reconcile(self, body: dict[str, Any]) -> Result: ...
    def mark_paused(self, body: dict[str, Any]) -> Result: ...


def reconcile_runner(
    kind: str, reconcile: Callable[[dict[str, Any]], Result], settings: OperatorSettings
) -> Callable[[Mapping[str, Any], str], None]:
    """``run(body, trigger)``: reconcile, count the outcome, and tell kopf when to retry what can recover
    (a drift check, trigger "timer", never raises: the next pass is the retry)."""
    # Recoverable outcomes: the metrics reason, and how soon kopf retries (the drift sweep retries anyway).
    retries: dict[type[Exception], tuple[str, float]] = {
        SecretMissingError: ("SecretNotFound", settings.secret_retry),
        ChildConflictError: ("ChildConflict", settings.secret_retry),
        ConflictError: ("Conflict", 1.0),
        UpstreamError: ("ReconcileError", settings.secret_retry),
    }

    def run(body: Mapping[str, Any], trigger: str) -> None:
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


def register_owner(registry: kopf.OperatorRegistry, kind: str, plural: str, reconciler: Owner,
                   settings: OperatorSettings, active: Callable[[], bool]) -> None:  # fmt: skip
    """Reconcile ``plural`` on create, update and resume, and in a drift sweep (every owned object is checked
    and corrected) once kopf has handled the object; report the paused annotation instead of reconciling
    while it is set. The sweep runs from the operator's start-up to its clean-up; ``active`` says whether
    this replica is the one peering lets act."""
    run = reconcile_runner(kind, reconciler.reconcile, settings)

    @kopf.on.resume(GROUP, VERSION, plural, id="reconcile", when=not_paused, registry=registry)
    @kopf.on.create(GROUP, VERSION, plural, id="reconcile", when=not_paused, registry=registry)
    @kopf.on.update(GROUP, VERSION, plural, id="reconcile", when=not_paused, registry=registry)
    def reconcile(body: kopf.Body, reason: str, **_: Any) -> None:
        run(body, str(reason))

    @kopf.on.resume(GROUP, VERSION, plural, id="paused", when=paused, registry=registry)
    @kopf.on.update(GROUP, VERSION, plural, id="paused", when=paused, registry=registry)
    def report_paused(body: kopf.Body, **_: Any) -> None:
        reconciler.mark_paused(dict(body))

    # Not a kopf timer per object: see anthill.controller.sweep. Drift reconciles count as trigger "timer".
    sweep = DriftSweep(reconciler.store, plural, lambda body: run(body, "timer"), settings, active)

    @kopf.on.startup(id=f"{plural}-drift", registry=registry)
    def start_sweep(**_: Any) -> None:
        sweep.start()

    @kopf.on.cleanup(id=f"{plural}-drift", registry=registry)
    def stop_sweep(**_: Any) -> None:
        sweep.stop()
