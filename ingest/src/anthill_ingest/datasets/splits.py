"""``splits``: stock splits per ticker, filed under their execution date (the watermark as for dividends)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.client import MarketData
from anthill_ingest.datasets.base import Dataset, Progress, Row, Window, per_ticker
from anthill_ingest.records import day, number, required, text

LIMIT = 1000


def split_row(result: dict[str, Any]) -> Row:
    what = "split"
    return {
        "id": text(required(result, "id", what), "id", what),
        "ticker": text(required(result, "ticker", what), "ticker", what),
        "execution_date": day(required(result, "execution_date", what), "execution_date", what),
        "split_from": number(required(result, "split_from", what), "split_from", what),
        "split_to": number(required(result, "split_to", what), "split_to", what),
    }


class Splits(Dataset):
    name: ClassVar[str] = "splits"
    schema = pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("execution_date", pa.date32(), nullable=False),
        pa.field("split_from", pa.float64(), nullable=False),
        pa.field("split_to", pa.float64(), nullable=False),
    ])  # fmt: skip
    sort_keys = ("ticker", "id")

    def span(self, spec: MarketFeedSpec) -> str:
        return "event"

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        tickers = len(spec.tickers or [])
        return f"splits for {tickers} tickers, {window.start}..{window.end}", tickers * chunks

    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        def of(ticker: str) -> Iterator[Row]:
            for item in api.call(api.client.list_splits, ticker=ticker, limit=LIMIT, order="asc",
                                 execution_date_gte=chunk.start.isoformat(), sort="execution_date"):  # fmt: skip
                yield split_row(vars(item))

        return per_ticker(spec.tickers or [], of, progress, seen)

    def partition_date(self, row: Row, run_date: datetime.date, asset_class: str) -> datetime.date:
        executed: datetime.date = row["execution_date"]
        return executed
