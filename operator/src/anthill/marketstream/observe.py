"""What a MarketStream's pod reports, read from its log, and the Ready condition it amounts to. Pure.

The stream process writes one JSON line with ``"event": "StreamStats"`` after every flush, and at least once
per flush interval while idle or disconnected. Reading the newest such line from the pod's log needs no
network path to the pod, no port and no Kubernetes credentials in the pod.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

STATS_EVENT = "StreamStats"
STREAMING = "Streaming"
# A report older than this many flush intervals (plus a minute of slack) means the process is stuck.
STALE_INTERVALS = 3
STALE_SLACK = datetime.timedelta(minutes=1)
# Ready reasons of a stream, besides the shared ones.
STARTING = "Starting"
STALLED = "Stalled"


@dataclass(frozen=True)
class Report:
    """The newest StreamStats line: what status.statistics shows, and the process's state and reason."""

    state: str
    reason: str
    statistics: dict[str, Any]
    reported_at: datetime.datetime


def latest_report(log_text: str | None) -> Report | None:
    """The newest StreamStats line of ``log_text``, or None when it holds none (lines that are not JSON,
    or JSON of other events, are skipped: the log also carries the process's own messages)."""
    for line in reversed((log_text or "").splitlines()):
        if STATS_EVENT not in line:
            continue
        try:
            body = json.loads(line)
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("event") == STATS_EVENT and (report := _report(body)):
            return report
    return None


def _report(body: dict[str, Any]) -> Report | None:
    try:
        reported_at = _instant(body["reportedAt"])
        statistics: dict[str, Any] = {
            "connected": bool(body.get("connected")),
            "messagesPerSecond": round(float(body.get("messagesPerSecond") or 0.0), 1),
            "rowsFlushed": int(body.get("rowsFlushed") or 0),
            "reportedAt": _stamp(reported_at),
        }
        if body.get("lastFlushTime"):
            statistics["lastFlushTime"] = _stamp(_instant(body["lastFlushTime"]))
        if body.get("flushLagSeconds") is not None:
            statistics["flushLagSeconds"] = round(float(body["flushLagSeconds"]), 3)
    except (KeyError, TypeError, ValueError):
        return None  # a line cut short, or of another version: the next one will do
    return Report(str(body.get("state") or ""), str(body.get("reason") or "")[:500], statistics, reported_at)


def _instant(value: Any) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def readiness(report: Report | None, flush_interval: int, now: datetime.datetime) -> tuple[bool, str, str]:
    """(ready, reason, message) of a running stream from its pod's newest report.

    Streaming is ready; a process that reports it cannot stream (``AuthFailed``, ``ChannelNotAuthorized``:
    it keeps retrying, slowly, rather than crash-looping) is not, with the server's reason; no report yet is
    ``Starting``; a report older than a few flush intervals is ``Stalled``.
    """
    if report is None:
        return False, STARTING, "waiting for the stream pod's first report"
    age = now - report.reported_at
    if age > STALE_INTERVALS * datetime.timedelta(seconds=flush_interval) + STALE_SLACK:
        return False, STALLED, f"the stream pod has not reported for {int(age.total_seconds())} s"
    if report.state == STREAMING:
        rate = report.statistics["messagesPerSecond"]
        return True, STREAMING, f"streaming, {rate:g} messages per second"
    reason = report.state or STARTING
    return False, reason, report.reason or f"the stream pod reports {reason}"
