"""Reading a stream pod's reports from its log, and the Ready condition they amount to."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from anthill.marketstream.observe import STALLED, STARTING, latest_report, readiness

NOW = datetime.datetime(2026, 12, 2, 15, 0, tzinfo=datetime.UTC)


def _line(**fields: Any) -> str:
    body = {"event": "StreamStats", "state": "Streaming", "connected": True, "messagesPerSecond": 1234.56,
            "lastFlushTime": "2026-12-02T14:59:58+00:00", "flushLagSeconds": 0.4321, "rowsFlushed": 99,
            "reportedAt": "2026-12-02T14:59:59+00:00", **fields}  # fmt: skip
    return json.dumps(body)


def test_the_newest_report_wins_and_other_lines_are_skipped() -> None:
    text = "\n".join([
        _line(rowsFlushed=1),
        '{"level": "info", "message": "subscribed to T.AAPL"}',
        _line(rowsFlushed=2),
        "not json at all StreamStats",
        '{"event": "StreamStats", "reportedAt": "cut sh',
    ])  # fmt: skip
    report = latest_report(text)
    assert report is not None
    assert report.statistics == {
        "connected": True,
        "messagesPerSecond": 1234.6,
        "rowsFlushed": 2,
        "reportedAt": "2026-12-02T14:59:59Z",
        "lastFlushTime": "2026-12-02T14:59:58Z",
        "flushLagSeconds": 0.432,
    }


@pytest.mark.parametrize(
    "text", [None, "", '{"level": "info", "message": "starting"}'], ids=["none", "empty", "no-report"]
)
def test_no_report_yet(text: str | None) -> None:
    assert latest_report(text) is None
    assert readiness(None, 5, NOW)[:2] == (False, STARTING)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, (True, "Streaming"), id="streaming"),
        pytest.param({"state": "AuthFailed", "reason": "authentication failed", "connected": False},
                     (False, "AuthFailed", "authentication failed"), id="auth-failed-carries-the-servers-reason"),
        pytest.param({"state": "ChannelNotAuthorized", "reason": "not authorized: Q.*"},
                     (False, "ChannelNotAuthorized", "not authorized: Q.*"), id="channel-refused"),
        pytest.param({"state": "Connecting", "connected": False}, (False, "Connecting"), id="connecting"),
        pytest.param({"reportedAt": "2026-12-02T14:58:44+00:00"}, (False, STALLED), id="silent-past-3-intervals-and-a-minute"),
        pytest.param({"reportedAt": "2026-12-02T14:58:46+00:00"}, (True, "Streaming"), id="just-inside-the-window"),
    ],
)  # fmt: skip
def test_readiness(fields: dict[str, Any], expected: tuple[Any, ...]) -> None:
    result = readiness(latest_report(_line(**fields)), 5, NOW)
    assert result[: len(expected)] == expected
