"""Explicit schemas of the silver tables (the README's lake layout)."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
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

# Ticks, streamed or fetched from the REST API (the same bronze rows either way). ``trade_key`` and
# ``quote_key`` are the vendor's sequence number as text, or where a market has none (crypto) the trade id,
# or for a crypto quote its content: a tick fetched twice (a gap fill overlapping the stream, a replay after
# a crash) has one key, so silver holds it once.
SILVER_TRADES = StructType([
    StructField("ticker", StringType(), nullable=False),
    StructField("ts", TimestampType(), nullable=False),
    StructField("trade_key", StringType(), nullable=False),
    StructField("sequence_number", LongType(), nullable=True),
    StructField("id", StringType(), nullable=True),
    StructField("exchange", IntegerType(), nullable=True),
    StructField("tape", IntegerType(), nullable=True),
    StructField("price", DoubleType(), nullable=False),
    StructField("size", DoubleType(), nullable=False),
    StructField("conditions", ArrayType(IntegerType()), nullable=True),
    StructField("ingested_at", TimestampType(), nullable=False),
])  # fmt: skip
TRADE_KEY = ["ticker", "trade_key"]
SILVER_QUOTES = StructType([
    StructField("ticker", StringType(), nullable=False),
    StructField("ts", TimestampType(), nullable=False),
    StructField("quote_key", StringType(), nullable=False),
    StructField("sequence_number", LongType(), nullable=True),
    StructField("bid_exchange", IntegerType(), nullable=True),
    StructField("bid_price", DoubleType(), nullable=False),
    StructField("bid_size", DoubleType(), nullable=False),
    StructField("ask_exchange", IntegerType(), nullable=True),
    StructField("ask_price", DoubleType(), nullable=False),
    StructField("ask_size", DoubleType(), nullable=False),
    StructField("conditions", ArrayType(IntegerType()), nullable=True),
    StructField("tape", IntegerType(), nullable=True),
    StructField("ingested_at", TimestampType(), nullable=False),
])  # fmt: skip
QUOTE_KEY = ["ticker", "quote_key"]
# The vendor's own minute bars from a stream (the minuteAggregates channel): what gold.intraday_bars,
# rebuilt from trades, is checked against.
SILVER_MINUTE_AGGREGATES = StructType([
    StructField("ticker", StringType(), nullable=False),
    StructField("start", TimestampType(), nullable=False),
    StructField("end", TimestampType(), nullable=False),
    StructField("open", DoubleType(), nullable=False),
    StructField("high", DoubleType(), nullable=False),
    StructField("low", DoubleType(), nullable=False),
    StructField("close", DoubleType(), nullable=False),
    StructField("volume", DoubleType(), nullable=False),
    StructField("vwap", DoubleType(), nullable=True),
    StructField("ingested_at", TimestampType(), nullable=False),
])  # fmt: skip
# One row per article and ticker it is about (the latest ingestion): an article about two of a feed's tickers
# counts for each.
SILVER_NEWS = StructType([
    StructField("id", StringType(), nullable=False),
    StructField("ticker", StringType(), nullable=False),
    StructField("published_utc", TimestampType(), nullable=False),
    StructField("title", StringType(), nullable=False),
    StructField("publisher", StringType(), nullable=True),
    StructField("article_url", StringType(), nullable=True),
    StructField("tickers", ArrayType(StringType()), nullable=True),
    StructField("keywords", ArrayType(StringType()), nullable=True),
    StructField("sentiment", StringType(), nullable=True),
    StructField("ingested_at", TimestampType(), nullable=False),
])  # fmt: skip
