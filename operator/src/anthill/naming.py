"""Names and label values built from a resource's name, kept within Kubernetes' length limits. Pure."""

from __future__ import annotations

import hashlib
from typing import Any

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


def workload_labels(app: str, component: str, owner_label: str, owner: str) -> dict[str, str]:
    """The labels of a child the operator makes for ``owner`` (a resource's name): the recommended
    ``app.kubernetes.io`` set, and ``owner_label`` whose value selectors find the child by."""
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/instance": label_value(owner),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "anthill",
        "app.kubernetes.io/managed-by": "anthill-operator",
        owner_label: label_value(owner),
    }


def controller_reference(kind: str, name: str, uid: str) -> dict[str, Any]:
    """An anthill.io resource as the controller owner of a child: garbage collection removes the child with it."""
    return {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
