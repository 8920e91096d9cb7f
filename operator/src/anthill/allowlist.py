"""The platform team's allowlists: which images, Databricks wheels and instance profiles a pipeline may name.

A tenant who may create MedallionPipelines in one namespace must not run arbitrary code in the cluster or on
Databricks, nor borrow an instance profile meant for someone else. Each check is pure and answers with the
reason a value is refused (``None`` when it is allowed); the reconciler turns a refusal into
``Ready=False, InvalidSpec`` naming the field.

Matching is on boundaries, never on raw string prefixes: ``ghcr.io/anthill-platform`` allows
``ghcr.io/anthill-platform/anthill-spark`` but not ``ghcr.io/anthill-platform-evil/x``.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from anthill_api.pipeline import MedallionPipelineSpec

DEFAULT_REGISTRY = "docker.io"
OFFICIAL_NAMESPACE = "library"
# The distribution spec's grammar (github.com/distribution/reference), split into its parts.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_DOMAIN = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")


@dataclass(frozen=True)
class ImageName:
    """An image reference without tag and digest, with Docker's defaults filled in."""

    registry: str
    path: str

    @property
    def segments(self) -> tuple[str, ...]:
        return (self.registry.lower(), *self.path.split("/"))


def parse_image(reference: str, require_path: bool = True) -> ImageName:
    """The repository ``reference`` names (``ubuntu`` -> ``docker.io/library/ubuntu``); ValueError if it is none.

    The first component is a registry when it has a ``.`` or ``:`` or is ``localhost``, as container runtimes
    resolve it. ``require_path=False`` also accepts a bare registry (an allowlist entry such as ``ghcr.io``).
    """
    name, _, digest = reference.partition("@")
    if digest and not _DIGEST.match(digest):
        raise ValueError(f"{reference!r} has an invalid digest")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.match(tag):
            raise ValueError(f"{reference!r} has an invalid tag")
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    elif not sep and not require_path and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, ""
    else:
        registry, path = DEFAULT_REGISTRY, name
        if "/" not in path:
            path = f"{OFFICIAL_NAMESPACE}/{path}"
    if not _DOMAIN.match(registry) or (path and not _PATH.match(path)) or (require_path and not path):
        raise ValueError(f"{reference!r} is not an image reference")
    return ImageName(registry, path)


def image_refusal(image: str, allowed: Sequence[str]) -> str | None:
    """Why ``image`` may not run, or None when its repository lies under one of the ``allowed`` prefixes."""
    try:
        name = parse_image(image)
    except ValueError as exc:
        return str(exc)
    for entry in allowed:
        prefix = parse_image(entry.rstrip("/"), require_path=False)
        wanted = prefix.segments if prefix.path else prefix.segments[:1]
        if name.segments[: len(wanted)] == wanted:
            return None
    return f"{image!r} is not under an allowed image prefix ({_listed(allowed)})"


def wheel_refusal(wheel: str, allowed: Sequence[str]) -> str | None:
    """Why Databricks may not install ``wheel``, or None when it lies under one of the ``allowed`` paths.

    A ``.`` or ``..`` segment (also percent-encoded) is refused outright: it could climb out of an allowed folder.
    """
    segments = urllib.parse.unquote(wheel).split("/")
    if any(segment in (".", "..") for segment in segments) or "\\" in wheel:
        return f"{wheel!r} has a relative path segment"
    for entry in allowed:
        folder = entry.rstrip("/") + "/"
        if wheel.startswith(folder):
            return None
    return f"{wheel!r} is not under an allowed wheel path ({_listed(allowed)})"


def instance_profile_refusal(arn: str, allowed: Sequence[str]) -> str | None:
    """Why a job cluster may not use ``arn``, or None when an entry names it exactly or is a path prefix of it
    ending in ``/`` (``arn:aws:iam::123456789012:instance-profile/anthill/``)."""
    for entry in allowed:
        if arn == entry or (entry.endswith("/") and arn.startswith(entry)):
            return None
    return f"{arn!r} is not an allowed instance profile ({_listed(allowed)})"


@dataclass(frozen=True)
class Allowlists:
    """What the platform team allows (the ``ANTHILL_ALLOWED_*`` settings)."""

    images: Sequence[str]
    wheels: Sequence[str]
    instance_profiles: Sequence[str]

    def pipeline_refusal(self, spec: MedallionPipelineSpec) -> str | None:
        """The first field of ``spec`` an allowlist refuses, named, with why; None when all are allowed.

        The operator's default wheel (``ANTHILL_SPARK_WHEEL``) is the platform's own choice and not checked.
        """
        kubernetes, databricks = spec.runtime.kubernetes, spec.runtime.databricks
        checks: list[tuple[str, str | None]] = []
        if kubernetes is not None:
            checks.append(("spec.runtime.kubernetes.image", image_refusal(kubernetes.image, self.images)))
        if databricks is not None and databricks.wheel is not None:
            checks.append(("spec.runtime.databricks.wheel", wheel_refusal(databricks.wheel, self.wheels)))
        if databricks is not None and databricks.cluster.instance_profile_arn is not None:
            refusal = instance_profile_refusal(
                databricks.cluster.instance_profile_arn, self.instance_profiles
            )
            checks.append(("spec.runtime.databricks.cluster.instanceProfileArn", refusal))
        return next((f"{field}: {refusal}" for field, refusal in checks if refusal is not None), None)


def check_entries(kind: str, entries: Sequence[str]) -> list[str]:
    """Allowlist entries as the settings take them: no wildcards (matching is by prefix), images parseable."""
    for entry in entries:
        if "*" in entry:
            raise ValueError(f"{kind} entry {entry!r}: wildcards are not supported, entries are prefixes")
        if kind == "image":
            parse_image(entry.rstrip("/"), require_path=False)
    return list(entries)


def _listed(allowed: Sequence[str]) -> str:
    return "allowed: " + ", ".join(allowed) if allowed else "none are allowed"
