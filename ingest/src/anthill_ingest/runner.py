"""One ingestion run: plan the window, then, chunk by chunk, fetch, write partitions, the manifest, the watermark.

A backfill can hold far more rows than the pod has memory for, so the window is cut into chunks of
consecutive days, each at most ``chunk_rows`` rows by a ceiling on what one market day brings. A chunk is
fetched, written and its watermark moved before the next is fetched; what a run holds at once is one chunk.

The order is the recovery story. Partitions have deterministic names, so writing one again rewrites the same
object with the same bytes; the watermark moves to a chunk's last day only after every partition of the chunk
and its manifest are written. A run that dies anywhere (OOM-killed, say) keeps every chunk it finished, and
the next run starts from its watermark: at most the chunk it was in is fetched again.

A day already in the lake is merged, not replaced: the re-fetched rows of a ticker replace that ticker's
stored rows of the day, and a ticker the re-fetch has no rows for (dropped from the spec, or returned nothing
this time) keeps its stored rows, so fetching a day again never loses rows it does not replace. A day whose
merged bytes are what is stored is not written again: an unchanged partition keeps its write time, which
silver reads as the time its bars arrived, so the Spark jobs have nothing to redo for it.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from anthill_api import lake
from anthill_ingest import calendar
from anthill_ingest.client import MarketData
from anthill_ingest.config import FeedConfig
from anthill_ingest.datasets import Dataset, dataset_for
from anthill_ingest.datasets.base import (
    DATE_COLUMN,
    ColumnarDataset,
    PagedDataset,
    Progress,
    Row,
    RowDataset,
    Window,
)
from anthill_ingest.errors import MalformedResponseError, SchemaSurpriseError
from anthill_ingest.sink import Sink

log = logging.getLogger(__name__)
LOOKBACK_TRADING_DAYS = 2  # re-fetched on every run, for late corrections
# Rows a run holds at once (as Python rows, about 700 bytes each; bars as Arrow columns, about 90): with the
# pages and the interpreter, a run stays well inside the default 1Gi limit.
CHUNK_ROWS = 200_000


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


def plan_chunks(feed: FeedConfig, window: Window, chunk_rows: int) -> list[Window]:
    """``window`` cut into consecutive chunks of at most ``chunk_rows`` rows (by the dataset's rows per day;
    at least one market day each), together covering every date of the window; the window itself when the
    feed cannot be cut into days."""
    per_day = dataset_for(feed.spec.dataset).rows_per_day(feed.spec)
    if per_day is None:
        return [window]
    days = max(1, chunk_rows // max(per_day, 1))
    starts = list(calendar.market_days(feed.spec.asset_class, window.start, window.end))[days::days]
    ends = [start - datetime.timedelta(days=1) for start in starts] + [window.end]
    return [Window(start, end) for start, end in zip([window.start, *starts], ends, strict=True)]


def state_key(feed: FeedConfig) -> str:
    return lake.state_key(feed.namespace, feed.name)


def partition_dir(feed: FeedConfig) -> str:
    spec = feed.spec
    return f"{lake.bronze_prefix(feed.namespace, feed.name)}/{spec.dataset}/{dataset_for(spec.dataset).span(spec)}"


def read_watermark(sink: Sink, feed: FeedConfig) -> datetime.date | None:
    raw = sink.read(state_key(feed))
    if raw is None:
        return None
    state = json.loads(raw)
    return datetime.date.fromisoformat(state["watermark"]) if state.get("watermark") else None


def parquet_bytes(table: pa.Table) -> bytes:
    """Deterministic Parquet: same rows in, same bytes out. Text columns (tickers, names, ids) are dictionary
    encoded; numbers are not, since prices, volumes and times seldom repeat: a dictionary of them costs
    twice the time to write and makes larger files."""
    buffer = io.BytesIO()
    texts = [field.name for field in table.schema if pa.types.is_string(field.type)]
    pq.write_table(table, buffer, compression="zstd", write_statistics=True, use_dictionary=texts)
    return buffer.getvalue()


def by_date(dated: pa.Table, sort_keys: tuple[str, ...]) -> Iterator[tuple[datetime.date, pa.Table]]:
    """Each date's rows of ``dated`` (rows of a dataset's schema and their :data:`DATE_COLUMN`), in date order,
    sorted by ``sort_keys`` (a stable sort: rows of equal keys keep the order they came in), as
    :meth:`~anthill_ingest.datasets.base.Dataset.to_table` orders them."""
    keys = [(DATE_COLUMN, "ascending"), *((key, "ascending") for key in sort_keys)]
    ordered = dated.sort_by(keys).combine_chunks()
    dates = ordered[DATE_COLUMN].combine_chunks()
    table = ordered.drop_columns([DATE_COLUMN])
    start = 0
    for end in pc.run_end_encode(dates).run_ends.to_pylist() if len(dates) else []:
        yield dates[start].as_py(), table.slice(start, end - start)
        start = end


def merge_partition(dataset: Dataset, stored: pa.Table, fetched: pa.Table) -> pa.Table:
    """A day's ``fetched`` rows with the ``stored`` rows they do not replace, in the dataset's order.

    The unit replaced is a ticker's rows of the day: a ticker with rows in ``fetched`` gets exactly those (a
    bar the provider withdrew goes), one without keeps its stored rows. Reference snapshots are complete
    listings and replace the day's object whole. Raises ``pyarrow.ArrowException`` or ``KeyError`` when
    ``stored`` is not of the dataset's schema."""
    if dataset.snapshot:
        return fetched
    stored = stored.select(dataset.schema.names).cast(dataset.schema)
    kept = stored.filter(pc.invert(pc.is_in(stored["ticker"], value_set=pc.unique(fetched["ticker"]))))
    if kept.num_rows == 0:
        return fetched
    merged = pa.concat_tables([kept, fetched])
    return merged.sort_by([(key, "ascending") for key in dataset.sort_keys]).combine_chunks()


class Run:
    """Ingest ``feed`` into ``sink`` through ``api``; ``now`` is the run's clock reading, ``chunk_rows`` the
    most rows it holds at once."""

    def __init__(self, feed: FeedConfig, api: MarketData, sink: Sink, now: datetime.datetime,
                 progress: Progress | None = None, chunk_rows: int = CHUNK_ROWS) -> None:  # fmt: skip
        self.feed = feed
        self.api = api
        self.sink = sink
        self.now = now
        self.progress = progress or (lambda _description, _total: None)
        self.chunk_rows = chunk_rows
        self.summary = Summary()
        self.dataset = dataset_for(feed.spec.dataset)
        self._with_data: set[str] = set()  # tickers that brought rows in any chunk

    def execute(self) -> Summary:
        """Run once. Raises IngestError subclasses (after quarantining what surprised it); the chunks done by
        then stay done, and the summary tells how far the watermark got."""
        spec = self.feed.spec
        self.dataset.check(spec)
        watermark = read_watermark(self.sink, self.feed)
        today = self.now.date()
        window = self.dataset.window(plan_window(self.feed, watermark, today), today)
        if window is None:
            self.summary.watermark = str(watermark) if watermark else None
            self.summary.message = "up to date"
            return self.summary
        self.summary.window = window
        chunks = plan_chunks(self.feed, window, self.chunk_rows)
        self.progress(*self.dataset.describe(spec, window, len(chunks)))
        for chunk in chunks:
            requests_before = self.api.requests
            dataset = self.dataset
            if isinstance(dataset, PagedDataset):
                files = self._write_pages(dataset, chunk)
            elif isinstance(dataset, ColumnarDataset):
                files = self._write_partitions(
                    by_date(self._fetch_columns(dataset, chunk), dataset.sort_keys)
                )
            else:
                files = self._write_partitions(self._tables(self._fetch(dataset, chunk)))
            manifest = self._write_manifest(chunk, files, self.api.requests - requests_before)
            # Never backwards: the lookback's first chunk ends before the days a previous run completed.
            watermark = chunk.end if watermark is None else max(watermark, chunk.end)
            self._write_state(watermark, manifest)
        for warning in self.dataset.missing_ticker_warnings(spec, self._with_data):
            log.warning("%s", warning)
            self.summary.warnings.append(warning)
        return self.summary

    def _fetch(self, dataset: RowDataset, chunk: Window) -> dict[datetime.date, list[Row]]:
        spec = self.feed.spec
        partitions: dict[datetime.date, list[Row]] = defaultdict(list)
        try:
            for row in dataset.fetch(self.api, spec, chunk, self.progress, self._with_data):
                partitions[dataset.partition_date(row, self.now.date(), spec.asset_class)].append(row)
        except (SchemaSurpriseError, MalformedResponseError) as exc:
            self._quarantine(exc)
            raise
        finally:
            self.summary.requests = self.api.requests
        return partitions

    def _tables(self, partitions: dict[datetime.date, list[Row]]) -> Iterator[tuple[datetime.date, pa.Table]]:
        """Each day's rows as a table, in date order; what is written is let go: a chunk's rows leave memory
        day by day."""
        for day in sorted(partitions):
            yield day, self.dataset.to_table(partitions.pop(day))

    def _fetch_columns(self, dataset: ColumnarDataset, chunk: Window) -> pa.Table:
        """The chunk's pages, dated (:data:`DATE_COLUMN`), as one table in the order they came."""
        try:
            pages = list(
                dataset.fetch_columns(self.api, self.feed.spec, chunk, self.progress, self._with_data)
            )
        except (SchemaSurpriseError, MalformedResponseError) as exc:
            self._quarantine(exc)
            raise
        finally:
            self.summary.requests = self.api.requests
        if not pages:
            return dataset.schema.append(pa.field(DATE_COLUMN, pa.date32())).empty_table()
        return pa.concat_tables(pages)

    def _write_partitions(self, partitions: Iterator[tuple[datetime.date, pa.Table]]) -> list[dict[str, Any]]:
        """Write each day's partition, merged with what is stored, unless the stored object already holds
        the same bytes; the manifest lists every partition of the chunk either way."""
        files = []
        base = partition_dir(self.feed)
        for day, fetched in partitions:
            key = f"{base}/date={day}/{self.feed.name}.parquet"
            table, data, unchanged = self._merged(key, fetched)
            if unchanged:
                self.summary.unchanged += 1
            else:
                self.sink.write(key, data)
                self.summary.files += 1
            digest = hashlib.sha256(data).hexdigest()
            files.append({"key": key, "rows": table.num_rows, "bytes": len(data), "sha256": digest})
            self.summary.rows += fetched.num_rows
        return files

    def _write_pages(self, dataset: PagedDataset, chunk: Window) -> list[dict[str, Any]]:
        """Each ticker's market days of the chunk, page by page, into an object per ticker and day (written
        unless the stored one holds the same bytes); what is held at once is the object being built and one
        page. A re-fetched ticker-day replaces its object whole: it is the ticker's complete day."""
        spec = self.feed.spec
        files = []
        base = partition_dir(self.feed)
        for day in calendar.market_days(spec.asset_class, chunk.start, chunk.end):
            for ticker in spec.tickers or []:
                key = f"{base}/date={day}/{dataset.object_name(self.feed.name, ticker)}"
                buffer = io.BytesIO()
                rows = 0
                try:
                    with pq.ParquetWriter(buffer, dataset.schema, compression="zstd") as writer:
                        for page in dataset.pages(self.api, ticker, day):
                            writer.write_table(page)
                            rows += page.num_rows
                except (SchemaSurpriseError, MalformedResponseError) as exc:
                    self._quarantine(exc)
                    raise
                finally:
                    self.summary.requests = self.api.requests
                self.progress("", 1)
                if rows:
                    self._with_data.add(ticker)
                data = buffer.getvalue()
                digest = hashlib.sha256(data).hexdigest()
                if self.sink.digest(key) == digest:
                    self.summary.unchanged += 1
                else:
                    self.sink.write(key, data)
                    self.summary.files += 1
                files.append({"key": key, "rows": rows, "bytes": len(data), "sha256": digest})
                self.summary.rows += rows
        return files

    def _merged(self, key: str, fetched: pa.Table) -> tuple[pa.Table, bytes, bool]:
        """What ``key`` should hold, ``fetched`` merged with the stored object (:func:`merge_partition`), as
        a table and as bytes, and whether the stored object holds those bytes already. The stored digest
        answers the common case, a re-fetch that changed nothing, without downloading the object."""
        data = parquet_bytes(fetched)
        if self.sink.digest(key) == hashlib.sha256(data).hexdigest():
            return fetched, data, True
        stored = self.sink.read(key)
        if stored is None:
            return fetched, data, False
        try:
            merged = merge_partition(self.dataset, pq.read_table(io.BytesIO(stored)), fetched)
        except (pa.ArrowException, KeyError) as exc:
            self._keep_unreadable(key, stored, exc)
            return fetched, data, False
        if merged is not fetched:
            data = parquet_bytes(merged)
        return merged, data, data == stored

    def _keep_unreadable(self, key: str, stored: bytes, error: Exception) -> None:
        """A stored object that is not this dataset's Parquet cannot be merged: keep it under _quarantine/
        before the fetched rows replace it, so that no rows are lost unseen."""
        base = f"{lake.quarantine_prefix(self.feed.namespace, self.feed.name)}/{self.now:%Y%m%dT%H%M%SZ}"
        kept = f"{base}/{key.rsplit('/', 2)[-2]}/{key.rsplit('/', 1)[-1]}"
        self.sink.write(kept, stored)
        warning = f"{key} was not readable as {self.feed.spec.dataset} Parquet ({str(error)[:200]}): replaced, " \
            f"the old object kept at {self.sink.uri}/{kept}"  # fmt: skip
        log.warning("%s", warning)
        self.summary.warnings.append(warning)

    def _write_manifest(self, chunk: Window, files: list[dict[str, Any]], requests: int) -> str:
        prefix = lake.manifest_prefix(self.feed.namespace, self.feed.name)
        key = f"{prefix}/{chunk.start}_{chunk.end}.json"
        manifest = {"feed": f"{self.feed.namespace}/{self.feed.name}", "dataset": self.feed.spec.dataset,
                    "window": {"from": str(chunk.start), "to": str(chunk.end)}, "files": files,
                    "rows": sum(f["rows"] for f in files), "requests": requests,
                    "runAt": self.now.isoformat()}  # fmt: skip
        self.sink.write(key, (json.dumps(manifest, indent=2) + "\n").encode())
        return key

    def _write_state(self, watermark: datetime.date, manifest: str) -> None:
        state = {"feed": f"{self.feed.namespace}/{self.feed.name}", "dataset": self.feed.spec.dataset,
                 "watermark": str(watermark), "manifest": manifest, "updatedAt": self.now.isoformat()}  # fmt: skip
        self.sink.write(state_key(self.feed), (json.dumps(state, indent=2) + "\n").encode())
        self.summary.watermark = str(watermark)

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
