"""Where a feed's objects live in its lake, and whether a lake URI lies under a tenant's prefix.

Every key a feed writes starts with its namespace and name, so feeds of the same name in two namespaces never
share an object, and a pipeline can be handed exactly the bronze of the feeds it names:

| key (relative to ``spec.destination.uri``) | content |
|---|---|
| ``bronze/<namespace>/<feed>/<dataset>/<size>/date=YYYY-MM-DD/<feed>.parquet`` | one day of the feed |
| ``_manifests/<namespace>/<feed>/<from>_<to>.json`` | one run's files |
| ``bronze/<namespace>/<stream>/<channel>/stream/date=YYYY-MM-DD/<first event>-<digest>.parquet`` | one flush of a stream |
| ``_state/<namespace>/<feed>.json`` | the feed's watermark |
| ``_state/<namespace>/streams/<stream>.json`` | the stream's checkpoint: the last event flushed per channel and ticker |
| ``_quarantine/<namespace>/<feed>/<time>/`` | a response that surprised the run |

The ingest workload writes these keys and the operator passes the bronze locations to Spark; both import
this module, so the layout has one source. Pure: no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from anthill_api.common import DNS_SUBDOMAIN

NAME_MAX = 253
NAMESPACE_PLACEHOLDER = "{namespace}"
# s3a:// is how Spark's Hadoop connector spells s3://: the same bucket and keys.
SAME_SCHEME = {"s3a": "s3"}


def is_key_segment(name: str) -> bool:
    """Whether ``name`` may be a namespace or feed segment of a key: a Kubernetes name (no '/', '..' or space)."""
    return len(name) <= NAME_MAX and re.fullmatch(DNS_SUBDOMAIN, name) is not None


def bronze_prefix(namespace: str, feed: str) -> str:
    """The key prefix under which ``namespace/feed`` writes its bronze partitions."""
    return f"bronze/{namespace}/{feed}"


def bronze_uri(destination: str, namespace: str, feed: str) -> str:
    """The location of ``namespace/feed``'s bronze in the lake at ``destination``: what Spark reads."""
    return f"{destination.rstrip('/')}/{bronze_prefix(namespace, feed)}"


def state_key(namespace: str, feed: str) -> str:
    return f"_state/{namespace}/{feed}.json"


def stream_state_key(namespace: str, stream: str) -> str:
    """A MarketStream's checkpoint: apart from every feed's state key (a name holds no '/'), so a feed and a
    stream of the same name in one namespace never overwrite each other's."""
    return f"_state/{namespace}/streams/{stream}.json"


def manifest_prefix(namespace: str, feed: str) -> str:
    return f"_manifests/{namespace}/{feed}"


def quarantine_prefix(namespace: str, feed: str) -> str:
    return f"_quarantine/{namespace}/{feed}"


def render_prefix(template: str, namespace: str) -> str:
    """The platform's lake prefix for ``namespace`` (``s3://lake/{namespace}/`` -> ``s3://lake/market/``)."""
    return template.replace(NAMESPACE_PLACEHOLDER, namespace)


def _segments(path: str) -> list[str] | None:
    """The path's segments without empty ones; None when one of them climbs (``.`` or ``..``, even encoded)."""
    parts = [part for part in path.split("/") if part]
    if any(unquote(part) in (".", "..") for part in parts):
        return None
    return parts


def outside_prefix(uri: str, prefix: str) -> str | None:
    """Why ``uri`` does not lie under ``prefix``, or None when it does.

    Both are parsed: the scheme (``s3a`` counts as ``s3``) and the bucket must be the same, and the path must
    start with the prefix's path segment by segment (``s3://lake/market`` is not under ``s3://lake/mark``).
    A ``.`` or ``..`` segment, a query, a fragment or user info in ``uri`` is refused outright.
    """
    target, allowed = urlsplit(uri), urlsplit(prefix)
    if target.query or target.fragment or "@" in target.netloc:
        return "must be a plain URI (no user info, query or fragment)"
    segments, wanted = _segments(target.path), _segments(allowed.path)
    if segments is None:
        return "must not contain '.' or '..' path segments"
    scheme = SAME_SCHEME.get(target.scheme.lower(), target.scheme.lower())
    wanted_scheme = SAME_SCHEME.get(allowed.scheme.lower(), allowed.scheme.lower())
    if (
        scheme != wanted_scheme
        or target.netloc.lower() != allowed.netloc.lower()
        or wanted is None
        or segments[: len(wanted)] != wanted
    ):
        return f"must lie under {prefix}"
    return None


def prefix_violation(template: str, namespace: str, field: str, uri: str) -> str | None:
    """The InvalidSpec message when ``uri`` (the value of ``field``) lies outside the platform's lake prefix
    ``template`` rendered for ``namespace``; None when it lies inside, or when there is no prefix."""
    if not template:
        return None
    why = outside_prefix(uri, render_prefix(template, namespace))
    return None if why is None else f"{field} {why} (the platform's lake prefix for namespace {namespace})"
