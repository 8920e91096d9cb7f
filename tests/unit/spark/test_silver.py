"""Bronze -> silver bars on tiny frames: types, duplicates and late corrections, validity rules."""

from __future__ import annotations

import datetime

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual, assertSchemaEqual

from anthill_spark.jobs.silver import utc
from anthill_spark.schemas import SILVER_BARS, SILVER_NEWS, SILVER_QUOTES, SILVER_TRADES
from anthill_spark.transforms.silver import (
    latest_valid_bars,
    quarantined_bars,
    valid_bars,
    with_latest_ingestion,
    with_reason,
    with_silver_columns,
    with_silver_dividends,
    with_silver_market_holidays,
    with_silver_news,
    with_silver_quotes,
    with_silver_splits,
    with_silver_trades,
)

UTC = datetime.UTC
T1 = datetime.datetime(2024, 7, 1, 4, tzinfo=UTC)
T2 = datetime.datetime(2024, 7, 2, 4, tzinfo=UTC)
MONDAY = datetime.datetime(2024, 7, 1, 22, tzinfo=UTC)
LATER = datetime.datetime(2024, 7, 3, 22, tzinfo=UTC)
BRONZE_COLUMNS = ["ticker", "multiplier", "timespan", "ts", "open", "high", "low", "close", "volume", "vwap",
                  "transactions", "adjusted", "ingested_at"]  # fmt: skip


def bronze(spark: SparkSession, rows: list[tuple[object, ...]]) -> DataFrame:
    schema = ("ticker string, multiplier int, timespan string, ts timestamp, open double, high double, low double, "
              "close double, volume double, vwap double, transactions long, adjusted boolean, ingested_at timestamp")  # fmt: skip
    return spark.createDataFrame(rows, schema)


def test_silver_columns_and_schema(spark: SparkSession) -> None:
    df = bronze(spark, [("AAPL", 1, "day", T1, 10.0, 11.0, 9.5, 10.5, 1000.0, 10.2, 12, True, MONDAY)])
    silver = df.transform(with_silver_columns).transform(with_reason).transform(valid_bars)
    assertSchemaEqual(silver.schema, SILVER_BARS, ignoreNullable=True)
    assert silver.first()["timespan"] == "1day"  # type: ignore[index]


def test_a_late_correction_replaces_the_earlier_bar(spark: SparkSession) -> None:
    """The same bar ingested twice (a re-fetched lookback day) keeps the newest ingestion only."""
    df = bronze(spark, [
        ("AAPL", 1, "day", T1, 10.0, 11.0, 9.5, 10.5, 1000.0, None, None, True, MONDAY),
        ("AAPL", 1, "day", T1, 10.0, 11.0, 9.5, 10.7, 1100.0, None, None, True, LATER),
        ("AAPL", 1, "day", T2, 10.7, 11.2, 10.1, 11.0, 900.0, None, None, True, LATER),
        ("MSFT", 1, "day", T1, 20.0, 21.0, 19.0, 20.5, 500.0, None, None, True, MONDAY),
    ])  # fmt: skip
    result = (
        df.transform(with_silver_columns).transform(with_latest_ingestion).select("ticker", "ts", "close")
    )
    expected = spark.createDataFrame(
        [("AAPL", T1, 10.7), ("AAPL", T2, 11.0), ("MSFT", T1, 20.5)],
        "ticker string, ts timestamp, close double",
    )
    assertDataFrameEqual(result, expected)


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        pytest.param((10.0, 11.0, 9.5, 10.5, 1000.0), None, id="valid"),
        pytest.param((10.0, 10.2, 9.5, 10.5, 1000.0), "high < max(open, close)", id="high below close"),
        pytest.param((10.0, 11.0, 10.2, 10.5, 1000.0), "low > min(open, close)", id="low above open"),
        pytest.param((0.0, 11.0, 9.5, 10.5, 1000.0), "price <= 0", id="zero open"),
        pytest.param((10.0, 11.0, 9.5, 10.5, -1.0), "volume < 0", id="negative volume"),
        pytest.param((10.0, 11.0, 9.5, None, 1000.0), "missing price", id="null close"),
        # Spark orders NaN above every number: without its own rule a NaN high passes "high >= max(open, close)".
        pytest.param((10.0, NAN, 9.5, 10.5, 1000.0), "price not finite", id="NaN high"),
        pytest.param((10.0, 11.0, 9.5, NAN, 1000.0), "price not finite", id="NaN close"),
        pytest.param((10.0, INF, 9.5, 10.5, 1000.0), "price not finite", id="infinite high"),
        pytest.param((10.0, 11.0, -INF, 10.5, 1000.0), "price not finite", id="minus infinite low"),
        pytest.param((10.0, 11.0, 9.5, 10.5, NAN), "volume not finite", id="NaN volume"),
        pytest.param((10.0, 11.0, 9.5, 10.5, INF), "volume not finite", id="infinite volume"),
        pytest.param((10.0, 11.0, 9.5, 10.5, 1000.0, NAN), "vwap not finite", id="NaN vwap"),
        pytest.param((10.0, 11.0, 9.5, 10.5, 1000.0, None), None, id="null vwap is allowed"),
    ],
)
def test_validity_rules(spark: SparkSession, row: tuple[float | None, ...], reason: str | None) -> None:
    o, h, low, c, v, *rest = row
    vwap = rest[0] if rest else 10.2
    df = bronze(spark, [("AAPL", 1, "day", T1, o, h, low, c, v, vwap, None, True, MONDAY)])
    checked = df.transform(with_silver_columns).transform(with_reason)
    assert checked.first()["reason"] == reason  # type: ignore[index]
    assert valid_bars(checked).count() == (1 if reason is None else 0)
    assert quarantined_bars(checked).count() == (0 if reason is None else 1)


def test_a_broken_correction_is_quarantined_and_the_last_good_bar_stays(spark: SparkSession) -> None:
    """Validity is judged before deduplication, so one run and two runs end in the same silver."""
    df = bronze(spark, [
        ("AAPL", 1, "day", T1, 10.0, 11.0, 9.5, 10.5, 1000.0, None, None, True, MONDAY),
        ("AAPL", 1, "day", T1, 10.0, 9.0, 9.5, 10.7, 1100.0, None, None, True, LATER),  # high < close
    ])  # fmt: skip
    checked = df.transform(with_silver_columns).transform(with_reason)
    columns = "ticker string, close double, ingested_at timestamp"
    kept = latest_valid_bars(checked).select("ticker", "close", "ingested_at")
    assertDataFrameEqual(kept, spark.createDataFrame([("AAPL", 10.5, MONDAY)], columns))
    rejected = quarantined_bars(checked).select("ticker", "close", "ingested_at")
    assertDataFrameEqual(rejected, spark.createDataFrame([("AAPL", 10.7, LATER)], columns))


def test_splits_keep_the_latest_ingestion_and_drop_impossible_ratios(spark: SparkSession) -> None:
    rows = [("s1", "NVDA", datetime.date(2024, 6, 10), 1.0, 10.0, MONDAY),
            ("s1", "NVDA", datetime.date(2024, 6, 10), 1.0, 10.0, LATER),
            ("s2", "AAPL", datetime.date(2020, 8, 31), 0.0, 4.0, MONDAY),
            ("s3", "TSLA", datetime.date(2022, 8, 25), 1.0, NAN, MONDAY),
            ("s4", "AMZN", datetime.date(2022, 6, 6), INF, 20.0, MONDAY)]  # fmt: skip
    schema = "id string, ticker string, execution_date date, split_from double, split_to double, ingested_at timestamp"
    result = spark.createDataFrame(rows, schema).transform(with_silver_splits)
    assertDataFrameEqual(result, spark.createDataFrame([rows[1]], schema))


@pytest.mark.parametrize(
    ("amount", "kept"),
    [
        pytest.param(0.24, True, id="a dividend"),
        pytest.param(0.0, True, id="a zero amount is a declared omission"),
        pytest.param(-0.24, False, id="negative"),
        pytest.param(NAN, False, id="NaN"),
        pytest.param(INF, False, id="infinite"),
    ],
)
def test_dividends_keep_only_finite_non_negative_amounts(
    spark: SparkSession, amount: float, kept: bool
) -> None:
    row = ("d1", "KO", datetime.date(2024, 6, 14), amount, "USD", None, None, None, 4, "CD", MONDAY)
    schema = ("id string, ticker string, ex_dividend_date date, cash_amount double, currency string, "
              "declaration_date date, record_date date, pay_date date, frequency int, dividend_type string, "
              "ingested_at timestamp")  # fmt: skip
    result = spark.createDataFrame([row], schema).transform(with_silver_dividends)
    assert result.count() == (1 if kept else 0)


def test_market_holidays_keep_history_and_the_latest_status(spark: SparkSession) -> None:
    july4 = datetime.date(2024, 7, 4)
    rows = [(july4, "NYSE", "Independence Day", "closed", MONDAY),
            (july4, "NYSE", "Independence Day", "early-close", LATER),
            (datetime.date(2024, 5, 27), "NYSE", "Memorial Day", "closed", MONDAY)]  # fmt: skip
    df = spark.createDataFrame(
        rows, "date date, exchange string, name string, status string, ingested_at timestamp"
    )
    result = df.transform(with_silver_market_holidays).select("date", "status")
    expected = spark.createDataFrame(
        [(datetime.date(2024, 5, 27), "closed"), (july4, "early-close")], "date date, status string"
    )
    assertDataFrameEqual(result, expected)


TICK_TIME = datetime.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TRADES_SCHEMA = ("ticker string, ts timestamp, sequence_number long, id string, exchange int, tape int, "
                 "price double, size double, conditions array<int>, ingested_at timestamp")  # fmt: skip
QUOTES_SCHEMA = ("ticker string, ts timestamp, sequence_number long, bid_exchange int, bid_price double, "
                 "bid_size double, ask_exchange int, ask_price double, ask_size double, conditions array<int>, "
                 "tape int, ingested_at timestamp")  # fmt: skip


def test_a_trade_streamed_and_gap_filled_is_one_silver_row(spark: SparkSession) -> None:
    """The stream's micro-batch and a REST gap fill both hold sequence 7: silver keeps it once (the newest
    ingestion), and crypto trades, which have no sequence numbers, are keyed by their id."""
    df = spark.createDataFrame([
        ("AAPL", TICK_TIME, 7, "7", 4, 3, 190.5, 100.0, [12], MONDAY),
        ("AAPL", TICK_TIME, 7, "7", 4, 3, 190.5, 100.0, [12], LATER),
        ("AAPL", TICK_TIME, 8, "8", 4, 3, 190.6, 50.0, None, MONDAY),
        ("X:BTCUSD", TICK_TIME, None, "t-1", 1, None, 97000.0, 0.5, None, MONDAY),
        ("X:BTCUSD", TICK_TIME, None, "t-1", 1, None, 97000.0, 0.5, None, LATER),
    ], TRADES_SCHEMA)  # fmt: skip
    silver = df.transform(with_silver_trades)
    assertSchemaEqual(silver.schema, SILVER_TRADES, ignoreNullable=True)
    keys = sorted((r["ticker"], r["trade_key"], r["ingested_at"]) for r in silver.collect())
    assert [(t, k) for t, k, _ in keys] == [("AAPL", "7"), ("AAPL", "8"), ("X:BTCUSD", "id:t-1")]
    assert utc(keys[0][2]) == LATER


@pytest.mark.parametrize(
    ("price", "size"),
    [pytest.param(0.0, 1.0, id="zero-price"), pytest.param(float("nan"), 1.0, id="nan-price"),
     pytest.param(1.0, -1.0, id="negative-size"), pytest.param(float("inf"), 1.0, id="infinite-price")],
)  # fmt: skip
def test_impossible_trades_are_dropped(spark: SparkSession, price: float, size: float) -> None:
    df = spark.createDataFrame([("AAPL", TICK_TIME, 1, "1", 4, 3, price, size, None, MONDAY)], TRADES_SCHEMA)
    assert df.transform(with_silver_trades).count() == 0


def test_quotes_dedupe_by_sequence_or_content_and_drop_crossed_ones(spark: SparkSession) -> None:
    df = spark.createDataFrame([
        ("AAPL", TICK_TIME, 5, 11, 190.0, 3.0, 12, 190.1, 2.0, None, 3, MONDAY),
        ("AAPL", TICK_TIME, 5, 11, 190.0, 3.0, 12, 190.1, 2.0, None, 3, LATER),
        ("AAPL", TICK_TIME, 6, 11, 190.2, 3.0, 12, 190.1, 2.0, None, 3, MONDAY),  # crossed: bid > ask
        ("X:BTCUSD", TICK_TIME, None, 1, 96999.0, 1.0, 1, 97001.0, 1.0, None, None, MONDAY),
        ("X:BTCUSD", TICK_TIME, None, 1, 96999.0, 1.0, 1, 97001.0, 1.0, None, None, LATER),
        ("X:BTCUSD", TICK_TIME, None, 1, 96998.0, 1.0, 1, 97001.0, 1.0, None, None, MONDAY),
    ], QUOTES_SCHEMA)  # fmt: skip
    silver = df.transform(with_silver_quotes)
    assertSchemaEqual(silver.schema, SILVER_QUOTES, ignoreNullable=True)
    rows = sorted((r["ticker"], r["bid_price"]) for r in silver.collect())
    assert rows == [("AAPL", 190.0), ("X:BTCUSD", 96998.0), ("X:BTCUSD", 96999.0)]


def test_an_article_fetched_twice_is_one_row_per_ticker(spark: SparkSession) -> None:
    schema = ("id string, ticker string, published_utc timestamp, title string, author string, publisher string, "
              "article_url string, tickers array<string>, description string, keywords array<string>, "
              "sentiment string, ingested_at timestamp")  # fmt: skip
    row = (
        "n1",
        "AAPL",
        TICK_TIME,
        "Apple rises",
        None,
        "Wire",
        None,
        ["AAPL", "MSFT"],
        None,
        None,
        "positive",
    )
    df = spark.createDataFrame(
        [(*row, MONDAY), (*row, LATER), ("n1", "MSFT", *row[2:-1], "neutral", MONDAY)], schema
    )
    silver = df.transform(with_silver_news)
    assertSchemaEqual(silver.schema, SILVER_NEWS, ignoreNullable=True)
    assert sorted((r["ticker"], r["sentiment"]) for r in silver.collect()) == [
        ("AAPL", "positive"),
        ("MSFT", "neutral"),
    ]
