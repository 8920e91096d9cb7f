"""What a reconcile returns to the kopf handlers: its outcome, the Events to post, or a request to retry later."""

from __future__ import annotations

from dataclasses import dataclass, field


class RetryLaterError(Exception):
    """The reconcile could not finish; try again after :attr:`delay` seconds (None: the caller's backoff)."""

    def __init__(self, reason: str, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.delay = delay


@dataclass(frozen=True)
class Event:
    """Something worth a Kubernetes Event on the object."""

    type: str  # Normal or Warning
    reason: str
    message: str


@dataclass
class Result:
    """What one reconcile did: its Ready reason, the API writes it made, events to post."""

    reason: str
    writes: int = 0
    events: list[Event] = field(default_factory=list)
