"""Move one feed's objects from the lake layout without namespaces into the one with them.

The old layout named objects by feed only (``bronze/<dataset>/<size>/date=D/<feed>.parquet``,
``_state/<feed>.json``, ``_manifests/<feed>/``, ``_quarantine/<feed>/``); the new one puts
``<namespace>/<feed>`` in every key (:mod:`anthill_api.lake`). Which namespace an old object belonged to is
not in the lake, so the operator of the platform names it.

Safe to run again, or after an interruption: a moved object is gone from its old key, and an object whose new
key already exists is not written again (the new key is at least as new: the ingest of the new version wrote
it, or an earlier migration did), only removed from the old one. The watermark moves last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

from anthill_api import lake
from anthill_api.marketfeed import Dataset
from anthill_ingest.sink import Sink


@dataclass(frozen=True)
class Move:
    """One object to move: ``source`` (old layout) -> ``target`` (new layout)."""

    source: str
    target: str


def plan_moves(keys: list[str], namespace: str, feed: str) -> list[Move]:
    """The moves for ``namespace/feed`` among ``keys`` (a listing of the lake): bronze first, the watermark
    last. Keys of the new layout, and of other feeds, are left alone."""
    name = re.escape(feed)
    datasets = "|".join(get_args(Dataset))
    patterns: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
        (
            re.compile(rf"^bronze/(?P<rest>(?:{datasets})/[^/]+/date=[^/]+/{name}\.parquet)$"),
            lambda m: f"{lake.bronze_prefix(namespace, feed)}/{m['rest']}",
        ),
        (
            re.compile(rf"^_quarantine/{name}/(?P<rest>[^/]+/[^/]+)$"),
            lambda m: f"{lake.quarantine_prefix(namespace, feed)}/{m['rest']}",
        ),
        (
            re.compile(rf"^_manifests/{name}/(?P<rest>[^/]+\.json)$"),
            lambda m: f"{lake.manifest_prefix(namespace, feed)}/{m['rest']}",
        ),
        (re.compile(rf"^_state/{name}\.json$"), lambda _m: lake.state_key(namespace, feed)),
    ]
    moves = []
    for pattern, target in patterns:
        for key in keys:
            if match := pattern.match(key):
                moves.append(Move(key, target(match)))
    return moves


def rewrite_references(data: bytes, renamed: dict[str, str]) -> bytes:
    """A watermark or manifest with the keys it names (``manifest``, ``files[].key``) renamed; other bytes
    as they are."""
    try:
        document = json.loads(data)
    except ValueError:
        return data
    if not isinstance(document, dict):
        return data
    changed = False
    if document.get("manifest") in renamed:
        document["manifest"] = renamed[document["manifest"]]
        changed = True
    files = document.get("files")
    for entry in files if isinstance(files, list) else []:
        if isinstance(entry, dict) and entry.get("key") in renamed:
            entry["key"] = renamed[entry["key"]]
            changed = True
    return (json.dumps(document, indent=2) + "\n").encode() if changed else data


def migrate(sink: Sink, namespace: str, feed: str, apply: bool, report: Callable[[str], None]) -> int:
    """Move ``namespace/feed``'s old-layout objects in ``sink``; only report them unless ``apply``.

    Returns how many objects were (or would be) moved.
    """
    keys = [key for prefix in ("bronze", "_quarantine", "_manifests", "_state") for key in sink.keys(prefix)]
    moves = plan_moves(keys, namespace, feed)
    renamed = {move.source: move.target for move in moves}
    for move in moves:
        exists = sink.read(move.target) is not None
        verb = "drop" if exists else "move"
        detail = f" (kept: {move.target} already exists)" if exists else f" -> {move.target}"
        report(f"{verb if apply else 'would ' + verb} {move.source}{detail}")
        if not apply:
            continue
        if not exists:
            data = sink.read(move.source)
            if data is None:
                continue  # gone since the listing: another migration moved it
            if move.source.endswith(".json"):
                data = rewrite_references(data, renamed)
            sink.write(move.target, data)
        sink.delete(move.source)
    return len(moves)
