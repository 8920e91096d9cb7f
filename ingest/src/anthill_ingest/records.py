"""Bronze records: an explicit Arrow schema per dataset and the parsing of API results into rows.

Rows carry no wall-clock values, so fetching the same window twice produces the same rows, and the same
Parquet bytes. A result missing a required field, or holding a value of another type than the API documents
(a price as a string, a date that is not one), is a schema surprise: never a row with nulls, never coerced.
"""

from __future__ import annotations

import datetime
import math
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from anthill_ingest.bodies import kind
from anthill_ingest.errors import SchemaSurpriseError

NEW_YORK = ZoneInfo("America/New_York")
UTC_DAY_MARKETS = frozenset({"crypto", "forex"})  # the API's daily bars of these start at 00:00 UTC

BARS = pa.schema([
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
DIVIDENDS = pa.schema([
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
SPLITS = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("ticker", pa.string(), nullable=False),
    pa.field("execution_date", pa.date32(), nullable=False),
    pa.field("split_from", pa.float64(), nullable=False),
    pa.field("split_to", pa.float64(), nullable=False),
])  # fmt: skip
TICKERS = pa.schema([
    pa.field("ticker", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("market", pa.string()),
    pa.field("locale", pa.string()),
    pa.field("primary_exchange", pa.string()),
    pa.field("type", pa.string()),
    pa.field("active", pa.bool_()),
    pa.field("currency_name", pa.string()),
])  # fmt: skip
HOLIDAYS = pa.schema([
    pa.field("date", pa.date32(), nullable=False),
    pa.field("exchange", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("status", pa.string()),
])  # fmt: skip

SCHEMAS = {"aggregates": BARS, "groupedDaily": BARS, "dividends": DIVIDENDS, "splits": SPLITS,
           "tickers": TICKERS, "marketHolidays": HOLIDAYS}  # fmt: skip
SORT_KEYS = {"aggregates": ["ticker", "ts"], "groupedDaily": ["ticker", "ts"], "dividends": ["ticker", "id"],
             "splits": ["ticker", "id"], "tickers": ["ticker"], "marketHolidays": ["date", "exchange"]}  # fmt: skip


def _required(result: dict[str, Any], key: str, what: str) -> Any:
    value = result.get(key)
    if value is None:
        raise SchemaSurpriseError(f"{what} result without {key!r}: {sorted(result)}")
    return value


def _number(value: Any, key: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaSurpriseError(f"{what}: {key!r} is {kind(value)}, not a number")
    if not math.isfinite(value):
        raise SchemaSurpriseError(f"{what}: {key!r} is {value}, not a finite number")
    return float(value)


def _integer(value: Any, key: str, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = value if isinstance(value, float) else kind(value)
        raise SchemaSurpriseError(f"{what}: {key!r} is {shown}, not an integer")
    return value


def _text(value: Any, key: str, what: str) -> str:
    if not isinstance(value, str):
        raise SchemaSurpriseError(f"{what}: {key!r} is {kind(value)}, not a string")
    return value


def _optional(result: dict[str, Any], key: str, what: str, parse: Any) -> Any:
    value = result.get(key)
    return None if value is None else parse(value, key, what)


def _flag(value: Any, key: str, what: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaSurpriseError(f"{what}: {key!r} is {kind(value)}, not a boolean")
    return value


def _day(value: Any, key: str, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(_text(value, key, what))
    except ValueError:
        raise SchemaSurpriseError(f"{what}: {key!r} is {str(value)[:40]!r}, not a date") from None


def _time_ms(value: Any, key: str, what: str) -> datetime.datetime:
    millis = _integer(value, key, what)
    try:
        return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise SchemaSurpriseError(f"{what}: {key!r} is not a time: {str(millis)[:40]} ms") from None


def bar_row(
    result: dict[str, Any], ticker: str, multiplier: int, timespan: str, adjusted: bool
) -> dict[str, Any]:
    """One aggregate bar (Polygon's short keys o/h/l/c/v/vw/t/n) as a bronze row."""
    what = f"{ticker} bar"
    return {
        "ticker": ticker,
        "multiplier": multiplier,
        "timespan": timespan,
        "ts": _time_ms(_required(result, "t", what), "t", what),
        **{name: _number(_required(result, key, what), key, what)
           for name, key in (("open", "o"), ("high", "h"), ("low", "l"), ("close", "c"), ("volume", "v"))},
        "vwap": _optional(result, "vw", what, _number),
        "transactions": _optional(result, "n", what, _integer),
        "adjusted": adjusted,
    }  # fmt: skip


def dividend_row(result: dict[str, Any]) -> dict[str, Any]:
    what = "dividend"
    return {
        "id": _text(_required(result, "id", what), "id", what),
        "ticker": _text(_required(result, "ticker", what), "ticker", what),
        "ex_dividend_date": _day(_required(result, "ex_dividend_date", what), "ex_dividend_date", what),
        "cash_amount": _number(_required(result, "cash_amount", what), "cash_amount", what),
        "currency": _optional(result, "currency", what, _text),
        "declaration_date": _optional(result, "declaration_date", what, _day),
        "record_date": _optional(result, "record_date", what, _day),
        "pay_date": _optional(result, "pay_date", what, _day),
        "frequency": _optional(result, "frequency", what, _integer),
        "dividend_type": _optional(result, "dividend_type", what, _text),
    }


def split_row(result: dict[str, Any]) -> dict[str, Any]:
    what = "split"
    return {
        "id": _text(_required(result, "id", what), "id", what),
        "ticker": _text(_required(result, "ticker", what), "ticker", what),
        "execution_date": _day(_required(result, "execution_date", what), "execution_date", what),
        "split_from": _number(_required(result, "split_from", what), "split_from", what),
        "split_to": _number(_required(result, "split_to", what), "split_to", what),
    }


def ticker_row(result: dict[str, Any]) -> dict[str, Any]:
    what = "ticker reference"
    row = {name: _optional(result, name, what, _text) for name in TICKERS.names if name != "active"}
    row["ticker"] = _text(_required(result, "ticker", what), "ticker", what)
    row["active"] = _optional(result, "active", what, _flag)
    return row


def holiday_row(result: dict[str, Any]) -> dict[str, Any]:
    what = "market holiday"
    return {
        "date": _day(_required(result, "date", what), "date", what),
        "exchange": _text(_required(result, "exchange", what), "exchange", what),
        "name": _optional(result, "name", what, _text),
        "status": _optional(result, "status", what, _text),
    }


def day_zone(asset_class: str) -> datetime.tzinfo:
    """The zone whose calendar days are ``asset_class``'s market days: UTC for crypto and forex, whose daily
    bars are UTC days, New York for the US markets."""
    return datetime.UTC if asset_class in UTC_DAY_MARKETS else NEW_YORK


def partition_date(
    dataset: str, row: dict[str, Any], run_date: datetime.date, asset_class: str
) -> datetime.date:
    """The ``date=`` partition a row belongs to: for bars, the market day it falls on (in
    :func:`day_zone`), so a day's object holds the bars its daily bar covers; the event date for dividends
    and splits; the run's date for reference snapshots."""
    if dataset in ("aggregates", "groupedDaily"):
        ts: datetime.datetime = row["ts"]
        return ts.astimezone(day_zone(asset_class)).date()
    if dataset == "dividends":
        ex: datetime.date = row["ex_dividend_date"]
        return ex
    if dataset == "splits":
        executed: datetime.date = row["execution_date"]
        return executed
    return run_date


def to_table(dataset: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table with the dataset's schema, in a stable order."""
    table = pa.Table.from_pylist(rows, schema=SCHEMAS[dataset])
    return table.sort_by([(key, "ascending") for key in SORT_KEYS[dataset]])
