"""``tickers``: the market's active tickers, a complete listing filed under the run's date.

Every run fetches today's listing whatever the watermark (a re-run replaces the day's object whole).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.client import MarketData
from anthill_ingest.datasets.base import Progress, Row, Snapshot, Window
from anthill_ingest.records import flag, optional, required, text

LIMIT = 1000
MARKETS = {"stocks": "stocks", "indices": "indices", "crypto": "crypto", "forex": "fx", "options": "options"}
SCHEMA = pa.schema([
    pa.field("ticker", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("market", pa.string()),
    pa.field("locale", pa.string()),
    pa.field("primary_exchange", pa.string()),
    pa.field("type", pa.string()),
    pa.field("active", pa.bool_()),
    pa.field("currency_name", pa.string()),
])  # fmt: skip


def ticker_row(result: dict[str, Any]) -> Row:
    what = "ticker reference"
    row = {name: optional(result, name, what, text) for name in SCHEMA.names if name != "active"}
    row["ticker"] = text(required(result, "ticker", what), "ticker", what)
    row["active"] = optional(result, "active", what, flag)
    return row


class Tickers(Snapshot):
    name: ClassVar[str] = "tickers"
    schema = SCHEMA
    sort_keys = ("ticker",)

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        return f"{spec.asset_class} tickers", 1

    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        for item in api.call(
            api.client.list_tickers, market=MARKETS[spec.asset_class], active=True, limit=LIMIT
        ):
            yield ticker_row(vars(item))
        progress("", 1)
