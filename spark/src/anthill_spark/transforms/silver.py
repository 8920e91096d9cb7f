"""Bronze bars -> silver bars: typed, deduplicated, validated.

A bar failing a validity rule goes to quarantine with the rule it broke; it never reaches silver.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

from anthill_spark.schemas import BAR_KEY, SILVER_BARS


def invalid_reason() -> Column:
    """The first validity rule a bar breaks, or null when it breaks none."""
    return (
        F.when(F.col("open").isNull() | F.col("high").isNull() | F.col("low").isNull() | F.col("close").isNull(),
               F.lit("missing price"))
        .when((F.col("open") <= 0) | (F.col("high") <= 0) | (F.col("low") <= 0) | (F.col("close") <= 0),
              F.lit("price <= 0"))
        .when(F.col("high") < F.greatest("open", "close"), F.lit("high < max(open, close)"))
        .when(F.col("low") > F.least("open", "close"), F.lit("low > min(open, close)"))
        .when(F.col("volume").isNull() | (F.col("volume") < 0), F.lit("volume < 0"))
    )  # fmt: skip


def with_silver_columns(bronze_df: DataFrame) -> DataFrame:
    """Bronze columns renamed and typed as silver (``timespan`` carries the multiplier: ``5minute``)."""
    return bronze_df.select(
        F.col("ticker").cast("string").alias("ticker"),
        F.concat(F.col("multiplier").cast("string"), F.col("timespan")).alias("timespan"),
        F.col("ts").cast("timestamp").alias("ts"),
        *(F.col(c).cast("double").alias(c) for c in ("open", "high", "low", "close", "volume", "vwap")),
        F.col("transactions").cast("long").alias("transactions"),
        F.col("adjusted").cast("boolean").alias("adjusted"),
        F.col("ingested_at").cast("timestamp").alias("ingested_at"),
    )


def _latest_per(df: DataFrame, keys: list[str]) -> DataFrame:
    """One row per ``keys``: the newest ingestion's values, stamped with the first ingestion that has
    carried them since they last changed.

    A re-fetch that returns the same values is not a change: the row keeps its earlier ``ingested_at``.
    That is also what MERGE does when such a re-fetch arrives in a later run, so one run over every
    bronze file and any sequence of runs over the same files give the same rows.
    """
    values = F.struct(*(c for c in df.columns if c not in keys and c != "ingested_at"))
    newest_first = Window.partitionBy(*keys).orderBy(F.col("ingested_at").desc())
    so_far = newest_first.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    ranked = (
        df.withColumn("_rank", F.row_number().over(newest_first))
        .withColumn("_same", values.eqNullSafe(F.first(values).over(so_far)).cast("int"))
        # Still in the newest run of identical values: every newer version had them too.
        .withColumn("_run", F.min("_same").over(so_far) == 1)
        .withColumn(
            "_since", F.min(F.when(F.col("_run"), F.col("ingested_at"))).over(Window.partitionBy(*keys))
        )
    )
    newest = ranked.where("_rank = 1").withColumn("ingested_at", F.col("_since"))
    return newest.drop("_rank", "_same", "_run", "_since")


def with_latest_ingestion(bars_df: DataFrame) -> DataFrame:
    """One row per (ticker, timespan, ts): the most recently ingested (a late correction wins)."""
    return _latest_per(bars_df, BAR_KEY)


def with_reason(bars_df: DataFrame) -> DataFrame:
    return bars_df.withColumn("reason", invalid_reason())


def valid_bars(checked_df: DataFrame) -> DataFrame:
    """Rows without a reason, in silver's schema."""
    rows = checked_df.where(F.col("reason").isNull()).drop("reason")
    return rows.select(*(F.col(f.name).cast(f.dataType) for f in SILVER_BARS.fields))


def quarantined_bars(checked_df: DataFrame) -> DataFrame:
    """Rows with a reason, kept whole so they can be inspected and replayed."""
    return checked_df.where(F.col("reason").isNotNull())


def latest_valid_bars(checked_df: DataFrame) -> DataFrame:
    """The newest valid version of each bar, in silver's schema.

    Validity is judged before deduplication: a broken correction is quarantined and the last good version
    of the bar stays, whether the two arrive in one run or in separate ones.
    """
    return with_latest_ingestion(valid_bars(checked_df))


def with_silver_dividends(bronze_df: DataFrame) -> DataFrame:
    """Bronze dividends typed, one row per dividend id (the latest ingestion)."""
    typed = bronze_df.select(
        F.col("id").cast("string").alias("id"),
        F.col("ticker").cast("string").alias("ticker"),
        F.col("ex_dividend_date").cast("date").alias("ex_dividend_date"),
        F.col("pay_date").cast("date").alias("pay_date"),
        F.col("cash_amount").cast("double").alias("cash_amount"),
        F.col("currency").cast("string").alias("currency"),
        F.col("ingested_at").cast("timestamp").alias("ingested_at"),
    )
    return _latest_per(typed, ["id"])


def with_silver_splits(bronze_df: DataFrame) -> DataFrame:
    """Bronze splits typed, one row per split id (the latest ingestion). ``split_from`` old shares become
    ``split_to`` new ones on ``execution_date``: a 4-for-1 split is from 1 to 4."""
    typed = bronze_df.select(
        F.col("id").cast("string").alias("id"),
        F.col("ticker").cast("string").alias("ticker"),
        F.col("execution_date").cast("date").alias("execution_date"),
        F.col("split_from").cast("double").alias("split_from"),
        F.col("split_to").cast("double").alias("split_to"),
        F.col("ingested_at").cast("timestamp").alias("ingested_at"),
    )
    return _latest_per(typed.where((F.col("split_from") > 0) & (F.col("split_to") > 0)), ["id"])


def with_silver_market_holidays(bronze_df: DataFrame) -> DataFrame:
    """Bronze market-holiday snapshots typed, one row per (date, exchange): the latest snapshot's word.

    Each snapshot lists upcoming holidays only; silver keeps the ones that have passed as history.
    """
    typed = bronze_df.select(
        F.col("date").cast("date").alias("date"),
        F.col("exchange").cast("string").alias("exchange"),
        F.col("name").cast("string").alias("name"),
        F.col("status").cast("string").alias("status"),
        F.col("ingested_at").cast("timestamp").alias("ingested_at"),
    )
    return _latest_per(typed, ["date", "exchange"])
