"""``marketHolidays``: the exchanges' upcoming holidays and early closes, a complete listing filed under the
run's date (fetched every run, like ``tickers``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.client import MarketData
from anthill_ingest.datasets.base import Progress, Row, Snapshot, Window
from anthill_ingest.records import day, optional, required, text


def holiday_row(result: dict[str, Any]) -> Row:
    what = "market holiday"
    return {
        "date": day(required(result, "date", what), "date", what),
        "exchange": text(required(result, "exchange", what), "exchange", what),
        "name": optional(result, "name", what, text),
        "status": optional(result, "status", what, text),
    }


class MarketHolidays(Snapshot):
    name: ClassVar[str] = "marketHolidays"
    schema = pa.schema([
        pa.field("date", pa.date32(), nullable=False),
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("status", pa.string()),
    ])  # fmt: skip
    sort_keys = ("date", "exchange")

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        return "market holidays", 1

    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        for item in api.call(api.client.get_market_holidays):
            yield holiday_row(vars(item))
        progress("", 1)
