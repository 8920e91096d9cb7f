"""Bronze records: an explicit Arrow schema per dataset and the parsing of API results into rows.

Rows carry no wall-clock values, so fetching the same window twice produces the same rows, and the same
Parquet bytes. A result missing a required field is a schema surprise, not a row with nulls.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

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


def _date(value: Any) -> datetime.date | None:
    return datetime.date.fromisoformat(str(value)) if value else None


def bar_row(
    result: dict[str, Any], ticker: str, multiplier: int, timespan: str, adjusted: bool
) -> dict[str, Any]:
    """One aggregate bar (Polygon's short keys o/h/l/c/v/vw/t/n) as a bronze row."""
    what = f"{ticker} bar"
    return {
        "ticker": ticker,
        "multiplier": multiplier,
        "timespan": timespan,
        "ts": datetime.datetime.fromtimestamp(int(_required(result, "t", what)) / 1000, tz=datetime.UTC),
        "open": float(_required(result, "o", what)),
        "high": float(_required(result, "h", what)),
        "low": float(_required(result, "l", what)),
        "close": float(_required(result, "c", what)),
        "volume": float(_required(result, "v", what)),
        "vwap": float(result["vw"]) if result.get("vw") is not None else None,
        "transactions": int(result["n"]) if result.get("n") is not None else None,
        "adjusted": adjusted,
    }


def dividend_row(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(_required(result, "id", "dividend")),
        "ticker": str(_required(result, "ticker", "dividend")),
        "ex_dividend_date": _date(_required(result, "ex_dividend_date", "dividend")),
        "cash_amount": float(_required(result, "cash_amount", "dividend")),
        "currency": result.get("currency"),
        "declaration_date": _date(result.get("declaration_date")),
        "record_date": _date(result.get("record_date")),
        "pay_date": _date(result.get("pay_date")),
        "frequency": result.get("frequency"),
        "dividend_type": result.get("dividend_type"),
    }


def split_row(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(_required(result, "id", "split")),
        "ticker": str(_required(result, "ticker", "split")),
        "execution_date": _date(_required(result, "execution_date", "split")),
        "split_from": float(_required(result, "split_from", "split")),
        "split_to": float(_required(result, "split_to", "split")),
    }


def ticker_row(result: dict[str, Any]) -> dict[str, Any]:
    row = {name: result.get(name) for name in TICKERS.names}
    row["ticker"] = str(_required(result, "ticker", "ticker reference"))
    return row


def holiday_row(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": _date(_required(result, "date", "market holiday")),
        "exchange": str(_required(result, "exchange", "market holiday")),
        "name": result.get("name"),
        "status": result.get("status"),
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
