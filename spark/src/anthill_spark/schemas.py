"""Explicit schemas of the silver tables (ARCHITECTURE.md's lake layout)."""

from __future__ import annotations

from pyspark.sql.types import (
    BooleanType,
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
