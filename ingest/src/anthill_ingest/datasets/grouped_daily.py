"""``groupedDaily``: the whole market's daily bars, one request per market day.

The watermark is the last market day in bronze; a chunk is as many days as fit the run's row budget at a
ceiling of :data:`TICKERS` bars per day.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pyarrow as pa

from anthill_api.marketfeed import GROUPED_DAILY_ASSET_CLASSES, GROUPED_DAILY_UNSUPPORTED, MarketFeedSpec
from anthill_ingest import calendar
from anthill_ingest.client import MarketData
from anthill_ingest.config import ConfigError
from anthill_ingest.datasets import bar_pages, bars
from anthill_ingest.datasets.base import Progress, Window

TICKERS = 20_000  # a ceiling on one day of a whole market (US stocks: about 12,000)
# (locale, market) of the grouped daily endpoint per asset class: US stocks, the global crypto and fx markets.
MARKETS = {"stocks": ("us", "stocks"), "crypto": ("global", "crypto"), "forex": ("global", "fx")}


class GroupedDaily(bars.BarDataset):
    name: ClassVar[str] = "groupedDaily"

    def check(self, spec: MarketFeedSpec) -> None:
        if spec.asset_class not in GROUPED_DAILY_ASSET_CLASSES:
            raise ConfigError(f"spec.assetClass: {GROUPED_DAILY_UNSUPPORTED}")

    def span(self, spec: MarketFeedSpec) -> str:
        return "1day"

    def rows_per_day(self, spec: MarketFeedSpec) -> int | None:
        return TICKERS

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        days = sum(1 for _ in calendar.market_days(spec.asset_class, window.start, window.end))
        return f"grouped daily {window.start}..{window.end}", days

    def fetch_columns(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
                      seen: set[str]) -> Iterator[pa.Table]:  # fmt: skip
        locale, market = MARKETS[spec.asset_class]
        for day in calendar.market_days(spec.asset_class, chunk.start, chunk.end):
            path, raw = api.raw_page(api.client.get_grouped_daily_aggs, day.isoformat(), adjusted=spec.adjusted,
                                     locale=locale, market_type=market)  # fmt: skip
            shared = bar_pages.Bars("get_grouped_daily_aggs", None, 1, "day", spec.adjusted, day)
            page = bar_pages.parse_page(raw, path, shared).table
            yield bar_pages.dated(page, chunk, spec.asset_class)
            progress("", 1)
