"""Silver ticks -> gold per minute (``intraday_bars``, ``spreads``): rebuilt from the first minute silver
changed since the last build, so a stream's new ticks rewrite the newest minutes only.

Each build records in its Delta commit the newest ``ingested_at`` of the silver table it read; the next
build looks only at silver rows ingested after it, takes the first minute they touch (a gap fill may land
ticks minutes back), and replaces the table's rows from that minute on, or appends them when they are all
past the table's last minute.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

from anthill_spark.jobs.results import GoldResult
from anthill_spark.lake import (
    Lake,
    aggregate_values,
    read_table,
    recorded_metadata,
    rows_written,
    table_exists,
    write_table,
)
from anthill_spark.transforms import intraday

WATERMARK = "anthill.silverWatermark"
DEFINITION = "anthill.definition"


@dataclass(frozen=True)
class IntradayTable:
    """A gold table per (ticker, minute), built from one silver tick table (``source``)."""

    source: str
    build: Callable[[SparkSession, Lake, DataFrame], DataFrame]
    definition: int = 1


def _bars(spark: SparkSession, lake: Lake, trades_df: DataFrame) -> DataFrame:
    has_vendor = table_exists(spark, lake, "silver", "minute_aggregates")
    vendor = read_table(spark, lake, "silver", "minute_aggregates") if has_vendor else None
    return intraday.with_vendor_check(trades_df.transform(intraday.with_intraday_bars), vendor)


INTRADAY_TABLES: dict[str, IntradayTable] = {
    "intraday_bars": IntradayTable("trades", _bars),
    "spreads": IntradayTable(
        "quotes", lambda _spark, _lake, quotes_df: quotes_df.transform(intraday.with_spreads)
    ),
}


def _built_from(spark: SparkSession, lake: Lake, name: str) -> datetime.datetime | None:
    """The silver watermark gold ``name`` was last built from (None: unknown, or another definition)."""
    recorded = recorded_metadata(spark, lake, "gold", name) or {}
    try:
        if int(recorded.get(DEFINITION, 0)) != INTRADAY_TABLES[name].definition:
            return None
        return datetime.datetime.fromisoformat(recorded[WATERMARK])
    except (ValueError, KeyError, TypeError):
        return None


def intraday_to_gold(
    spark: SparkSession, lake: Lake, tables: Sequence[str], full: bool = False
) -> dict[str, GoldResult]:
    """Build the requested per-minute gold tables whose silver source exists (a pipeline without ticks has
    nothing to build them from: they are left out of the result)."""
    done: dict[str, GoldResult] = {}
    for name in tables:
        table = INTRADAY_TABLES[name]
        if not table_exists(spark, lake, "silver", table.source):
            continue
        source = read_table(spark, lake, "silver", table.source)
        before = None if full else _built_from(spark, lake, name)
        done[name] = _build(lake, name, table, source, before)
    return done


def _build(
    lake: Lake, name: str, table: IntradayTable, source: DataFrame, before: datetime.datetime | None
) -> GoldResult:
    spark = source.sparkSession
    new = source if before is None else source.where(F.col("ingested_at") > F.lit(before))
    first, newest = aggregate_values(new, F.min(F.date_trunc("minute", "ts")), F.max("ingested_at"))
    if newest is None:
        return GoldResult(0, None, skipped=True)
    metadata = {WATERMARK: newest.isoformat(), DEFINITION: str(table.definition)}
    if before is None:
        write_table(table.build(spark, lake, source), lake, "gold", name, metadata=metadata)
        return GoldResult(rows_written(spark, lake, "gold", name), None)
    (through,) = aggregate_values(read_table(spark, lake, "gold", name), F.max("minute"))
    rebuilt = table.build(spark, lake, source.where(F.col("ts") >= F.lit(first))).where(
        F.col("minute") >= F.lit(first)
    )
    append = through is not None and first > through
    write_table(rebuilt, lake, "gold", name, replace_where=None if append else f"minute >= '{first}'",
                metadata=metadata, append=append)  # fmt: skip
    return GoldResult(rows_written(spark, lake, "gold", name), first)
