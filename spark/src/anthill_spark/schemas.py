"""Explicit schemas of the silver tables (the README's lake layout)."""

from __future__ import annotations

from pyspark.sql.types import (
    BooleanType,
    DateType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

SILVER_BARS = StructType([
    StructField("ticker", StringType(), nullable=False),
    StructField("timespan", StringType(), nullable=False),
    StructField("ts", TimestampType(), nullable=False),
    StructField("open", DoubleType(), nullable=False),
    StructField("high", DoubleType(), nullable=False),
    StructField("low", DoubleType(), nullable=False),
    StructField("close", DoubleType(), nullable=False),
    StructField("volume", DoubleType(), nullable=False),
    StructField("vwap", DoubleType(), nullable=True),
    StructField("transactions", LongType(), nullable=True),
    StructField("adjusted", BooleanType(), nullable=False),
    StructField("ingested_at", TimestampType(), nullable=False),
])  # fmt: skip

BAR_KEY = ["ticker", "timespan", "ts"]

SILVER_DIVIDENDS = StructType([
    StructField("id", StringType(), nullable=False),
    StructField("ticker", StringType(), nullable=False),
    StructField("ex_dividend_date", DateType(), nullable=False),
    StructField("pay_date", DateType(), nullable=True),
    StructField("cash_amount", DoubleType(), nullable=False),
    StructField("currency", StringType(), nullable=True),
    StructField("ingested_at", TimestampType(), nullable=False),
])  # fmt: skip

# ``split_from`` old shares become ``split_to`` new ones on ``execution_date``: a 4-for-1 split is 1 -> 4.
SILVER_SPLITS = StructType([
    StructField("id", StringType(), nullable=False),
    StructField("ticker", StringType(), nullable=False),
    StructField("execution_date", DateType(), nullable=False),
    StructField("split_from", DoubleType(), nullable=False),
    StructField("split_to", DoubleType(), nullable=False),
    StructField("ingested_at", TimestampType(), nullable=False),
])  # fmt: skip

SILVER_MARKET_HOLIDAYS = StructType([
    StructField("date", DateType(), nullable=False),
    StructField("exchange", StringType(), nullable=False),
    StructField("name", StringType(), nullable=True),
    StructField("status", StringType(), nullable=True),
    StructField("ingested_at", TimestampType(), nullable=False),
])  # fmt: skip
