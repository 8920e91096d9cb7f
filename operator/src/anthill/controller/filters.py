"""kopf ``when=`` filters shared by every kind's handlers."""

from __future__ import annotations

from typing import Any

import kopf

from anthill.owned import is_paused

KOPF_PREFIX = "kopf.anthill.io"
# Where kopf's AnnotationsDiffBaseStorage keeps the spec it last handled: set once a create, update or resume
# handler has finished, in the same patch that ends kopf's own bookkeeping for the object.
HANDLED_ANNOTATION = f"{KOPF_PREFIX}/last-handled-configuration"


def not_paused(meta: kopf.Meta, **_: Any) -> bool:
    return not is_paused(dict(meta))


def paused(meta: kopf.Meta, **_: Any) -> bool:
    return is_paused(dict(meta))


def drifts(meta: kopf.Meta, **_: Any) -> bool:
    """Whether a drift timer may run for the object: not paused, and handled by kopf once.

    Until its first create or resume handler has finished, the object is kopf's to reconcile; a drift tick
    then would only compete with that handler for the workers (a burst of new objects took longer to become
    Ready), and write a status the handler writes too. kopf re-evaluates the filter on the event its own
    bookkeeping patch causes, and starts the timer then.
    """
    return not is_paused(dict(meta)) and HANDLED_ANNOTATION in (meta.get("annotations") or {})
