"""``dividends``: cash dividends per ticker, filed under their ex-dividend date.

Each run asks for the dividends whose ex-date is on or after the window's start; the watermark is the last
day of the window asked for, and the lookback re-asks two market days, so a late declaration is picked up.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.client import MarketData
from anthill_ingest.datasets.base import Dataset, Progress, Row, Window, per_ticker
from anthill_ingest.records import day, integer, number, optional, required, text

LIMIT = 1000


def dividend_row(result: dict[str, Any]) -> Row:
    what = "dividend"
    return {
        "id": text(required(result, "id", what), "id", what),
        "ticker": text(required(result, "ticker", what), "ticker", what),
        "ex_dividend_date": day(required(result, "ex_dividend_date", what), "ex_dividend_date", what),
        "cash_amount": number(required(result, "cash_amount", what), "cash_amount", what),
        "currency": optional(result, "currency", what, text),
        "declaration_date": optional(result, "declaration_date", what, day),
        "record_date": optional(result, "record_date", what, day),
        "pay_date": optional(result, "pay_date", what, day),
        "frequency": optional(result, "frequency", what, integer),
        "dividend_type": optional(result, "dividend_type", what, text),
    }


class Dividends(Dataset):
    name: ClassVar[str] = "dividends"
    schema = pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("ex_dividend_date", pa.date32(), nullable=False),
        pa.field("cash_amount", pa.float64(), nullable=False),
        pa.field("currency", pa.string()),
        pa.field("declaration_date", pa.date32()),
        pa.field("record_date", pa.date32()),
        pa.field("pay_date", pa.date32()),
        pa.field("frequency", pa.int32()),
        pa.field("dividend_type", pa.string()),
    ])  # fmt: skip
    sort_keys = ("ticker", "id")

    def span(self, spec: MarketFeedSpec) -> str:
        return "event"

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        tickers = len(spec.tickers or [])
        return f"dividends for {tickers} tickers, {window.start}..{window.end}", tickers * chunks

    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        def of(ticker: str) -> Iterator[Row]:
            for item in api.call(api.client.list_dividends, ticker=ticker, limit=LIMIT, order="asc",
                                 ex_dividend_date_gte=chunk.start.isoformat(), sort="ex_dividend_date"):  # fmt: skip
                yield dividend_row(vars(item))

        return per_ticker(spec.tickers or [], of, progress, seen)

    def partition_date(self, row: Row, run_date: datetime.date, asset_class: str) -> datetime.date:
        ex: datetime.date = row["ex_dividend_date"]
        return ex
