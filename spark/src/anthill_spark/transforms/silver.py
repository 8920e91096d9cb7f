"""Bronze -> silver: typed, deduplicated, validated.

A bar failing a validity rule goes to quarantine with the rule it broke; it never reaches silver. Ticks
(trades, quotes) that no market could print (a price that is not a positive finite number, a negative size,
a crossed quote) are dropped.
"""

from __future__ import annotations

import functools

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention
from pyspark.sql.types import StructType

from anthill_spark.schemas import (
    BAR_KEY,
    QUOTE_KEY,
    SILVER_BARS,
    SILVER_DIVIDENDS,
    SILVER_MARKET_HOLIDAYS,
    SILVER_MINUTE_AGGREGATES,
    SILVER_NEWS,
    SILVER_QUOTES,
    SILVER_SPLITS,
    SILVER_TRADES,
    TRADE_KEY,
)


def not_finite(name: str) -> Column:
    """True where the column holds NaN or an infinity (null stays null): Spark orders NaN above every number,
    so no comparison rule below would catch it."""
    column = F.col(name)
    return F.isnan(column) | (F.abs(column) == F.lit(float("inf")))


def invalid_reason() -> Column:
    """The first validity rule a bar breaks, or null when it breaks none."""
    return (
        F.when(F.col("open").isNull() | F.col("high").isNull() | F.col("low").isNull() | F.col("close").isNull(),
               F.lit("missing price"))
        .when(not_finite("open") | not_finite("high") | not_finite("low") | not_finite("close"),
              F.lit("price not finite"))
        .when(not_finite("volume"), F.lit("volume not finite"))
        .when(F.col("vwap").isNotNull() & not_finite("vwap"), F.lit("vwap not finite"))
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
    """One row per ``keys``: the most recently ingested (bronze keeps only the newest file of a partition,
    so this is what a full rebuild can reproduce)."""
    newest_first = Window.partitionBy(*keys).orderBy(F.col("ingested_at").desc())
    return df.withColumn("_rank", F.row_number().over(newest_first)).where("_rank = 1").drop("_rank")


def with_latest_ingestion(bars_df: DataFrame) -> DataFrame:
    """One row per (ticker, timespan, ts): the most recently ingested (a late correction wins)."""
    return _latest_per(bars_df, BAR_KEY)


def with_reason(bars_df: DataFrame) -> DataFrame:
    return bars_df.withColumn("reason", invalid_reason())


def valid_bars(checked_df: DataFrame) -> DataFrame:
    """Rows without a reason, in silver's schema."""
    return typed(checked_df.where(F.col("reason").isNull()), SILVER_BARS)


def quarantined_bars(checked_df: DataFrame) -> DataFrame:
    """Rows with a reason, kept whole so they can be inspected and replayed."""
    return checked_df.where(F.col("reason").isNotNull())


def latest_valid_bars(checked_df: DataFrame) -> DataFrame:
    """The newest valid version of each bar, in silver's schema.

    Validity is judged before deduplication: a broken correction is quarantined and the last good version
    of the bar stays, whether the two arrive in one run or in separate ones.
    """
    return with_latest_ingestion(valid_bars(checked_df))


def typed(df: DataFrame, schema: StructType) -> DataFrame:
    """``df``'s columns named in ``schema``, in its order, cast to its types."""
    return df.select(*(F.col(field.name).cast(field.dataType).alias(field.name) for field in schema.fields))


def with_silver_dividends(bronze_df: DataFrame) -> DataFrame:
    """Bronze dividends typed, one row per dividend id (the latest ingestion); amounts that are not a finite,
    non-negative number are dropped."""
    dividends = typed(bronze_df, SILVER_DIVIDENDS)
    return _latest_per(dividends.where(~not_finite("cash_amount") & (F.col("cash_amount") >= 0)), ["id"])


def with_silver_splits(bronze_df: DataFrame) -> DataFrame:
    """Bronze splits typed, one row per split id (the latest ingestion); impossible ratios (not positive,
    NaN, infinite) are dropped."""
    splits = typed(bronze_df, SILVER_SPLITS)
    possible = (
        (F.col("split_from") > 0)
        & (F.col("split_to") > 0)
        & ~not_finite("split_from")
        & ~not_finite("split_to")
    )
    return _latest_per(splits.where(possible), ["id"])


def with_silver_market_holidays(bronze_df: DataFrame) -> DataFrame:
    """Bronze market-holiday snapshots typed, one row per (date, exchange): the latest snapshot's word.

    Each snapshot lists upcoming holidays only; silver keeps the ones that have passed as history.
    """
    return _latest_per(typed(bronze_df, SILVER_MARKET_HOLIDAYS), ["date", "exchange"])


def _positive(*names: str) -> Column:
    """True where every column is a positive finite number."""
    checks = [(F.col(name) > 0) & ~not_finite(name) for name in names]
    return functools.reduce(lambda a, b: a & b, checks)


def with_silver_trades(bronze_df: DataFrame) -> DataFrame:
    """Bronze trades typed, one row per trade: keyed by the vendor's sequence number (the trade id where
    the market has none), whichever way the trade arrived and however often."""
    keyed = bronze_df.withColumn(
        "trade_key", F.coalesce(F.col("sequence_number").cast("string"), F.concat(F.lit("id:"), F.col("id")))
    )
    trades = typed(keyed.where(F.col("trade_key").isNotNull()), SILVER_TRADES)
    possible = _positive("price") & (F.col("size") >= 0) & ~not_finite("size")
    return _latest_per(trades.where(possible), TRADE_KEY)


def with_silver_quotes(bronze_df: DataFrame) -> DataFrame:
    """Bronze quotes typed, one row per quote (by sequence number; by content where the market sends none),
    without crossed or impossible ones (bid above ask, a price that is not a positive finite number)."""
    content = F.sha2(F.concat_ws("|", *(F.col(c).cast("string") for c in (
        "ts", "bid_exchange", "bid_price", "bid_size", "ask_exchange", "ask_price", "ask_size"))), 256)  # fmt: skip
    keyed = bronze_df.withColumn(
        "quote_key", F.coalesce(F.col("sequence_number").cast("string"), F.concat(F.lit("sha:"), content))
    )
    quotes = typed(keyed, SILVER_QUOTES)
    possible = _positive("bid_price", "ask_price") & (F.col("bid_price") <= F.col("ask_price"))
    return _latest_per(quotes.where(possible), QUOTE_KEY)


def with_silver_minute_aggregates(bronze_df: DataFrame) -> DataFrame:
    """A stream's minute aggregates typed, one row per (ticker, start): the newest ingestion."""
    return _latest_per(typed(bronze_df, SILVER_MINUTE_AGGREGATES), ["ticker", "start"])


def with_silver_news(bronze_df: DataFrame) -> DataFrame:
    """Bronze news typed, one row per (article id, ticker): the newest ingestion."""
    return _latest_per(typed(bronze_df, SILVER_NEWS), ["id", "ticker"])
