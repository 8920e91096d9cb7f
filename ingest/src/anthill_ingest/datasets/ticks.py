"""``trades`` and ``quotes``: every tick of each ticker, a market day at a time, paged from ``/v3/trades`` and
``/v3/quotes`` into one object per ticker and day.

A busy ticker's day is millions of ticks, more than a pod should hold as rows: the day is fetched page by
page (50,000 ticks each), each page becomes Arrow columns and a Parquet row group of the object being built,
and only the compressed object and one page are in memory at a time. The rows are the ones a MarketStream
writes for the same ticks (:mod:`anthill_ingest.stream.events`), so silver deduplicates a stream and a
backfill of the same ticker on the vendor's sequence numbers. The watermark is the last market day whose
ticks are all in bronze; a day is New York's (04:00-20:00 with the extended sessions, and the night around).
"""

from __future__ import annotations

import datetime
from abc import abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest import calendar
from anthill_ingest.client import MarketData
from anthill_ingest.config import ConfigError
from anthill_ingest.datasets.base import PagedDataset, Window
from anthill_ingest.errors import SchemaSurpriseError
from anthill_ingest.records import NEW_YORK
from anthill_ingest.stream import events

PAGE = 50_000  # ticks per request, the API's most, and per row group
NS_PER_S = 1_000_000_000


def day_range_ns(day: datetime.date) -> tuple[int, int]:
    """[start, end) of New York's ``day`` in UTC nanoseconds."""
    start = datetime.datetime.combine(day, datetime.time(), NEW_YORK)
    after = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), NEW_YORK)
    return int(start.timestamp()) * NS_PER_S, int(after.timestamp()) * NS_PER_S


class Ticks(PagedDataset):
    """Ticks of a channel of the stream's (``trades`` or ``quotes``), fetched with ``method`` of the client."""

    channel: ClassVar[str]
    method: ClassVar[str]

    @staticmethod
    @abstractmethod
    def parse(ticker: str, result: Any, /) -> tuple[Any, ...]:
        """One result of the client as the row the stream writes for the same tick."""

    def check(self, spec: MarketFeedSpec) -> None:
        if not spec.tickers:
            raise ConfigError(f"spec.tickers is required when dataset is {self.name}")

    def span(self, spec: MarketFeedSpec) -> str:
        return "tick"

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        days = sum(1 for _ in calendar.market_days(spec.asset_class, window.start, window.end))
        tickers = len(spec.tickers or [])
        return f"{self.name} for {tickers} tickers, {window.start}..{window.end}", tickers * days

    def pages(self, api: MarketData, ticker: str, day: datetime.date) -> Iterator[pa.Table]:
        """The ticker's ticks of ``day``, a page of Arrow columns at a time. A tick of an unexpected shape is
        a schema surprise (the run quarantines the response), never a row with nulls."""
        start, end = day_range_ns(day)
        listing = getattr(api.client, self.method)
        rows: list[tuple[Any, ...]] = []
        for result in api.call(listing, ticker, timestamp_gte=start, timestamp_lt=end, limit=PAGE,
                               sort="timestamp", order="asc"):  # fmt: skip
            rows.append(self.parse(ticker, result))
            if len(rows) == PAGE:
                yield self._table(rows)
                rows = []
        if rows:
            yield self._table(rows)

    def _table(self, rows: list[tuple[Any, ...]]) -> pa.Table:
        table, rejected = events.to_table(self.channel, rows)
        if rejected:
            row, why = rejected[0]
            raise SchemaSurpriseError(f"{self.name} of {row[0]}: {why} ({len(rejected)} ticks of the page)")
        return table


class Trades(Ticks):
    name: ClassVar[str] = "trades"
    channel = "trades"
    method = "list_trades"
    parse = staticmethod(events.rest_trade)
    schema = events.TRADES
    sort_keys = tuple(events.SORT_KEYS["trades"])


class Quotes(Ticks):
    name: ClassVar[str] = "quotes"
    channel = "quotes"
    method = "list_quotes"
    parse = staticmethod(events.rest_quote)
    schema = events.QUOTES
    sort_keys = tuple(events.SORT_KEYS["quotes"])
