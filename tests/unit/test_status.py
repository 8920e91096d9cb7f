"""The status patch: a JSON merge patch that removes, at any depth, what the new status leaves out."""

from __future__ import annotations

from typing import Any

import pytest

from anthill.status import merge_patch


def apply(target: Any, patch: Any) -> Any:
    """RFC 7386's algorithm, as the API server applies a merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = apply(out.get(key), value)
    return out


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param({"atProvider": {"lastRun": {"runId": 1, "state": "TERMINATED", "resultState": "SUCCESS"}}},
                     {"atProvider": {"lastRun": {"runId": 2, "state": "RUNNING"}}},
                     id="a new run still running has no result yet, not the last one's"),
        pytest.param({"atProvider": {"lastRun": {"runId": 1, "message": "task x: boom"}, "jobId": 7}},
                     {"atProvider": {"lastRun": {"runId": 2}, "jobId": 7}}, id="a failure's message goes with it"),
        pytest.param({"watermark": "2026-11-27", "lastRun": {"rows": 3}}, {"lastRun": {"rows": 3}},
                     id="a top-level field left out"),
        pytest.param({"conditions": [{"type": "Ready"}, {"type": "Synced"}]}, {"conditions": [{"type": "Ready"}]},
                     id="lists are replaced whole"),
        pytest.param({}, {"atProvider": {"jobId": 1}}, id="from nothing"),
    ],
)  # fmt: skip
def test_applying_the_patch_gives_exactly_the_new_status(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply(old, merge_patch(old, new)) == new
