"""The feed a run ingests: the ConfigMap document the operator mounts, or a MarketFeed manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from anthill_api.errors import describe_validation_error
from anthill_api.lake import is_key_segment
from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.errors import IngestError


class ConfigError(IngestError):
    exit_code = 2


@dataclass(frozen=True)
class FeedConfig:
    name: str
    namespace: str
    spec: MarketFeedSpec


Spec = TypeVar("Spec", bound=BaseModel)


def read_config(path: Path, what: str) -> str:
    """The text of a mounted document or manifest; a missing one raises :class:`ConfigError`."""
    try:
        return path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{what} config {path} does not exist") from None


def parse_document(text: str, source: str, kind: str, model: type[Spec], what: str) -> tuple[str, str, Spec]:
    """The name, namespace and validated spec of the ``kind`` in ``text`` (a manifest, or the document the
    operator mounts); anything invalid raises :class:`ConfigError` naming the field."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} config {source} is not JSON or YAML: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("kind") != kind or not isinstance(doc.get("spec"), dict):
        raise ConfigError(f"{source} is not a {kind} (a manifest, or the document the operator mounts)")
    meta = doc.get("metadata") or {}
    name = meta.get("name") or doc.get("name")
    namespace = meta.get("namespace") or doc.get("namespace") or "default"
    if not name:
        raise ConfigError(f"{source}: metadata.name is required")
    # Both are segments of every key the resource writes: a Kubernetes name, so no '/', '..' or spaces.
    for field, value in (("metadata.name", name), ("metadata.namespace", namespace)):
        if not isinstance(value, str) or not is_key_segment(value):
            raise ConfigError(
                f"{source}: {field} must be a Kubernetes name (lower case, digits, '-' and '.')"
            )
    try:
        spec = model.model_validate(doc["spec"])
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid {kind}: {describe_validation_error(exc)}") from exc
    return str(name), str(namespace), spec


def load_feed(path: Path) -> FeedConfig:
    """Parse ``path``; an invalid spec raises :class:`ConfigError` naming the field."""
    name, namespace, spec = parse_document(
        read_config(path, "feed"), str(path), "MarketFeed", MarketFeedSpec, "feed"
    )
    return FeedConfig(name=name, namespace=namespace, spec=spec)
