"""kopf ``when=`` filters shared by every kind's handlers."""

from __future__ import annotations

from collections.abc import Mapping
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


def handled(meta: Mapping[str, Any]) -> bool:
    """Whether kopf has finished a create, update or resume handler for the object at least once.

    Until then the object is kopf's create handler's to reconcile: a drift check would only compete with it
    (a burst of new objects took longer to become Ready) and write the status it writes too.
    """
    return HANDLED_ANNOTATION in (meta.get("annotations") or {})


# Filters run in kopf's event loop; a synchronous handler waits for one of the few workers even when it has
# nothing to do. With hundreds of objects the workers are busy with drift ticks, so each event of an object
# waited seconds per such handler, and kopf's own bookkeeping of new objects trailed far behind them.
def deleted(type: str | None, **_: Any) -> bool:
    """The event is the object's deletion."""
    return type == "DELETED"


def landed(status: kopf.Status, **_: Any) -> bool:
    """The object's status has a watermark: a feed that has landed data."""
    return bool(status.get("watermark"))
