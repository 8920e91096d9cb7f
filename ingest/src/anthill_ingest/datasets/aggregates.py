"""``aggregates``: OHLCV bars of ``multiplier`` x ``timespan`` per ticker, one request series per ticker.

The watermark is the last market day whose bars are all in bronze; a day is cut out of the window by the
market's calendar, so a backfill of any length is fetched in chunks of whole days.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from typing import ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest import records
from anthill_ingest.client import MarketData
from anthill_ingest.config import ConfigError
from anthill_ingest.datasets import bar_pages, bars
from anthill_ingest.datasets.base import Progress, Window

log = logging.getLogger(__name__)
LIMIT = 50_000  # bars per page, the API's most
# Ceilings on the minutes of one market day that have bars: US stocks and options trade 04:00-20:00 New York
# with the extended sessions; crypto, forex and index values may tick around the clock.
SESSION_MINUTES = {"stocks": 16 * 60, "options": 16 * 60}
DAY_MINUTES = 24 * 60


def bar_size(spec: MarketFeedSpec) -> tuple[int, str]:
    return (spec.bars.multiplier, spec.bars.timespan) if spec.bars else (1, "day")


def request_range(spec: MarketFeedSpec, chunk: Window) -> tuple[datetime.date, datetime.date]:
    """The range to ask for a chunk's bars: its dates, or for intraday bars the exact instants of its market
    days (:func:`records.day_zone`), since the API's reading of a bare date need not be the market's day."""
    if bar_size(spec)[1] not in ("minute", "hour"):
        return chunk.start, chunk.end
    zone = records.day_zone(spec.asset_class)
    start = datetime.datetime.combine(chunk.start, datetime.time(), zone)
    after = datetime.datetime.combine(chunk.end + datetime.timedelta(days=1), datetime.time(), zone)
    return start, after - datetime.timedelta(milliseconds=1)


def _bound(value: datetime.date) -> str | datetime.datetime:
    """A range bound as the client takes it: a date as YYYY-MM-DD, a datetime as is (sent as epoch ms)."""
    return value if isinstance(value, datetime.datetime) else value.isoformat()


def fetch_bars(api: MarketData, ticker: str, multiplier: int, timespan: str, start: datetime.date,
               end: datetime.date, adjusted: bool) -> Iterator[pa.Table]:  # fmt: skip
    """Bars from ``start`` to ``end``, both inclusive (dates, or datetimes for exact instants), a page of
    :data:`~anthill_ingest.datasets.bars.SCHEMA` at a time, following ``next_url`` as the client does."""
    shared = bar_pages.Bars("list_aggs", ticker, multiplier, timespan, adjusted)
    path, raw = api.raw_page(api.client.list_aggs, ticker, multiplier, timespan, _bound(start), _bound(end),
                             adjusted=adjusted, sort="asc", limit=LIMIT)  # fmt: skip
    while True:
        page = bar_pages.parse_page(raw, path, shared)
        yield page.table
        if page.next_path is None:
            return
        path, raw = api.next_raw_page(shared.method, page.next_path)


class Aggregates(bars.BarDataset):
    name: ClassVar[str] = "aggregates"

    def check(self, spec: MarketFeedSpec) -> None:
        if not spec.tickers:
            raise ConfigError("spec.tickers is required when dataset is aggregates")

    def span(self, spec: MarketFeedSpec) -> str:
        multiplier, timespan = bar_size(spec)
        return f"{multiplier}{timespan}"

    def rows_per_day(self, spec: MarketFeedSpec) -> int | None:
        """Bars of several days, of weeks or of months start where the requested range starts: no cut."""
        multiplier, timespan = bar_size(spec)
        minutes = SESSION_MINUTES.get(spec.asset_class, DAY_MINUTES)
        if timespan == "minute":
            per_ticker_day = -(-minutes // multiplier)
        elif timespan == "hour":
            per_ticker_day = -(-minutes // (60 * multiplier))
        elif timespan == "day" and multiplier == 1:
            per_ticker_day = 1
        else:
            return None
        return per_ticker_day * len(spec.tickers or [])

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        tickers = len(spec.tickers or [])
        return f"aggregates for {tickers} tickers, {window.start}..{window.end}", tickers * chunks

    def fetch_columns(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
                      seen: set[str]) -> Iterator[pa.Table]:  # fmt: skip
        multiplier, timespan = bar_size(spec)
        start, end = request_range(spec, chunk)
        for ticker in spec.tickers or []:
            for page in fetch_bars(api, ticker, multiplier, timespan, start, end, spec.adjusted):
                if page.num_rows:
                    seen.add(ticker)
                yield bar_pages.dated(page, chunk, spec.asset_class)
            progress("", 1)

    def missing_ticker_warnings(self, spec: MarketFeedSpec, seen: set[str]) -> list[str]:
        return [f"no data for {ticker} in the window: unknown ticker, or not traded then"
                for ticker in spec.tickers or [] if ticker not in seen]  # fmt: skip
