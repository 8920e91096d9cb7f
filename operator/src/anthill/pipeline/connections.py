"""From a DatabricksConnection and its Secret to a ready Jobs client, one per connection, reused across reconciles.

Building a client costs round trips (host metadata, an OAuth token exchange), so clients are cached. The cache
key is everything that changes what the client would do: the host, the auth type, the Secret's
resourceVersion and the keys read from it. Editing the Secret or the connection therefore takes effect on the
next reconcile, with no restart. Credential values stay in memory: never in a key, a log line or a message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from anthill import conditions as cond
from anthill.kube import Store
from anthill.pipeline.jobs import (
    Credentials,
    DatabricksJobs,
    InvalidSpecError,
    JobsClient,
    ThrottledError,
    UnauthorizedError,
)
from anthill_api.connection import DatabricksConnectionSpec
from anthill_api.errors import describe_validation_error

ClientFactory = Callable[[str, Credentials], JobsClient]
CONNECTIONS = "databricksconnections"


class ConnectionNotReadyError(Exception):
    """The connection, its Secret or a key is missing or invalid; :attr:`reason` is the condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Connection:
    """A usable connection: its client, the host (for job URLs) and the cache key it was built for."""

    client: JobsClient
    host: str
    fingerprint: tuple[str, ...]


def credentials_from_secret(
    spec: DatabricksConnectionSpec, namespace: str, values: dict[str, str]
) -> Credentials:
    """The credentials ``spec.authType`` needs from the Secret's values; a missing key is named."""
    ref = spec.credentials_secret_ref
    wanted = [ref.token_key] if spec.auth_type == "pat" else [ref.client_id_key, ref.client_secret_key]
    missing = [key for key in wanted if not values.get(key, "").strip()]
    if missing:
        keys = ", ".join(repr(key) for key in missing)
        raise ConnectionNotReadyError(
            cond.SECRET_NOT_FOUND,
            f"Secret {namespace}/{ref.name} has no {keys} (needed for authType {spec.auth_type})",
        )
    if spec.auth_type == "pat":
        return Credentials(token=values[ref.token_key].strip())
    return Credentials(
        client_id=values[ref.client_id_key].strip(), client_secret=values[ref.client_secret_key].strip()
    )


@dataclass
class Connections:
    """Resolves ``(namespace, connection name)`` to a :class:`Connection`, building clients only when needed."""

    store: Store
    factory: ClientFactory = DatabricksJobs.connect
    _cache: dict[tuple[str, str], Connection] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def resolve(self, namespace: str, name: str) -> Connection:
        """The connection's client; raises :class:`ConnectionNotReadyError` or the client's JobsError."""
        body = self.store.get_custom(CONNECTIONS, namespace, name)
        if body is None:
            raise ConnectionNotReadyError(
                cond.CONNECTION_NOT_FOUND, f"DatabricksConnection {namespace}/{name} not found"
            )
        return self.resolve_body(body)

    def resolve_body(self, body: dict[str, Any]) -> Connection:
        meta = body["metadata"]
        namespace, name = str(meta["namespace"]), str(meta["name"])
        try:
            spec = DatabricksConnectionSpec.model_validate(body.get("spec") or {})
        except ValidationError as exc:
            raise ConnectionNotReadyError(
                cond.INVALID_SPEC,
                f"DatabricksConnection {namespace}/{name}: {describe_validation_error(exc)}",
            ) from exc
        ref = spec.credentials_secret_ref
        secret = self.store.read_secret(namespace, ref.name)
        if secret is None:
            raise ConnectionNotReadyError(cond.SECRET_NOT_FOUND, f"Secret {namespace}/{ref.name} not found")
        fingerprint = (
            spec.host.rstrip("/"),
            spec.auth_type,
            ref.name,
            secret.resource_version,
            ref.token_key,
            ref.client_id_key,
            ref.client_secret_key,
        )
        with self._lock:
            cached = self._cache.get((namespace, name))
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        credentials = credentials_from_secret(spec, namespace, secret.values)
        connection = Connection(self.factory(fingerprint[0], credentials), fingerprint[0], fingerprint)
        with self._lock:
            self._cache[(namespace, name)] = connection
        return connection

    def forget(self, namespace: str, name: str) -> None:
        """Drop a cached client (its connection was deleted)."""
        with self._lock:
            self._cache.pop((namespace, name), None)


def failure_reason(exc: BaseException) -> str:
    """The condition reason for a failure to reach Databricks."""
    if isinstance(exc, ConnectionNotReadyError):
        return exc.reason
    if isinstance(exc, UnauthorizedError):
        return cond.UNAUTHORIZED
    if isinstance(exc, ThrottledError):
        return cond.THROTTLED
    if isinstance(exc, InvalidSpecError):
        return cond.INVALID_SPEC
    return cond.RECONCILE_ERROR
