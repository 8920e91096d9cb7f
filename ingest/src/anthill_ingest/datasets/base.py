"""What every dataset module provides, and the pieces several share.

A dataset is one module under :mod:`anthill_ingest.datasets`: its Arrow schema, how a window of it is
fetched and parsed into rows, which ``date=`` partition a row is filed under and what the watermark means
for it. The runner knows none of these; it plans, fetches, partitions and writes through this interface.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.client import MarketData

Row = dict[str, Any]
DATE_COLUMN = "date"  # the partition a row of a ColumnarDataset's page is filed under (not written)
Progress = Callable[[str, int], None]  # (description, total) starts a task; ("", 1) advances it


@dataclass(frozen=True)
class Window:
    start: datetime.date
    end: datetime.date


class Dataset(ABC):
    """One dataset of the API as bronze. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str]
    schema: ClassVar[pa.Schema]
    sort_keys: ClassVar[tuple[str, ...]]
    # A complete listing: a re-fetch of a day replaces the day's object whole (else a ticker's rows replace
    # that ticker's stored rows of the day, and other tickers keep theirs).
    snapshot: ClassVar[bool] = False

    def check(self, spec: MarketFeedSpec) -> None:  # noqa: B027 - most datasets serve every admitted spec
        """Raise :class:`anthill_ingest.config.ConfigError` naming the field for a spec the API cannot serve
        (admission refuses these too; a run started from a file has no admission)."""

    @abstractmethod
    def span(self, spec: MarketFeedSpec) -> str:
        """The path segment after the dataset's name: bar size, ``event`` or ``snapshot``."""

    def window(self, planned: Window | None, today: datetime.date) -> Window | None:
        """The dates to fetch given the watermark's plan (None: up to date); snapshots fetch today."""
        return planned

    def rows_per_day(self, spec: MarketFeedSpec) -> int | None:
        """A ceiling on the rows one market day brings, or None when the feed cannot be cut into days."""
        return None

    @abstractmethod
    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        """The run's progress task: its description and number of steps (:meth:`fetch` advances it)."""

    def missing_ticker_warnings(self, spec: MarketFeedSpec, seen: set[str]) -> list[str]:
        """Warnings for tickers the whole window brought no rows for (only where that is a surprise)."""
        return []

    def to_table(self, rows: list[Row]) -> pa.Table:
        """Rows as an Arrow table with the dataset's schema, in a stable order."""
        table = pa.Table.from_pylist(rows, schema=self.schema)
        return table.sort_by([(key, "ascending") for key in self.sort_keys])


class RowDataset(Dataset):
    """A dataset whose chunk is fetched as rows, filed by date into one object per feed and day."""

    @abstractmethod
    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        """The chunk's rows, advancing ``progress``; tickers that brought rows are added to ``seen``."""

    def partition_date(self, row: Row, run_date: datetime.date, asset_class: str) -> datetime.date:
        """The ``date=`` partition ``row`` is filed under (default: the run's date, for snapshots)."""
        return run_date


class ColumnarDataset(Dataset):
    """A dataset whose chunk is fetched as pages of Arrow columns, no Python object per row, and filed like a
    :class:`RowDataset`'s into one object per feed and day (the bars: the lake's largest tables)."""

    @abstractmethod
    def fetch_columns(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
                      seen: set[str]) -> Iterator[pa.Table]:  # fmt: skip
        """The chunk's rows, a page at a time, with the dataset's schema and the partition each row is filed
        under as :data:`DATE_COLUMN`, only rows of the chunk's days; advances ``progress`` and adds the tickers
        that brought rows to ``seen``."""


class PagedDataset(Dataset):
    """A dataset too large to hold as rows (a busy ticker's ticks): each ticker's market day is fetched page
    by page into an object of its own, one Arrow page in memory at a time."""

    @abstractmethod
    def pages(self, api: MarketData, ticker: str, day: datetime.date) -> Iterator[pa.Table]:
        """The ticker's rows of ``day``, a page of Arrow columns with the dataset's schema at a time."""

    def object_name(self, feed: str, ticker: str) -> str:
        """The name of the ticker's object in a day's folder: the feed's and the ticker's (a ':' would break
        Hadoop's paths)."""
        return f"{feed}-{ticker.replace(':', '-')}.parquet"


def per_ticker(tickers: Iterable[str], fetch: Callable[[str], Iterable[Row]], progress: Progress,
               seen: set[str]) -> Iterator[Row]:  # fmt: skip
    """Each ticker's rows in turn, one progress step per ticker."""
    for ticker in tickers:
        for row in fetch(ticker):
            seen.add(ticker)
            yield row
        progress("", 1)


class PerTickerEvents(RowDataset):
    """Events asked for ticker by ticker (dividends, splits, news), filed under their own date."""

    def span(self, spec: MarketFeedSpec) -> str:
        return "event"

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        tickers = len(spec.tickers or [])
        return f"{self.name} for {tickers} tickers, {window.start}..{window.end}", tickers * chunks


class DatedEvents(PerTickerEvents):
    """Corporate actions (dividends, splits): every event of a ticker dated on or after the window's start,
    from ``method`` of the client, filed under its ``date_field``."""

    method: ClassVar[str]
    date_field: ClassVar[str]
    limit: ClassVar[int] = 1000

    def query(self, ticker: str, chunk: Window) -> dict[str, Any]:
        """The client method's arguments for ``ticker``'s events dated from the chunk's start on (announced
        ones after its end included), oldest first."""
        return {"ticker": ticker, f"{self.date_field}_gte": chunk.start.isoformat(), "sort": self.date_field,
                "order": "asc", "limit": self.limit}  # fmt: skip

    @abstractmethod
    def row(self, result: dict[str, Any], ticker: str, /) -> Row:
        """One result of the client (as a dict of its fields), asked for ``ticker``, as a bronze row."""

    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        def of(ticker: str) -> Iterator[Row]:
            for item in api.call(getattr(api.client, self.method), **self.query(ticker, chunk)):
                yield self.row(vars(item), ticker)

        return per_ticker(spec.tickers or [], of, progress, seen)

    def partition_date(self, row: Row, run_date: datetime.date, asset_class: str) -> datetime.date:
        day: datetime.date = row[self.date_field]
        return day


class Snapshot(RowDataset):
    """A complete listing fetched whole on every run and filed under the run's date (a re-run replaces the
    day's object whole), whatever the watermark."""

    snapshot = True

    def span(self, spec: MarketFeedSpec) -> str:
        return "snapshot"

    def window(self, planned: Window | None, today: datetime.date) -> Window | None:
        return Window(today, today)
