"""The StreamStats line: the operator reads these exact keys into status.statistics."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from anthill_ingest.stream.stats import Stats, flush_lag_p99

NOW = datetime.datetime(2025, 3, 4, 15, 30, tzinfo=datetime.UTC)
KEYS = {"event", "state", "connected", "messagesPerSecond", "lastFlushTime", "flushLagSeconds", "rowsFlushed",
        "reconnects", "reportedAt"}  # fmt: skip


def test_a_streaming_report_has_the_contracts_keys_and_no_reason() -> None:
    stats = Stats(
        state="Streaming", connected=True, rows_flushed=12, last_flush_time=NOW, flush_lag_seconds=0.4
    )
    stats.line(NOW, monotonic=10.0, received=100)
    line = stats.line(NOW, monotonic=12.0, received=300)
    assert set(line) == KEYS
    assert line["event"] == "StreamStats"
    assert line["messagesPerSecond"] == 100.0  # 200 events over the 2 s since the previous report
    assert line["lastFlushTime"] == line["reportedAt"] == "2025-03-04T15:30:00Z"
    # A report right after another (a flush just after the periodic one) keeps the rate, not a zero.
    assert stats.line(NOW, monotonic=12.1, received=300)["messagesPerSecond"] == 100.0


@pytest.mark.parametrize("state", ["Connecting", "AuthFailed", "ChannelNotAuthorized", "Stopped"])
def test_a_report_when_not_streaming_says_why(state: str) -> None:
    stats = Stats(state=state, reason="authentication failed")  # type: ignore[arg-type]
    assert stats.line(NOW, monotonic=0.0, received=0)["reason"] == "authentication failed"


@pytest.mark.parametrize(
    ("lags_ms", "p99"),
    [
        pytest.param([], None, id="nothing flushed: no lag"),
        pytest.param([500], 0.5, id="one event"),
        pytest.param([100] * 99 + [9000], 0.1, id="one outlier in 100 is beyond the 99th percentile"),
        pytest.param([100] * 98 + [9000] * 2, 9.0, id="two in 100 are not"),
    ],
)
def test_flush_lag_is_the_99th_percentile_of_flush_minus_event_time(
    lags_ms: list[int], p99: float | None
) -> None:
    flushed_at = 1_000_000
    times = [pa.array([flushed_at - lag for lag in lags_ms], pa.int64())] if lags_ms else []
    assert flush_lag_p99(flushed_at, times) == p99
