"""kubectl as a test helper."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from anthill_devkit.controlplane import wait_for


class Kubectl:
    """The pinned kubectl against the session's control plane, as users run it."""

    def __init__(self, binary: Path, kubeconfig: Path) -> None:
        self.base = [str(binary), f"--kubeconfig={kubeconfig}"]

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.base, *args], input=stdin, capture_output=True, text=True, check=False, timeout=120
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout


def get(kubectl: Kubectl, namespace: str, what: str) -> dict[str, Any] | None:
    """``kubectl get <what> -o json`` in ``namespace``; None when it does not exist."""
    result = kubectl("get", what, "-n", namespace, "-o", "json")
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
        return None
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any]:
    """The object's condition of ``type_`` (empty when it has none yet)."""
    for cond in (obj or {}).get("status", {}).get("conditions", []):
        if cond["type"] == type_:
            return dict(cond)
    return {}


def wait_condition(
    kubectl: Kubectl, namespace: str, what: str, type_: str, reason: str, timeout: float = 30
) -> dict[str, Any]:
    """Wait until ``what`` has condition ``type_`` with ``reason``; the object as it then is."""
    wait_for(lambda: condition(get(kubectl, namespace, what), type_).get("reason") == reason, timeout,
             f"{what} {type_} with reason {reason}")  # fmt: skip
    found = get(kubectl, namespace, what)
    assert found is not None
    return found
