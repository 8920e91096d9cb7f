"""The drift sweep of a kind with many objects (MarketFeed, MarketStream): every drift interval, one paged LIST of
the kind and a reconcile of each object kopf has handled, in a few threads of its own.

It replaces a kopf timer per object. kopf keeps, for every object with a timer, its whole latest body (with
``managedFields`` and kubectl's last-applied annotation) and a task, a few tens of KiB a feed; and every tick took
one of kopf's workers, so with thousands of feeds a spec edit waited for a worker behind the ticks. The sweep
holds one page at a time and leaves kopf's workers to events.

Like kopf's own processing it runs only in the active replica: a pass is skipped, or stops between pages, while
the peering object lists a live replica of higher priority, or another of the same priority (kopf pauses every
replica then).
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from anthill.controller.filters import handled
from anthill.kube import Store
from anthill.owned import actionable
from anthill.settings import OperatorSettings

log = logging.getLogger(__name__)
PAGE = 100  # objects per LIST request (and the most the sweep holds at once)
STOP_WAIT = 10.0  # seconds the operator's shutdown waits for a pass to end between objects


def peer_alive(peer: dict[str, Any], now: datetime.datetime) -> bool:
    """Whether a replica kopf lists in a peering object has been seen within its lifetime."""
    try:
        seen = datetime.datetime.fromisoformat(str(peer["lastseen"]))
        lifetime = float(peer.get("lifetime", 60))
    except (KeyError, TypeError, ValueError):
        return False
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=datetime.UTC)
    return seen + datetime.timedelta(seconds=lifetime) > now


def outranked(peers: dict[str, Any], priority: int, now: datetime.datetime) -> bool:
    """Whether kopf keeps a replica of ``priority`` paused, given the replicas a peering object lists (itself
    among them once it has joined): a live one of higher priority, or two or more of its own priority."""
    live = [
        int(peer.get("priority", 0))
        for peer in peers.values()
        if isinstance(peer, dict) and peer_alive(peer, now)
    ]
    return any(other > priority for other in live) or live.count(priority) > 1


def active_replica(store: Store, settings: OperatorSettings) -> Callable[[], bool]:
    """``active()``: whether this replica acts (always, standalone); read from the peering objects each call."""

    def active() -> bool:
        if settings.standalone or settings.priority is None:
            return True
        now = datetime.datetime.now(datetime.UTC)
        return not any(
            outranked(store.peers(settings.peering, namespace), settings.priority, now)
            for namespace in settings.scopes
        )

    return active


class DriftSweep:
    """Every ``interval`` seconds, ``check(body)`` for each object of ``plural`` (in the operator's namespaces,
    or cluster-wide) that kopf has handled and that is neither paused nor being deleted. A pass that outlasts the
    interval is followed by the next at once. ``check`` reports its own outcome and raises nothing it expects."""

    def __init__(self, store: Store, plural: str, check: Callable[[dict[str, Any]], None],
                 settings: OperatorSettings, active: Callable[[], bool], page: int = PAGE) -> None:  # fmt: skip
        self.store = store
        self.page = page
        self.plural = plural
        self.check = check
        self.interval = settings.drift_interval
        self.workers = settings.drift_workers
        self.namespaces = settings.scopes
        self.active = active
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"drift-{self.plural}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_WAIT)

    def _loop(self) -> None:
        with ThreadPoolExecutor(self.workers, thread_name_prefix=f"drift-{self.plural}") as pool:
            due = time.monotonic() + self.interval
            while not self._stop.wait(max(0.0, due - time.monotonic())):
                started = time.monotonic()
                try:
                    self.sweep(pool)
                except (ApiException, HTTPError) as exc:
                    # The API server restarting, say, or a page token that expired: the next pass starts over.
                    log.warning("drift pass over %s stopped: %s", self.plural, exc)
                due = started + self.interval

    def sweep(self, pool: ThreadPoolExecutor) -> int:
        """One pass; how many objects it checked."""
        checked = 0
        for namespace in self.namespaces:
            token = ""
            while True:
                if self._stop.is_set() or not self.active():
                    return checked
                items, token = self.store.list_page(self.plural, namespace, self.page, token)
                due = [body for body in items if _due(body)]
                checked += len(list(pool.map(self._check, due)))
                if not token:
                    break
        return checked

    def _check(self, body: dict[str, Any]) -> None:
        if self._stop.is_set():
            return
        try:
            self.check(body)
        except Exception:
            # One object's unexpected failure is logged and the pass goes on, as a failed kopf timer tick did.
            meta = body.get("metadata") or {}
            log.exception(
                "drift check of %s %s/%s failed", self.plural, meta.get("namespace"), meta.get("name")
            )


def _due(body: dict[str, Any]) -> bool:
    return handled(body["metadata"]) and actionable(body)
