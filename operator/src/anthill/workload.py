"""What every pod the operator creates has in common: Pod Security `restricted`, as non-root UID 65532."""

from __future__ import annotations

from typing import Any

NONROOT_UID = 65532


def container_security() -> dict[str, Any]:
    """A container that cannot escalate, write its root filesystem or keep any capability."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security() -> dict[str, Any]:
    """The pod-level half: the non-root user and group, and the runtime's default seccomp profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": NONROOT_UID,
        "runAsGroup": NONROOT_UID,
        "fsGroup": NONROOT_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
