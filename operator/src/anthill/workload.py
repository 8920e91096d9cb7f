"""What every pod the operator creates has in common: Pod Security `restricted`, as non-root UID 65532."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anthill.settings import OperatorSettings

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


def lake_environment(
    s3_endpoint_url: str = "", s3_region: str = "", s3_credentials_secret: str = ""
) -> list[dict[str, Any]]:
    """Environment that points a workload pod at an S3-compatible lake: the endpoint and region by value,
    the keys by reference to a Secret in the pod's own namespace (never by value)."""
    env: list[dict[str, Any]] = []
    if s3_endpoint_url:
        env.append({"name": "AWS_ENDPOINT_URL_S3", "value": s3_endpoint_url})
    if s3_region:
        env.append({"name": "AWS_REGION", "value": s3_region})
    if s3_credentials_secret:
        env += [
            {"name": key, "valueFrom": {"secretKeyRef": {"name": s3_credentials_secret, "key": key}}}
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        ]
    return env


def workload_lake_environment(settings: OperatorSettings) -> list[dict[str, Any]]:
    """The lake environment every workload pod gets from the operator's settings."""
    return lake_environment(settings.s3_endpoint_url, settings.s3_region, settings.s3_credentials_secret)
