"""``spec.trigger.feedsLanded``: when a pipeline's feeds have all landed new data, and the run's identity.

Pure. A run is due once every feed in ``spec.feeds`` reports a ``status.watermark`` and each differs from the one
the last landed run was started for (a watermark moved back by a re-ingest is new data too). The run's token is
a hash of the pipeline and the watermarks: Databricks' run-now dedupes by it and a Kubernetes Job is named by
it, so however often the operator looks (or restarts between starting a run and recording it) one set of
watermarks starts one run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

TOKEN_LENGTH = 32  # hex digits: well under Databricks' 64-character idempotency token, unique enough


def due(watermarks: Mapping[str, str | None], last: Mapping[str, str] | None) -> dict[str, str] | None:
    """The watermarks to start a run for, or None when some feed has landed nothing (new) yet."""
    if not watermarks or waiting_for(watermarks, last):
        return None
    return {feed: mark for feed, mark in watermarks.items() if mark}


def waiting_for(watermarks: Mapping[str, str | None], last: Mapping[str, str] | None) -> list[str]:
    """The feeds a run still waits for (no watermark, or the same one as the last run's), in spec order."""
    return [
        feed for feed, mark in watermarks.items() if not mark or (last is not None and last.get(feed) == mark)
    ]


def run_token(pipeline_uid: str, watermarks: Mapping[str, str]) -> str:
    """The idempotency key of the run for ``watermarks``: the same set always gives the same key; the pipeline's
    uid keeps a re-created pipeline of the same name from matching its predecessor's runs."""
    payload = json.dumps({"pipeline": pipeline_uid, "watermarks": dict(sorted(watermarks.items()))})
    return hashlib.sha256(payload.encode()).hexdigest()[:TOKEN_LENGTH]
