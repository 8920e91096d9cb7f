"""The medallion jobs: read -> transform chain -> write. Entry points for Databricks and the local runner.

Locally, tables are path-based Delta tables under the lake (``<lake>/silver/bars``); with a catalog they are
Unity Catalog names (``<catalog>.<silver schema>.bars``). Silver is MERGEd, so re-running a bronze window or
receiving a late correction updates rows in place; gold is rebuilt from silver.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

from anthill_spark.schemas import BAR_KEY
from anthill_spark.transforms import gold, silver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SilverInputs:
    """What gold is built from: daily bars with their trading date, and dividends when there are any."""

    daily: DataFrame
    dividends: DataFrame | None


GOLD_TABLES: dict[str, Callable[[SilverInputs], DataFrame]] = {
    "daily_returns": lambda s: s.daily.transform(gold.with_daily_returns),
    "volatility": lambda s: s.daily.transform(gold.with_daily_returns).transform(gold.with_volatility),
    "moving_averages": lambda s: s.daily.transform(gold.with_moving_averages),
    "drawdowns": lambda s: s.daily.transform(gold.with_drawdowns),
    "anomalies": lambda s: s.daily.transform(gold.with_anomalies),
    "market_breadth": lambda s: s.daily.transform(gold.with_market_breadth),
    "yearly_performance": lambda s: gold.with_yearly_performance(s.daily, s.dividends),
}


@dataclass(frozen=True)
class Lake:
    """Where tables live: paths under ``uri``, or Unity Catalog names when ``catalog`` is set."""

    uri: str
    catalog: str | None = None
    silver_schema: str = "silver"
    gold_schema: str = "gold"

    def table(self, layer: str, name: str) -> str:
        if self.catalog:
            schema = self.silver_schema if layer == "silver" else self.gold_schema
            return f"{self.catalog}.{schema}.{name}"
        return f"{self.uri.rstrip('/')}/{layer}/{name}"

    @property
    def bronze(self) -> str:
        return f"{self.uri.rstrip('/')}/bronze"


def read_table(spark: SparkSession, lake: Lake, layer: str, name: str) -> DataFrame:
    where = lake.table(layer, name)
    return spark.read.table(where) if lake.catalog else spark.read.format("delta").load(where)


def table_exists(spark: SparkSession, lake: Lake, layer: str, name: str) -> bool:
    where = lake.table(layer, name)
    return spark.catalog.tableExists(where) if lake.catalog else DeltaTable.isDeltaTable(spark, where)


def _delta(spark: SparkSession, lake: Lake, layer: str, name: str) -> DeltaTable:
    where = lake.table(layer, name)
    return DeltaTable.forName(spark, where) if lake.catalog else DeltaTable.forPath(spark, where)


def overwrite(df: DataFrame, lake: Lake, layer: str, name: str) -> None:
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    where = lake.table(layer, name)
    writer.saveAsTable(where) if lake.catalog else writer.save(where)


def read_bronze(spark: SparkSession, lake: Lake, *datasets: str) -> DataFrame | None:
    """Every bronze row of ``datasets``, with the time its file was written as ingested_at (None if none)."""
    frames = []
    for dataset in datasets:
        path = f"{lake.bronze}/{dataset}"
        spark.catalog.refreshByPath(path)  # a long-lived session must see files rewritten since its last read
        try:
            df = spark.read.option("recursiveFileLookup", "true").parquet(path)
        except Exception as exc:
            if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in str(exc):
                continue
            raise
        frames.append(df.withColumn("ingested_at", F.col("_metadata.file_modification_time")))
    if not frames:
        return None
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def read_bronze_bars(spark: SparkSession, lake: Lake) -> DataFrame:
    """Every bronze bar (aggregates and grouped daily)."""
    bars = read_bronze(spark, lake, "aggregates", "groupedDaily")
    if bars is None:
        raise FileNotFoundError(f"no bronze bars under {lake.bronze}")
    return bars


def merge_by_key(spark: SparkSession, lake: Lake, name: str, df: DataFrame, keys: Sequence[str]) -> None:
    """Upsert ``df`` into silver ``name`` by ``keys``; a row is replaced only by a newer ingestion."""
    if not table_exists(spark, lake, "silver", name):
        overwrite(df, lake, "silver", name)
        return
    condition = " AND ".join(f"t.{key} = s.{key}" for key in keys)
    (
        _delta(spark, lake, "silver", name).alias("t")
        .merge(df.alias("s"), condition)
        .whenMatchedUpdateAll(condition="s.ingested_at > t.ingested_at")
        .whenNotMatchedInsertAll()
        .execute()
    )  # fmt: skip


def bronze_to_silver(spark: SparkSession, lake: Lake) -> dict[str, int]:
    """Bronze bars -> silver.bars (MERGE) and silver.quarantine; returns row counts."""
    checked_df = (
        read_bronze_bars(spark, lake)
        .transform(silver.with_silver_columns)
        .transform(silver.with_latest_ingestion)
        .transform(silver.with_reason)
        .cache()
    )
    valid_df, rejected_df = silver.valid_bars(checked_df), silver.quarantined_bars(checked_df)
    counts = {"bars": valid_df.count(), "quarantined": rejected_df.count()}
    merge_by_key(spark, lake, "bars", valid_df, BAR_KEY)
    if counts["quarantined"]:
        # Keyed by ingestion too: each rejected version of a bar is kept once.
        merge_by_key(spark, lake, "quarantine", rejected_df, [*BAR_KEY, "ingested_at"])
    checked_df.unpersist()
    dividends = read_bronze(spark, lake, "dividends")
    if dividends is not None:
        dividends_df = dividends.transform(silver.with_silver_dividends)
        counts["dividends"] = dividends_df.count()
        merge_by_key(spark, lake, "dividends", dividends_df, ["id"])
    return counts


def silver_to_gold(spark: SparkSession, lake: Lake, tables: Sequence[str]) -> dict[str, int]:
    """Rebuild the requested gold tables from silver.bars; returns row counts."""
    unknown = sorted(set(tables) - set(GOLD_TABLES))
    if unknown:
        raise ValueError(f"unknown gold tables {unknown}; available: {sorted(GOLD_TABLES)}")
    daily_df = read_table(spark, lake, "silver", "bars").transform(gold.with_trading_date).cache()
    has_dividends = table_exists(spark, lake, "silver", "dividends")
    inputs = SilverInputs(daily_df, read_table(spark, lake, "silver", "dividends") if has_dividends else None)
    counts = {}
    for name in tables:
        overwrite(GOLD_TABLES[name](inputs), lake, "gold", name)
        counts[name] = read_table(spark, lake, "gold", name).count()
    daily_df.unpersist()
    return counts


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--lake", required=True, help="lake URI (s3://, s3a://, file://, dbfs:/)")
    parser.add_argument("--catalog", help="Unity Catalog name; tables are path-based without it")
    parser.add_argument("--silver-schema", default="silver")
    parser.add_argument("--gold-schema", default="gold")
    parser.add_argument("--gold", default=",".join(GOLD_TABLES), help="comma-separated gold tables")
    return parser


def _lake(args: argparse.Namespace) -> Lake:
    return Lake(args.lake, args.catalog, args.silver_schema, args.gold_schema)


def _session() -> SparkSession:
    active = SparkSession.getActiveSession()
    if active is not None:  # Databricks, or a caller that configured its own
        return active
    from anthill_spark.session import local_session  # noqa: PLC0415 - only outside Databricks

    return local_session()


def main_bronze_to_silver(argv: Sequence[str] | None = None) -> None:
    """Entry point ``bronze_to_silver`` (Databricks python_wheel_task parameters are argv)."""
    args = _parser("bronze_to_silver").parse_args(argv)
    log.info("silver: %s", bronze_to_silver(_session(), _lake(args)))


def main_silver_to_gold(argv: Sequence[str] | None = None) -> None:
    """Entry point ``silver_to_gold``."""
    args = _parser("silver_to_gold").parse_args(argv)
    log.info("gold: %s", silver_to_gold(_session(), _lake(args), args.gold.split(",")))


def main_all(argv: Sequence[str] | None = None) -> None:
    """Entry point ``all``: silver then gold."""
    args = _parser("all").parse_args(argv)
    spark, lake = _session(), _lake(args)
    log.info("silver: %s", bronze_to_silver(spark, lake))
    log.info("gold: %s", silver_to_gold(spark, lake, args.gold.split(",")))
