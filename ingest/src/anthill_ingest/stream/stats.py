"""The ``StreamStats`` line: what the operator reads from the pod's log into ``status.statistics``.

The keys are a contract with the operator: ``event``, ``state``, ``connected``, ``messagesPerSecond``,
``lastFlushTime``, ``flushLagSeconds``, ``rowsFlushed``, ``reconnects``, ``reportedAt`` and ``reason`` when
the stream is not streaming. Pure: the clock's readings are passed in.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

State = Literal["Connecting", "Streaming", "AuthFailed", "ChannelNotAuthorized", "Stopped"]
EVENT = "StreamStats"
RATE_WINDOW_SECONDS = 1.0  # the message rate is measured over at least this long


def flush_lag_p99(flushed_at_ms: int, times: Sequence[pa.Array]) -> float | None:
    """The 99th percentile (nearest rank) of (flush time - event time) over one flush's events, in seconds."""
    count = sum(len(t) for t in times)
    if not count:
        return None
    events = pa.concat_arrays([t.cast(pa.int64()) for t in times])
    ascending = events.take(pc.sort_indices(events))
    # The k-th smallest lag is the lag of the k-th latest event.
    lag: int = flushed_at_ms - ascending[count - math.ceil(0.99 * count)].as_py()
    return round(max(0, lag) / 1000, 3)


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


@dataclass
class Stats:
    state: State = "Connecting"
    connected: bool = False
    reason: str | None = None
    reconnects: int = 0
    rows_flushed: int = 0
    last_flush_time: datetime.datetime | None = None
    flush_lag_seconds: float | None = None
    _reported_received: int = field(default=0, init=False)
    _reported_at: float | None = field(default=None, init=False)
    _rate: float = field(default=0.0, init=False)

    def line(self, now: datetime.datetime, monotonic: float, received: int) -> dict[str, Any]:
        """The report at ``now``; the message rate is over the time since the previous report, or the one
        before when that was less than a second ago."""
        if self._reported_at is None:
            self._reported_at, self._reported_received = monotonic, received
        elif monotonic - self._reported_at >= RATE_WINDOW_SECONDS:  # else: reports close together, same rate
            self._rate = (received - self._reported_received) / (monotonic - self._reported_at)
            self._reported_at, self._reported_received = monotonic, received
        rate = self._rate
        body: dict[str, Any] = {
            "event": EVENT,
            "state": self.state,
            "connected": self.connected,
            "messagesPerSecond": round(rate, 1),
            "lastFlushTime": _iso(self.last_flush_time),
            "flushLagSeconds": self.flush_lag_seconds,
            "rowsFlushed": self.rows_flushed,
            "reconnects": self.reconnects,
            "reportedAt": _iso(now),
        }
        if self.state != "Streaming" and self.reason:
            body["reason"] = self.reason
        return body
