"""``groupedDaily``: the whole market's daily bars, one request per market day.

The watermark is the last market day in bronze; a chunk is as many days as fit the run's row budget at a
ceiling of :data:`TICKERS` bars per day.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import ClassVar

from anthill_api.marketfeed import GROUPED_DAILY_ASSET_CLASSES, GROUPED_DAILY_UNSUPPORTED, MarketFeedSpec
from anthill_ingest import calendar
from anthill_ingest.bodies import kind
from anthill_ingest.client import MarketData
from anthill_ingest.config import ConfigError
from anthill_ingest.datasets import bars
from anthill_ingest.datasets.base import Progress, Row, Window
from anthill_ingest.errors import SchemaSurpriseError

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

    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        locale, market = MARKETS[spec.asset_class]
        for day in calendar.market_days(spec.asset_class, chunk.start, chunk.end):
            for agg in api.call(api.client.get_grouped_daily_aggs, day.isoformat(), adjusted=spec.adjusted,
                                locale=locale, market_type=market):  # fmt: skip
                yield bars.bar_row(bars.short_keys(agg), _ticker(agg.ticker, day), 1, "day", spec.adjusted)
            progress("", 1)


def _ticker(ticker: object, day: datetime.date) -> str:
    if ticker is None:
        raise SchemaSurpriseError(f"grouped daily result without 'T' on {day}")
    if not isinstance(ticker, str):
        raise SchemaSurpriseError(f"grouped daily result on {day}: 'T' is {kind(ticker)}, not a string")
    return ticker
