"""Gold rebuilt from some day on, resuming running state and ranking only recent history, equals gold
computed over all history."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention
from pyspark.testing import assertDataFrameEqual

from anthill_ingest.calendar import trading_days
from anthill_spark.jobs.gold import last_rows, with_lookback
from anthill_spark.transforms.gold import (
    EMA_SEED_ROWS,
    EMA_SPANS,
    resume_drawdowns,
    resume_exponential_moving_averages,
    with_drawdowns,
    with_exponential_moving_averages,
    with_moving_averages,
)

D = datetime.date


def random_walk(tickers: dict[str, list[datetime.date]], seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for ticker, days in tickers.items():
        close = 100 * np.exp(np.cumsum(0.02 * rng.standard_normal(len(days))))
        frames.append(pd.DataFrame({"ticker": ticker, "date": days, "close": close}))
    return pd.concat(frames, ignore_index=True)


def frame(spark: SparkSession, df: pd.DataFrame) -> DataFrame:
    return spark.createDataFrame(df, "ticker string, date date, close double")


def test_emas_stay_finite_over_twenty_years_of_daily_bars(spark: SparkSession) -> None:
    """The closed form weighed row i by r^-i: past ~4,200 rows r^-i overflowed and EMA 12 became NaN."""
    days = list(trading_days(D(2005, 1, 3), D(2024, 12, 31)))
    assert len(days) > 5000
    history = random_walk({"A": days})
    result = frame(spark, history).transform(with_moving_averages).orderBy("date").toPandas()
    for span in EMA_SPANS:
        expected = history["close"].ewm(span=span, adjust=True).mean()
        np.testing.assert_allclose(result[f"ema_{span}"], expected, rtol=1e-12)


def test_emas_and_drawdowns_resumed_from_earlier_rows_equal_all_history(spark: SparkSession) -> None:
    days = list(trading_days(D(2020, 1, 2), D(2024, 12, 31)))
    since = D(2024, 11, 1)
    # B lists later, C only from the rebuilt days on (no rows to resume from).
    history = random_walk({"A": days, "B": days[300:], "C": [d for d in days if d >= since]})
    daily = frame(spark, history)
    for whole, resume in ((with_exponential_moving_averages, resume_exponential_moving_averages),
                          (with_drawdowns, resume_drawdowns)):  # fmt: skip
        before = daily.where(F.col("date") < F.lit(since)).transform(whole)
        if whole is with_exponential_moving_averages:
            before = daily.where(F.col("date") < F.lit(since)).transform(with_moving_averages)
        resumed = resume(daily.where(F.col("date") >= F.lit(since)), before)
        expected = daily.transform(whole).where(F.col("date") >= F.lit(since))
        assert resumed.count() == expected.count() > 0
        assertDataFrameEqual(resumed, expected, rtol=1e-12, atol=0.0)


def test_lookback_ranks_recent_history_and_falls_back_for_tickers_short_of_it(spark: SparkSession) -> None:
    days = list(trading_days(D(2021, 1, 4), D(2024, 12, 31)))
    since = D(2024, 12, 2)
    halted = [d for d in days if not D(2023, 6, 1) <= d < D(2024, 11, 25)]  # back from an 18-month halt
    history = random_walk({"A": days, "H": halted, "N": days[-30:], "X": days[:100]})  # X delisted
    daily = frame(spark, history)
    for lookback in (0, 1, 20, 252):
        rows = daily.transform(with_lookback, since, lookback).toPandas()
        recent = history[history["date"] >= since]
        earlier = history[(history["date"] < since) & history["ticker"].isin(recent["ticker"])]
        expected = pd.concat([recent, earlier.sort_values("date").groupby("ticker").tail(lookback)])
        rows = rows[rows["ticker"].isin(recent["ticker"])]  # the others' rows rebuild nothing
        assert sorted(map(tuple, rows.to_numpy().tolist())) == sorted(
            map(tuple, expected.to_numpy().tolist())
        )


def test_resuming_from_each_tickers_last_rows_equals_resuming_from_all_its_history(
    spark: SparkSession,
) -> None:
    """A rebuild reads only the table's recent rows before the rebuilt days (``last_rows``): the seeds, and so
    every resumed value, are the same to the last bit as from all history, also for a ticker back from a
    long halt, whose earlier rows are then read too. Fewer rows than ``EMA_SEED_ROWS`` would not do."""
    days = list(trading_days(D(2020, 1, 2), D(2024, 12, 31)))
    since = D(2024, 11, 1)
    halted = [d for d in days if not D(2021, 6, 1) <= d < D(2024, 10, 1)]
    history = random_walk({"A": days, "H": halted, "B": days[900:], "C": [d for d in days if d >= since]})
    daily = frame(spark, history)
    at_hand = daily.where(F.col("date") >= F.lit(since))
    earlier = daily.where(F.col("date") < F.lit(since))
    for whole, resume, rows in ((with_moving_averages, resume_exponential_moving_averages, EMA_SEED_ROWS),
                                (with_drawdowns, resume_drawdowns, 1)):  # fmt: skip
        before = earlier.transform(whole)
        kept = last_rows(before, since, rows, at_hand)
        per_ticker = {row["ticker"]: row["count"] for row in kept.groupBy("ticker").count().collect()}
        # H has fewer than the EMAs' rows since its halt, so all of its history; its last row does for drawdowns.
        h_rows = [d for d in halted if d < since and (rows > 1 or d >= D(2024, 10, 16))]
        assert per_ticker["H"] == len(h_rows)
        assert rows <= per_ticker["A"] < len([d for d in days if d < since])
        assertDataFrameEqual(resume(at_hand, kept), resume(at_hand, before), rtol=0.0, atol=0.0)
    too_few = last_rows(earlier.transform(with_moving_averages), since, 100, at_hand)
    assert resume_exponential_moving_averages(at_hand, too_few).where("ticker = 'A'").collect() != (
        resume_exponential_moving_averages(at_hand, earlier.transform(with_moving_averages))
        .where("ticker = 'A'")
        .collect()
    )
