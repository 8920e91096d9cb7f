"""Names and label values built from a resource's name, kept within Kubernetes' length limits. Pure."""

from __future__ import annotations

import hashlib

LABEL_VALUE_MAX = 63
HASH_LENGTH = 8


def shortened(name: str, limit: int) -> str:
    """``name`` when it fits in ``limit`` characters, else a prefix of it and a hash of the whole.

    Deterministic, so every reconcile and every selector computes the same value; distinct names stay distinct
    (up to the hash). The result starts and ends alphanumeric whenever ``name`` does.
    """
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]
    return f"{name[: limit - HASH_LENGTH - 1].rstrip('-.')}-{digest}"


def label_value(name: str) -> str:
    """A label value (at most 63 characters) for ``name``; selectors must use the same function."""
    return shortened(name, LABEL_VALUE_MAX)
