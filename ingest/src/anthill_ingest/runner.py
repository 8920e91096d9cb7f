"""One ingestion run: plan the window, fetch, write partitions, then the manifest, then the watermark.

The order is the recovery story. Partitions have deterministic names, so writing one again rewrites the
same object with the same bytes; the watermark moves only after every partition and the manifest are
written. A run that dies anywhere before that leaves the old watermark, and the next run redoes the window.

Days up to the previous watermark (the lookback fetched again for late corrections) are written only when
their bytes changed: an unchanged partition keeps its write time, which silver reads as the time its bars
arrived, so the Spark jobs have nothing to redo for it.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from anthill_api import lake
from anthill_api.marketfeed import GROUPED_DAILY_ASSET_CLASSES, GROUPED_DAILY_UNSUPPORTED
from anthill_ingest import calendar, records
from anthill_ingest.client import MarketData
from anthill_ingest.config import ConfigError, FeedConfig
from anthill_ingest.errors import MalformedResponseError, SchemaSurpriseError
from anthill_ingest.sink import Sink

log = logging.getLogger(__name__)
LOOKBACK_TRADING_DAYS = 2  # re-fetched on every run, for late corrections


@dataclass(frozen=True)
class Window:
    start: datetime.date
    end: datetime.date


@dataclass
class Summary:
    """What the run did; one JSON line of it is the pod's termination message."""

    result: str = "Succeeded"
    rows: int = 0
    files: int = 0
    unchanged: int = 0
    requests: int = 0
    watermark: str | None = None
    window: Window | None = None
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    def to_json(self) -> str:
        body: dict[str, Any] = {"result": self.result, "rows": self.rows, "files": self.files,
                                "requests": self.requests, "watermark": self.watermark}  # fmt: skip
        if self.window:
            body["window"] = {"from": str(self.window.start), "to": str(self.window.end)}
        if self.unchanged:
            body["unchanged"] = self.unchanged
        if self.warnings:
            body["warnings"] = self.warnings[:10]
        if self.message:
            body["message"] = self.message[:1000]
        return json.dumps(body, separators=(",", ":"))


Progress = Callable[[str, int], None]  # (description, total) starts a task; ("", 1) advances it


def last_complete_day(asset_class: str, today: datetime.date) -> datetime.date:
    """The newest day whose data is final: the market's last day before today (yesterday for crypto)."""
    return calendar.previous_market_day(asset_class, today)


def plan_window(feed: FeedConfig, watermark: datetime.date | None, today: datetime.date) -> Window | None:
    """Dates this run fetches, or None when the watermark is already current."""
    spec = feed.spec
    end = last_complete_day(spec.asset_class, today)
    if watermark is not None:
        start = watermark
        for _ in range(LOOKBACK_TRADING_DAYS):
            start = calendar.previous_market_day(spec.asset_class, start)
        if watermark >= end:
            return None
    elif spec.backfill is not None:
        start = spec.backfill.from_
    else:
        start = end
    return Window(start, end) if start <= end else None


def state_key(feed: FeedConfig) -> str:
    return lake.state_key(feed.namespace, feed.name)


def partition_dir(feed: FeedConfig) -> str:
    spec = feed.spec
    if spec.dataset == "aggregates":
        bars = spec.bars
        span = f"{bars.multiplier if bars else 1}{bars.timespan if bars else 'day'}"
    elif spec.dataset == "groupedDaily":
        span = "1day"
    elif spec.dataset in ("dividends", "splits"):
        span = "event"
    else:
        span = "snapshot"
    return f"{lake.bronze_prefix(feed.namespace, feed.name)}/{spec.dataset}/{span}"


def read_watermark(sink: Sink, feed: FeedConfig) -> datetime.date | None:
    raw = sink.read(state_key(feed))
    if raw is None:
        return None
    state = json.loads(raw)
    return datetime.date.fromisoformat(state["watermark"]) if state.get("watermark") else None


def parquet_bytes(dataset: str, rows: list[dict[str, Any]]) -> bytes:
    """Deterministic Parquet: same rows in, same bytes out."""
    buffer = io.BytesIO()
    pq.write_table(records.to_table(dataset, rows), buffer, compression="zstd", write_statistics=True)
    return buffer.getvalue()


class Run:
    """Ingest ``feed`` into ``sink`` through ``api``; ``now`` is the run's clock reading."""

    def __init__(self, feed: FeedConfig, api: MarketData, sink: Sink, now: datetime.datetime,
                 progress: Progress | None = None) -> None:  # fmt: skip
        self.feed = feed
        self.api = api
        self.sink = sink
        self.now = now
        self.progress = progress or (lambda _description, _total: None)
        self.summary = Summary()

    def execute(self) -> Summary:
        """Run once. Raises IngestError subclasses (after quarantining what surprised it)."""
        spec = self.feed.spec
        if spec.dataset == "aggregates" and not spec.tickers:
            raise ConfigError("spec.tickers is required when dataset is aggregates")
        if spec.dataset == "groupedDaily" and spec.asset_class not in GROUPED_DAILY_ASSET_CLASSES:
            raise ConfigError(f"spec.assetClass: {GROUPED_DAILY_UNSUPPORTED}")
        watermark = read_watermark(self.sink, self.feed)
        today = self.now.date()
        window = plan_window(self.feed, watermark, today)
        if spec.dataset in ("tickers", "marketHolidays"):
            window = Window(today, today)
        if window is None:
            self.summary.watermark = str(watermark) if watermark else None
            self.summary.message = "up to date"
            return self.summary
        self.summary.window = window
        try:
            partitions = self._fetch(window)
        except (SchemaSurpriseError, MalformedResponseError) as exc:
            self._quarantine(exc)
            raise
        finally:
            self.summary.requests = self.api.requests
        files = self._write_partitions(partitions, watermark)
        manifest = self._write_manifest(window, files)
        self._write_state(window, manifest)
        return self.summary

    def _fetch(self, window: Window) -> dict[datetime.date, list[dict[str, Any]]]:
        spec = self.feed.spec
        partitions: dict[datetime.date, list[dict[str, Any]]] = defaultdict(list)
        for row in self._rows(window):
            day = records.partition_date(spec.dataset, row, self.now.date())
            if spec.dataset in ("aggregates", "groupedDaily") and not window.start <= day <= window.end:
                continue  # a bar stamped outside the window (time zones at the edges) belongs to another run
            partitions[day].append(row)
        return partitions

    def _rows(self, window: Window) -> Iterator[dict[str, Any]]:
        spec = self.feed.spec
        tickers = spec.tickers or []
        if spec.dataset == "aggregates":
            bars = spec.bars
            multiplier, timespan = (bars.multiplier, bars.timespan) if bars else (1, "day")
            yield from self._per_ticker(tickers, lambda t: self.api.aggregates(
                t, multiplier, timespan, window.start, window.end, spec.adjusted))  # fmt: skip
        elif spec.dataset == "groupedDaily":
            days = list(calendar.market_days(spec.asset_class, window.start, window.end))
            self.progress(f"grouped daily {window.start}..{window.end}", len(days))
            for day in days:
                yield from self.api.grouped_daily(day, spec.asset_class, spec.adjusted)
                self.progress("", 1)
        elif spec.dataset == "dividends":
            yield from self._per_ticker(tickers, lambda t: self.api.dividends(t, window.start))
        elif spec.dataset == "splits":
            yield from self._per_ticker(tickers, lambda t: self.api.splits(t, window.start))
        elif spec.dataset == "tickers":
            self.progress(f"{spec.asset_class} tickers", 1)
            yield from self.api.tickers(spec.asset_class)
            self.progress("", 1)
        else:
            self.progress("market holidays", 1)
            yield from self.api.market_holidays()
            self.progress("", 1)

    def _per_ticker(self, tickers: list[str],
                    fetch: Callable[[str], Iterable[dict[str, Any]]]) -> Iterator[dict[str, Any]]:  # fmt: skip
        self.progress(f"{self.feed.spec.dataset} for {len(tickers)} tickers", len(tickers))
        for ticker in tickers:
            count = 0
            for row in fetch(ticker):
                count += 1
                yield row
            if count == 0 and self.feed.spec.dataset == "aggregates":
                warning = f"no data for {ticker} in the window: unknown ticker, or not traded then"
                log.warning(warning)
                self.summary.warnings.append(warning)
            self.progress("", 1)

    def _write_partitions(
        self, partitions: dict[datetime.date, list[dict[str, Any]]], watermark: datetime.date | None
    ) -> list[dict[str, Any]]:
        """Write each day's partition, except a day up to ``watermark`` whose object already holds the same
        bytes; the manifest lists every partition of the window either way."""
        files = []
        base = partition_dir(self.feed)
        for day in sorted(partitions):
            rows = partitions[day]
            key = f"{base}/date={day}/{self.feed.name}.parquet"
            data = parquet_bytes(self.feed.spec.dataset, rows)
            digest = hashlib.sha256(data).hexdigest()
            if watermark is not None and day <= watermark and self.sink.digest(key) == digest:
                self.summary.unchanged += 1
            else:
                self.sink.write(key, data)
                self.summary.files += 1
            files.append({"key": key, "rows": len(rows), "bytes": len(data), "sha256": digest})
            self.summary.rows += len(rows)
        return files

    def _write_manifest(self, window: Window, files: list[dict[str, Any]]) -> str:
        prefix = lake.manifest_prefix(self.feed.namespace, self.feed.name)
        key = f"{prefix}/{window.start}_{window.end}.json"
        manifest = {"feed": f"{self.feed.namespace}/{self.feed.name}", "dataset": self.feed.spec.dataset,
                    "window": {"from": str(window.start), "to": str(window.end)}, "files": files,
                    "rows": self.summary.rows, "requests": self.api.requests,
                    "runAt": self.now.isoformat()}  # fmt: skip
        self.sink.write(key, (json.dumps(manifest, indent=2) + "\n").encode())
        return key

    def _write_state(self, window: Window, manifest: str) -> None:
        state = {"feed": f"{self.feed.namespace}/{self.feed.name}", "dataset": self.feed.spec.dataset,
                 "watermark": str(window.end), "manifest": manifest, "updatedAt": self.now.isoformat()}  # fmt: skip
        self.sink.write(state_key(self.feed), (json.dumps(state, indent=2) + "\n").encode())
        self.summary.watermark = str(window.end)

    def _quarantine(self, error: Exception) -> None:
        """Keep the body that surprised us, with the reason, under _quarantine/; nothing else moves."""
        path = error.path if isinstance(error, MalformedResponseError) else self.api.pool.last_path
        raw = error.raw if isinstance(error, MalformedResponseError) else self.api.pool.last_body
        stamp = self.now.strftime("%Y%m%dT%H%M%SZ")
        base = f"{lake.quarantine_prefix(self.feed.namespace, self.feed.name)}/{stamp}"
        self.sink.write(f"{base}/response.body", raw)
        reason = {"reason": str(error), "path": path, "feed": f"{self.feed.namespace}/{self.feed.name}"}
        self.sink.write(f"{base}/reason.json", (json.dumps(reason, indent=2) + "\n").encode())
        self.summary.message = f"{error} (response kept at {self.sink.uri}/{base}/)"
