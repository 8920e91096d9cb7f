"""kopf ``when=`` filters shared by every kind's handlers."""

from __future__ import annotations

from typing import Any

import kopf

from anthill.owned import is_paused


def not_paused(meta: kopf.Meta, **_: Any) -> bool:
    return not is_paused(dict(meta))


def paused(meta: kopf.Meta, **_: Any) -> bool:
    return is_paused(dict(meta))
