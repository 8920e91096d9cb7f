"""Stream bronze -> silver ticks -> gold per minute, on real local Spark and Delta: duplicates across flush
files and gap fills collapse, minute bars agree with the vendor's aggregates where those agree, and an
incremental build after new ticks equals a full one."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from anthill_spark.jobs.gold import silver_to_gold
from anthill_spark.jobs.silver import bronze_to_silver
from anthill_spark.lake import Lake, read_table

pytestmark = [pytest.mark.integration, pytest.mark.slow]
UTC = datetime.UTC
T0 = datetime.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TIME = pa.timestamp("ms", tz="UTC")
TRADES = pa.schema([("ticker", pa.string()), ("ts", TIME), ("sequence_number", pa.int64()), ("id", pa.string()),
                    ("exchange", pa.int32()), ("tape", pa.int32()), ("price", pa.float64()), ("size", pa.float64()),
                    ("conditions", pa.list_(pa.int32()))])  # fmt: skip
QUOTES = pa.schema([("ticker", pa.string()), ("ts", TIME), ("sequence_number", pa.int64()),
                    ("bid_exchange", pa.int32()), ("bid_price", pa.float64()), ("bid_size", pa.float64()),
                    ("ask_exchange", pa.int32()), ("ask_price", pa.float64()), ("ask_size", pa.float64()),
                    ("conditions", pa.list_(pa.int32())), ("tape", pa.int32())])  # fmt: skip
AGGREGATES = pa.schema([("ticker", pa.string()), ("start", TIME), ("end", TIME), ("open", pa.float64()),
                        ("high", pa.float64()), ("low", pa.float64()), ("close", pa.float64()),
                        ("volume", pa.float64()), ("vwap", pa.float64())])  # fmt: skip


def at(minute: int, second: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minute, seconds=second)


def trade(
    seq: int, minute: int, second: int, price: float, size: float = 100.0, ticker: str = "AAPL"
) -> dict[str, Any]:
    return {"ticker": ticker, "ts": at(minute, second), "sequence_number": seq, "id": str(seq), "exchange": 4,
            "tape": 3, "price": price, "size": size, "conditions": None}  # fmt: skip


def quote(seq: int, minute: int, bid: float, ask: float) -> dict[str, Any]:
    return {"ticker": "AAPL", "ts": at(minute, 1), "sequence_number": seq, "bid_exchange": 11, "bid_price": bid,
            "bid_size": 1.0, "ask_exchange": 12, "ask_price": ask, "ask_size": 1.0, "conditions": None, "tape": 3}  # fmt: skip


def flush(root: Path, channel: str, name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    """One flush file of the stream ``live``, as the stream process lays them out."""
    path = root / "bronze/market/live" / channel / "stream/date=2026-12-01" / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def gold_rows(spark: SparkSession, lake: Lake, name: str) -> list[tuple[Any, ...]]:
    df = read_table(spark, lake, "gold", name).drop("date")
    return sorted(tuple(row) for row in df.collect())


def test_ticks_refine_into_minute_bars_and_spreads_incrementally(spark: SparkSession, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    source = [f"file://{root}/bronze/market/live"]
    lake = Lake(f"file://{root}")
    # Minute 0: four trades, one of them in two flush files (a replay after a crash). Minute 1: two trades.
    flush(
        root,
        "trades",
        "a",
        [trade(1, 0, 1, 10.0), trade(2, 0, 20, 12.0), trade(3, 0, 40, 9.0, 300.0)],
        TRADES,
    )
    flush(root, "trades", "b", [trade(3, 0, 40, 9.0, 300.0), trade(4, 0, 59, 11.0), trade(5, 1, 5, 11.5),
                                trade(6, 1, 30, 11.25)], TRADES)  # fmt: skip
    # The vendor's minute 0 agrees with those trades; its minute 1 does not (another volume).
    flush(root, "minuteAggregates", "a", [
        {"ticker": "AAPL", "start": at(0, 0), "end": at(1, 0), "open": 10.0, "high": 12.0, "low": 9.0, "close": 11.0,
         "volume": 600.0, "vwap": None},
        {"ticker": "AAPL", "start": at(1, 0), "end": at(2, 0), "open": 11.5, "high": 11.5, "low": 11.25,
         "close": 11.25, "volume": 999.0, "vwap": None},
    ], AGGREGATES)  # fmt: skip
    flush(root, "quotes", "a", [quote(1, 0, 10.0, 10.02), quote(2, 0, 10.0, 10.04), quote(2, 0, 10.0, 10.04)],
          QUOTES)  # fmt: skip

    counts = bronze_to_silver(spark, lake, source)
    assert (counts["trades"], counts["quotes"], counts["minute_aggregates"]) == (6, 2, 2)
    assert counts["bars"] == 0  # a stream writes no daily bars, and silver needs none
    results = silver_to_gold(spark, lake, ["intraday_bars", "spreads"])
    assert {name: result.mode for name, result in results.items()} == {
        "intraday_bars": "full",
        "spreads": "full",
    }

    bars = {row["minute"].minute: row for row in read_table(spark, lake, "gold", "intraday_bars").collect()}
    first = bars[0]
    assert (first["open"], first["high"], first["low"], first["close"], first["volume"], first["trades"]) == (
        10.0, 12.0, 9.0, 11.0, 600.0, 4)  # fmt: skip
    assert first["vwap"] == pytest.approx((10 * 100 + 12 * 100 + 9 * 300 + 11 * 100) / 600)
    assert first["matches_vendor"] is True
    assert bars[1]["matches_vendor"] is False
    [spread] = read_table(spark, lake, "gold", "spreads").collect()
    assert spread["quotes"] == 2
    assert spread["mean_spread"] == pytest.approx(0.03)

    # A gap fill lands a trade back in minute 1 and new ticks in minute 2: only minutes 1 and on are rebuilt.
    flush(
        root, "trades", "c", [trade(7, 1, 45, 11.0, 50.0), trade(8, 2, 0, 11.1), trade(5, 1, 5, 11.5)], TRADES
    )
    bronze_to_silver(spark, lake, source)
    results = silver_to_gold(spark, lake, ["intraday_bars", "spreads"])
    assert results["intraday_bars"].mode == f"incremental from {at(1, 0).replace(tzinfo=None)}"
    assert results["spreads"].mode == "up to date"
    assert len(gold_rows(spark, lake, "intraday_bars")) == 3

    full = Lake(f"file://{tmp_path / 'full'}")
    bronze_to_silver(spark, full, source, full=True)
    silver_to_gold(spark, full, ["intraday_bars", "spreads"], full=True)
    for name in ("intraday_bars", "spreads"):
        assert gold_rows(spark, lake, name) == gold_rows(spark, full, name)
