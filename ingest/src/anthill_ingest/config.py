"""The feed a run ingests: the ConfigMap document the operator mounts, or a MarketFeed manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

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


def load_feed(path: Path) -> FeedConfig:
    """Parse ``path``; an invalid spec raises :class:`ConfigError` naming the field."""
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"feed config {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"feed config {path} is not JSON or YAML: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("kind") != "MarketFeed" or not isinstance(doc.get("spec"), dict):
        raise ConfigError(f"{path} is not a MarketFeed (a manifest, or the document the operator mounts)")
    meta = doc.get("metadata") or {}
    name = meta.get("name") or doc.get("name")
    namespace = meta.get("namespace") or doc.get("namespace") or "default"
    if not name:
        raise ConfigError(f"{path}: metadata.name is required")
    # Both are segments of every key the feed writes: a Kubernetes name, so no '/', '..' or spaces.
    for field, value in (("metadata.name", name), ("metadata.namespace", namespace)):
        if not isinstance(value, str) or not is_key_segment(value):
            raise ConfigError(f"{path}: {field} must be a Kubernetes name (lower case, digits, '-' and '.')")
    try:
        spec = MarketFeedSpec.model_validate(doc["spec"])
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid MarketFeed: {describe_validation_error(exc)}") from exc
    return FeedConfig(name=str(name), namespace=str(namespace), spec=spec)
