"""From a DatabricksConnection and its Secret to a ready Jobs client, one per connection, reused across reconciles.

Building a client costs round trips (host metadata, an OAuth token exchange), so clients are cached. The cache
key is everything that changes what the client would do: the host, the auth type, the Secret's
resourceVersion and the keys read from it. Editing the Secret or the connection therefore takes effect on the
next reconcile, with no restart. Credential values stay in memory: never in a key, a log line or a message.

What a namespace may declare is bounded here, before any Secret is read: ``spec.host`` must be https on a host
the operator was configured for (:attr:`OperatorSettings.databricks_hosts`; plain http on loopback only when
:attr:`OperatorSettings.allow_loopback_hosts` is set, for local development), and a Secret is read only when
it opts in with the label ``anthill.io/credentials: "true"``. A Secret that is missing, forbidden or not
labelled reads the same ("not readable"), so a status never tells whether a Secret exists.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from anthill import conditions as cond
from anthill.kube import Store
from anthill.pipeline.jobs import (
    Credentials,
    InvalidSpecError,
    JobsClient,
    ThrottledError,
    UnauthorizedError,
    connect,
)
from anthill.settings import OperatorSettings
from anthill_api.connection import DatabricksConnectionSpec
from anthill_api.errors import describe_validation_error

ClientFactory = Callable[[str, Credentials], JobsClient]
CONNECTIONS = "databricksconnections"
PIPELINES = "medallionpipelines"
CREDENTIALS_LABEL = "anthill.io/credentials"
HTTPS_PORT = 443
DNS_NAME = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# What an HTTP header (or a form field) can carry of a credential: printable ASCII. A newline or other control
# character makes the HTTP library raise an error quoting the header, escaped, so it is refused before use.
HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class ConnectionNotReadyError(Exception):
    """The connection, its Secret or a key is missing or invalid; :attr:`reason` is the condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Connection:
    """A usable connection: its client, the host (for job URLs), the cache key it was built for, and the volume
    the anthill-spark wheel is deployed to in that workspace (``spec.wheelVolume``; None: the operator's)."""

    client: JobsClient
    host: str
    fingerprint: tuple[str, ...]
    wheel_volume: str | None = None


class HostNotAllowedError(ValueError):
    """``spec.host`` is not a workspace the operator may send credentials to; the message says why."""


def allowed_host(host: str, suffixes: list[str], allow_loopback: bool) -> str:
    """The workspace URL the client may use, rebuilt from the parsed ``host``; raises HostNotAllowedError.

    The hostname is matched, never the string: it must equal a configured suffix or end in it at a dot, with
    https on the default port. Plain http is allowed only on loopback (127.0.0.0/8, ::1, ``localhost``) and
    only when ``allow_loopback`` is set. No userinfo, path, query or fragment.
    """
    try:
        parts = urlsplit(host.strip())
        hostname, port = parts.hostname or "", parts.port
    except ValueError as exc:
        raise HostNotAllowedError("spec.host is not a URL with a valid host and port") from exc
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise HostNotAllowedError("spec.host must not carry a user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise HostNotAllowedError("spec.host must be the workspace URL alone, without a path or query")
    if _is_loopback(hostname):
        if not allow_loopback:
            raise HostNotAllowedError(
                "spec.host is a loopback address, allowed only when the operator runs for local development "
                "(ANTHILL_ALLOW_LOOPBACK_HOSTS)"
            )
        if parts.scheme not in ("http", "https"):
            raise HostNotAllowedError("spec.host must be an http:// or https:// URL")
        netloc = f"[{hostname}]" if ":" in hostname else hostname
        return f"{parts.scheme}://{netloc}" + (f":{port}" if port is not None else "")
    if parts.scheme != "https":
        raise HostNotAllowedError(
            "spec.host must be https:// (plain http only on loopback in local development)"
        )
    if port not in (None, HTTPS_PORT):
        raise HostNotAllowedError(f"spec.host must use the https port {HTTPS_PORT}")
    if not DNS_NAME.fullmatch(hostname) or not any(_within(hostname, suffix) for suffix in suffixes):
        allowed = ", ".join(suffixes) or "(none configured)"
        raise HostNotAllowedError(
            f"spec.host {hostname!r} is not a Databricks workspace this operator may reach (hosts ending in "
            f"{allowed}; the platform team sets them with databricks.allowedHosts)"
        )
    return f"https://{hostname}"


def _within(hostname: str, suffix: str) -> bool:
    """``hostname`` equals ``suffix`` (its leading dot aside) or ends in it at a label boundary."""
    bare = suffix.lower().lstrip(".")
    return hostname == bare or hostname.endswith("." + bare)


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def credentials_from_secret(
    spec: DatabricksConnectionSpec,
    namespace: str,
    values: dict[str, str],
    binary: frozenset[str] = frozenset(),
) -> Credentials:
    """The credentials ``spec.authType`` needs from the Secret's values; a missing or unusable key is named,
    its value never (not even a part of it)."""
    ref = spec.credentials_secret_ref
    wanted = [ref.token_key] if spec.auth_type == "pat" else [ref.client_id_key, ref.client_secret_key]
    missing = [key for key in wanted if key not in binary and not values.get(key, "").strip()]
    if missing:
        keys = ", ".join(repr(key) for key in missing)
        raise ConnectionNotReadyError(
            cond.SECRET_NOT_FOUND,
            f"Secret {namespace}/{ref.name} has no {keys} (needed for authType {spec.auth_type})",
        )
    unusable = [key for key in wanted if key in binary or not HEADER_SAFE.fullmatch(values[key].strip())]
    if unusable:
        keys = ", ".join(repr(key) for key in unusable)
        raise ConnectionNotReadyError(
            cond.INVALID_SECRET,
            f"Secret {namespace}/{ref.name} key {keys} holds characters a credential cannot carry in an HTTP "
            "request (a line break, another control character, a space or non-ASCII): store the credential "
            "alone, on one line",
        )
    if spec.auth_type == "pat":
        return Credentials(token=values[ref.token_key].strip())
    return Credentials(
        client_id=values[ref.client_id_key].strip(), client_secret=values[ref.client_secret_key].strip()
    )


def not_readable(namespace: str, name: str) -> str:
    """The one message for a Secret that is missing, forbidden or not opted in: it does not say which."""
    return (
        f"Secret {namespace}/{name} is not readable: the operator reads only Secrets labelled "
        f'{CREDENTIALS_LABEL}: "true" (kubectl label secret {name} -n {namespace} {CREDENTIALS_LABEL}=true)'
    )


def referenced_by(pipelines: list[dict[str, Any]], connection: str) -> list[str]:
    """Names of the pipelines whose ``spec.runtime.databricks.connectionRef`` names ``connection``."""
    return sorted(
        str(item["metadata"]["name"])
        for item in pipelines
        if (((item.get("spec") or {}).get("runtime") or {}).get("databricks") or {})
        .get("connectionRef", {})
        .get("name")
        == connection
    )


@dataclass
class Connections:
    """Resolves ``(namespace, connection name)`` to a :class:`Connection`, building clients only when needed."""

    store: Store
    settings: OperatorSettings
    factory: ClientFactory = connect
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

    def resolve_for_delete(self, namespace: str, name: str) -> Connection:
        """Like :meth:`resolve`, but when the connection or its Secret is already gone (a namespace being
        deleted removes them in no particular order) the last client built for it, if this process has one.
        Deleting a job must not wait for credentials nobody will bring back."""
        try:
            return self.resolve(namespace, name)
        except ConnectionNotReadyError:
            with self._lock:
                cached = self._cache.get((namespace, name))
            if cached is None:
                raise
            return cached

    def resolve_body(self, body: dict[str, Any]) -> Connection:
        meta = body["metadata"]
        namespace, name = str(meta["namespace"]), str(meta["name"])
        try:
            spec = DatabricksConnectionSpec.model_validate(body.get("spec") or {})
            host = allowed_host(spec.host, self.settings.databricks_hosts, self.settings.allow_loopback_hosts)
        except (ValidationError, HostNotAllowedError) as exc:
            detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            raise ConnectionNotReadyError(
                cond.INVALID_SPEC, f"DatabricksConnection {namespace}/{name}: {detail}"
            ) from exc
        ref = spec.credentials_secret_ref
        secret = self.store.read_secret(namespace, ref.name, CREDENTIALS_LABEL)
        if secret is None:
            raise ConnectionNotReadyError(cond.SECRET_NOT_FOUND, not_readable(namespace, ref.name))
        fingerprint = (
            host,
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
            return replace(cached, wheel_volume=spec.wheel_volume)  # the volume needs no new client
        credentials = credentials_from_secret(spec, namespace, secret.values, secret.binary_keys)
        connection = Connection(self.factory(host, credentials), host, fingerprint, spec.wheel_volume)
        with self._lock:
            self._cache[(namespace, name)] = connection
        return connection

    def in_use(self, namespace: str, name: str) -> list[str]:
        """The pipelines in ``namespace`` that name this connection (and may need it to delete their job)."""
        return referenced_by(self.store.list_custom(PIPELINES, namespace), name)

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
