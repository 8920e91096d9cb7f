"""OHLCV bars, the rows of both ``aggregates`` and ``groupedDaily``: one schema, one parser, one day rule."""

from __future__ import annotations

import datetime
from typing import Any

import pyarrow as pa

from anthill_ingest.datasets.base import ColumnarDataset, Row
from anthill_ingest.records import day_zone, integer, number, optional, required, time_ms

SCHEMA = pa.schema([
    pa.field("ticker", pa.string(), nullable=False),
    pa.field("multiplier", pa.int32(), nullable=False),
    pa.field("timespan", pa.string(), nullable=False),
    pa.field("ts", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("open", pa.float64(), nullable=False),
    pa.field("high", pa.float64(), nullable=False),
    pa.field("low", pa.float64(), nullable=False),
    pa.field("close", pa.float64(), nullable=False),
    pa.field("volume", pa.float64(), nullable=False),
    pa.field("vwap", pa.float64()),
    pa.field("transactions", pa.int64()),
    pa.field("adjusted", pa.bool_(), nullable=False),
])  # fmt: skip
SORT_KEYS = ("ticker", "ts")


def bar_row(result: dict[str, Any], ticker: str, multiplier: int, timespan: str, adjusted: bool) -> Row:
    """One aggregate bar (Polygon's short keys o/h/l/c/v/vw/t/n) as a bronze row."""
    what = f"{ticker} bar"
    return {
        "ticker": ticker,
        "multiplier": multiplier,
        "timespan": timespan,
        "ts": time_ms(required(result, "t", what), "t", what),
        **{name: number(required(result, key, what), key, what)
           for name, key in (("open", "o"), ("high", "h"), ("low", "l"), ("close", "c"), ("volume", "v"))},
        "vwap": optional(result, "vw", what, number),
        "transactions": optional(result, "n", what, integer),
        "adjusted": adjusted,
    }  # fmt: skip


def short_keys(agg: Any) -> dict[str, Any]:
    """A massive Agg back in the wire's short keys, so one parser checks both wire and client shapes."""
    return {"o": agg.open, "h": agg.high, "l": agg.low, "c": agg.close, "v": agg.volume, "vw": agg.vwap,
            "t": agg.timestamp, "n": agg.transactions}  # fmt: skip


def market_day(row: Row, asset_class: str) -> datetime.date:
    """The market day a bar falls on (in :func:`anthill_ingest.records.day_zone`), so a day's object holds
    the bars its daily bar covers."""
    ts: datetime.datetime = row["ts"]
    return ts.astimezone(day_zone(asset_class)).date()


class BarDataset(ColumnarDataset):
    """Bars (aggregates, groupedDaily): filed under their market's day, and kept only in the chunk asked for."""

    schema = SCHEMA
    sort_keys = SORT_KEYS

    def partition_date(self, row: Row, run_date: datetime.date, asset_class: str) -> datetime.date:
        """The ``date=`` partition of one bar (:func:`market_day`); pages are dated by
        :func:`anthill_ingest.datasets.bar_pages.dated` to the same day."""
        return market_day(row, asset_class)
