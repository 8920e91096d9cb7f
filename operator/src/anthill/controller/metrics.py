"""Prometheus metrics: reconcile count, duration and errors by kind, and API writes they made."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import Counter, Histogram

RECONCILES = Counter(
    "anthill_reconcile_total",
    "Reconciles by kind, trigger and outcome reason.",
    ["kind", "trigger", "reason"],
)
ERRORS = Counter(
    "anthill_reconcile_errors_total", "Reconciles that raised, by kind and exception.", ["kind", "error"]
)
DURATION = Histogram(
    "anthill_reconcile_duration_seconds",
    "Reconcile duration by kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WRITES = Counter("anthill_api_writes_total", "Create/replace/status writes made by reconciles.", ["kind"])


@dataclass
class Outcome:
    reason: str = "Unknown"
    writes: int = 0


@contextmanager
def observe_reconcile(kind: str, trigger: str) -> Iterator[Outcome]:
    """Time a reconcile and count it under the reason the body sets on the yielded :class:`Outcome`."""
    outcome = Outcome()
    started = time.perf_counter()
    try:
        yield outcome
    except Exception as exc:
        ERRORS.labels(kind, type(exc).__name__).inc()
        outcome.reason = outcome.reason if outcome.reason != "Unknown" else "Error"
        raise
    finally:
        DURATION.labels(kind).observe(time.perf_counter() - started)
        RECONCILES.labels(kind, trigger, outcome.reason).inc()
        WRITES.labels(kind).inc(outcome.writes)
