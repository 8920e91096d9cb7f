"""Gold dates a bar by its market's day, as the ingest partitions bronze: UTC for crypto and forex."""

from __future__ import annotations

import datetime

import pytest
from pyspark.sql import SparkSession

from anthill_ingest.datasets import dataset_for
from anthill_spark.transforms import gold

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("ticker", "asset_class", "ts", "day"),
    [
        # Massive stamps stocks' daily bars at midnight New York (04:00 or 05:00 UTC).
        pytest.param(
            "AAPL",
            "stocks",
            datetime.datetime(2024, 7, 8, 4, tzinfo=UTC),
            datetime.date(2024, 7, 8),
            id="stock",
        ),
        pytest.param(
            "I:NDX",
            "indices",
            datetime.datetime(2024, 1, 8, 5, tzinfo=UTC),
            datetime.date(2024, 1, 8),
            id="index",
        ),
        # ... and 24-hour markets' at midnight UTC, which is the previous evening in New York.
        pytest.param(
            "X:BTCUSD",
            "crypto",
            datetime.datetime(2024, 7, 6, tzinfo=UTC),
            datetime.date(2024, 7, 6),
            id="crypto Saturday",
        ),
        pytest.param(
            "C:EURUSD",
            "forex",
            datetime.datetime(2024, 7, 8, tzinfo=UTC),
            datetime.date(2024, 7, 8),
            id="forex Monday",
        ),
    ],
)
def test_a_bar_is_dated_by_its_markets_day(
    spark: SparkSession, ticker: str, asset_class: str, ts: datetime.datetime, day: datetime.date
) -> None:
    bars = spark.createDataFrame([(ticker, "1day", ts)], "ticker string, timespan string, ts timestamp")
    assert gold.with_trading_date(bars).first()["date"] == day  # type: ignore[index]
    # The ingest files the bar under the same day, from its feed's asset class.
    assert dataset_for("aggregates").partition_date({"ticker": ticker, "ts": ts}, day, asset_class) == day
