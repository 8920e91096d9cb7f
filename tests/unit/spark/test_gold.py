"""Gold transforms on tiny frames, then against an independent pandas/numpy oracle on sandbox data."""

from __future__ import annotations

import datetime
import math

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention
from pyspark.testing import assertDataFrameEqual

from anthill_ingest.calendar import market_days, trading_days
from anthill_sandbox import data
from anthill_spark.transforms.gold import (
    BREADTH_WINDOW,
    first_market_day,
    last_market_day,
    with_anomalies,
    with_daily_returns,
    with_drawdowns,
    with_market_breadth,
    with_moving_averages,
    with_split_adjustment,
    with_trading_date,
    with_volatility,
    with_yearly_performance,
)

D = datetime.date


def closes(spark: SparkSession, rows: list[tuple[str, datetime.date, float]]) -> DataFrame:
    return spark.createDataFrame(rows, "ticker string, date date, close double")


def test_daily_returns_start_null_and_stay_per_ticker(spark: SparkSession) -> None:
    df = closes(spark, [("A", D(2024, 7, 1), 100.0), ("A", D(2024, 7, 2), 110.0), ("B", D(2024, 7, 2), 50.0),
                        ("A", D(2024, 7, 3), 99.0)])  # fmt: skip
    result = df.transform(with_daily_returns).select("ticker", "date", "simple_return")
    expected = spark.createDataFrame(
        [("A", D(2024, 7, 1), None), ("A", D(2024, 7, 2), 0.1), ("A", D(2024, 7, 3), -0.1), ("B", D(2024, 7, 2), None)],
        "ticker string, date date, simple_return double",
    )  # fmt: skip
    assertDataFrameEqual(result, expected, atol=1e-12)


def test_drawdowns(spark: SparkSession) -> None:
    df = closes(spark, [("A", D(2024, 7, 1), 100.0), ("A", D(2024, 7, 2), 80.0), ("A", D(2024, 7, 3), 120.0),
                        ("A", D(2024, 7, 5), 90.0)])  # fmt: skip
    result = df.transform(with_drawdowns).select("date", "peak", "drawdown", "max_drawdown")
    expected = spark.createDataFrame(
        [(D(2024, 7, 1), 100.0, 0.0, 0.0), (D(2024, 7, 2), 100.0, -0.2, -0.2), (D(2024, 7, 3), 120.0, 0.0, -0.2),
         (D(2024, 7, 5), 120.0, -0.25, -0.25)],
        "date date, peak double, drawdown double, max_drawdown double",
    )  # fmt: skip
    assertDataFrameEqual(result, expected, atol=1e-12)


def test_windows_are_null_until_full(spark: SparkSession) -> None:
    rows = [("A", D(2024, 1, 1) + datetime.timedelta(days=n), 100.0 + n) for n in range(25)]
    averages = closes(spark, rows).transform(with_moving_averages).orderBy("date").collect()
    assert averages[18]["sma_20"] is None
    assert averages[19]["sma_20"] == pytest.approx(sum(100.0 + n for n in range(20)) / 20)
    assert all(row["sma_50"] is None for row in averages)
    vols = (
        closes(spark, rows).transform(with_daily_returns).transform(with_volatility).orderBy("date").collect()
    )
    assert vols[19]["volatility_20d"] is None  # 19 returns
    assert vols[20]["volatility_20d"] is not None  # 20 returns


@pytest.fixture(scope="module")
def sandbox_closes() -> pd.DataFrame:
    rows = []
    for ticker in ("AAPL", "NVDA", "KO"):
        day = D(2023, 1, 3)
        while day <= D(2024, 6, 28):
            bar = data.daily_bar(ticker, day)
            if bar is not None:
                rows.append((ticker, day, bar.close, float(bar.volume)))
            day += datetime.timedelta(days=1)
    return pd.DataFrame(rows, columns=["ticker", "date", "close", "volume"])


def _oracle(frame: pd.DataFrame) -> pd.DataFrame:
    """Every metric computed independently with pandas/numpy, per ticker."""
    out = []
    for _ticker, group in frame.sort_values("date").groupby("ticker"):
        g = group.copy()
        close = g["close"].to_numpy()
        g["simple_return"] = np.concatenate([[np.nan], close[1:] / close[:-1] - 1])
        g["log_return"] = np.concatenate([[np.nan], np.log(close[1:] / close[:-1])])
        for days in (20, 60):
            g[f"volatility_{days}d"] = g["log_return"].rolling(days).std(ddof=1) * math.sqrt(252)
        for days in (20, 50, 200):
            g[f"sma_{days}"] = g["close"].rolling(days).mean()
        for span in (12, 26):
            g[f"ema_{span}"] = g["close"].ewm(span=span, adjust=True).mean()
        g["peak"] = g["close"].cummax()
        g["drawdown"] = g["close"] / g["peak"] - 1
        g["max_drawdown"] = g["drawdown"].cummin()
        out.append(g)
    return pd.concat(out).set_index(["ticker", "date"]).sort_index()


def test_gold_agrees_with_an_independent_oracle(spark: SparkSession, sandbox_closes: pd.DataFrame) -> None:
    frame = spark.createDataFrame(sandbox_closes).drop("volume")
    returns = frame.transform(with_daily_returns)
    joined = (
        returns.join(returns.transform(with_volatility), ["ticker", "date"])
        .join(frame.transform(with_moving_averages).drop("close"), ["ticker", "date"])
        .join(frame.transform(with_drawdowns).drop("close"), ["ticker", "date"])
    )
    spark_frame = joined.toPandas().set_index(["ticker", "date"]).sort_index()
    oracle = _oracle(sandbox_closes.drop(columns="volume"))
    assert len(spark_frame) == len(oracle) > 900
    for column in oracle.columns.drop("close"):
        ours, theirs = spark_frame[column].to_numpy(dtype=float), oracle[column].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), f"{column}: nulls differ"
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=column)


def test_trading_date_is_new_york(spark: SparkSession) -> None:
    bars = spark.createDataFrame(
        [("A", "1day", datetime.datetime(2024, 7, 1, 4, tzinfo=datetime.UTC), 1.0),
         ("A", "5minute", datetime.datetime(2024, 7, 1, 14, tzinfo=datetime.UTC), 1.0)],
        "ticker string, timespan string, ts timestamp, close double",
    )  # fmt: skip
    assert [row["date"] for row in bars.transform(with_trading_date).collect()] == [D(2024, 7, 1)]


def test_market_breadth_counts_stocks_only(spark: SparkSession) -> None:
    """An index aggregates the stocks already counted: an index that rose adds no advancer."""
    df = closes(spark, [("A", D(2024, 7, 1), 10.0), ("A", D(2024, 7, 2), 11.0), ("B", D(2024, 7, 1), 5.0),
                        ("B", D(2024, 7, 2), 4.0), ("I:NDX", D(2024, 7, 1), 100.0), ("I:NDX", D(2024, 7, 2), 101.0),
                        ("X:BTCUSD", D(2024, 7, 1), 9.0), ("X:BTCUSD", D(2024, 7, 2), 8.0)])  # fmt: skip
    result = df.transform(with_market_breadth).select("date", "advancers", "decliners", "unchanged")
    expected = spark.createDataFrame([(D(2024, 7, 1), 0, 0, 0), (D(2024, 7, 2), 1, 1, 0)],
                                     "date date, advancers long, decliners long, unchanged long")  # fmt: skip
    assertDataFrameEqual(result, expected)


def _rising(ticker: str, days: int) -> list[tuple[str, datetime.date, float]]:
    return [(ticker, D(2020, 1, 1) + datetime.timedelta(days=n), 100.0 + n) for n in range(days)]


@pytest.mark.parametrize(
    ("days", "highs_on_the_last_day"),
    [
        pytest.param(BREADTH_WINDOW - 1, 0, id="251 days: the highest close of 251 days is no 52-week high"),
        pytest.param(BREADTH_WINDOW, 1, id="252 days: a full year, the first 52-week high"),
        pytest.param(BREADTH_WINDOW + 5, 1, id="a longer history: still compared with the last 252 days"),
    ],
)
def test_52_week_highs_count_only_with_a_full_year_of_history(
    spark: SparkSession, days: int, highs_on_the_last_day: int
) -> None:
    rows = _rising("A", days) + [(t, d, 300.0 - c) for t, d, c in _rising("B", days)]  # B falls every day
    breadth = closes(spark, rows).transform(with_market_breadth).orderBy("date").collect()
    assert len(breadth) == days
    last = breadth[-1]
    assert (last["new_highs"], last["new_lows"]) == (highs_on_the_last_day, highs_on_the_last_day)
    # Before the year is full no day counts a high or a low, however extreme.
    assert all(row["new_highs"] == 0 and row["new_lows"] == 0 for row in breadth[: BREADTH_WINDOW - 1])


def test_market_breadth_counts(spark: SparkSession) -> None:
    df = closes(spark, [("A", D(2024, 7, 1), 10.0), ("A", D(2024, 7, 2), 11.0), ("B", D(2024, 7, 1), 5.0),
                        ("B", D(2024, 7, 2), 4.0), ("C", D(2024, 7, 1), 3.0), ("C", D(2024, 7, 2), 3.0)])  # fmt: skip
    result = df.transform(with_market_breadth).select("date", "advancers", "decliners", "unchanged")
    expected = spark.createDataFrame([(D(2024, 7, 1), 0, 0, 0), (D(2024, 7, 2), 1, 1, 1)],
                                     "date date, advancers long, decliners long, unchanged long")  # fmt: skip
    assertDataFrameEqual(result, expected)


def test_anomalies_flag_a_shock(spark: SparkSession) -> None:
    rows = [("A", D(2024, 1, 1) + datetime.timedelta(days=n), 100.0 * (1.001 if n % 2 else 0.999) ** n, 1000.0 + n)
            for n in range(70)]  # fmt: skip
    rows[-1] = ("A", rows[-1][1], rows[-2][2] * 1.2, 50_000.0)  # a 20% jump on 50x volume
    df = spark.createDataFrame(rows, "ticker string, date date, close double, volume double")
    flagged = df.transform(lambda d: with_anomalies(d, days=60)).orderBy("date").collect()
    assert flagged[59]["is_anomaly"] is None  # 59 returns so far: not enough history
    assert flagged[-1]["is_anomaly"] is True
    assert not any(row["is_anomaly"] for row in flagged[:-1])


def test_anomalies_and_breadth_agree_with_the_oracle(
    spark: SparkSession, sandbox_closes: pd.DataFrame
) -> None:
    frame = spark.createDataFrame(sandbox_closes)
    ours = frame.transform(with_anomalies).toPandas().set_index(["ticker", "date"]).sort_index()
    expected = []
    for _ticker, group in sandbox_closes.sort_values("date").groupby("ticker"):
        g = group.copy()
        g["log_return"] = np.log(g["close"] / g["close"].shift(1))
        for column, out in (("log_return", "return_z"), ("volume", "volume_z")):
            previous = g[column].shift(1).rolling(60)
            g[out] = (g[column] - previous.mean()) / previous.std(ddof=1)
        expected.append(g)
    oracle = pd.concat(expected).set_index(["ticker", "date"]).sort_index()
    for column in ("return_z", "volume_z"):
        np.testing.assert_allclose(ours[column].to_numpy(dtype=float), oracle[column].to_numpy(dtype=float),
                                   rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=column)  # fmt: skip

    # Breadth by its definition: stocks only (no "I:" or other market prefix); a 52-week high or low is a
    # close at the max or min of the last 252 trading days, counted only once there are 252 of them.
    breadth = frame.transform(with_market_breadth).toPandas().set_index("date").sort_index()
    stocks = sandbox_closes[~sandbox_closes["ticker"].str.contains(":")].sort_values("date")
    by_ticker = stocks.groupby("ticker")["close"]
    marked = stocks.assign(
        move=by_ticker.diff(),
        high=stocks["close"]
        >= by_ticker.transform(lambda c: c.rolling(BREADTH_WINDOW, min_periods=BREADTH_WINDOW).max()),
        low=stocks["close"]
        <= by_ticker.transform(lambda c: c.rolling(BREADTH_WINDOW, min_periods=BREADTH_WINDOW).min()),
    ).groupby("date")
    by_definition: dict[str, pd.Series] = {
        "advancers": marked["move"].apply(lambda m: int((m > 0).sum())),
        "decliners": marked["move"].apply(lambda m: int((m < 0).sum())),
        "new_highs": marked["high"].sum(),
        "new_lows": marked["low"].sum(),
    }
    for column, counts in by_definition.items():
        assert (breadth[column] == counts.astype(int)).all(), column
    assert breadth["new_highs"].sum() > 0  # the sample is longer than a year: the rule is exercised


def _year_of_market_days(asset_class: str, year: int) -> tuple[datetime.date, datetime.date]:
    days = list(market_days(asset_class, D(year, 1, 1), D(year, 12, 31)))
    return days[0], days[-1]


def test_yearly_performance_agrees_with_the_oracle(spark: SparkSession) -> None:
    rows, dividends = [], []
    for ticker in ("AAPL", "KO", "I:NDX", "I:COMP"):
        day = D(2022, 6, 1)
        while day <= D(2024, 12, 31):
            bar = data.daily_bar(ticker, day)
            if bar is not None:
                rows.append((ticker, day, bar.close))
            day += datetime.timedelta(days=1)
        dividends += [(d["ticker"], datetime.date.fromisoformat(str(d["ex_dividend_date"])), d["cash_amount"])
                      for d in data.dividends(ticker, D(2022, 1, 1), D(2024, 12, 31))]  # fmt: skip
    prices = pd.DataFrame(rows, columns=["ticker", "date", "close"])
    paid = pd.DataFrame(dividends, columns=["ticker", "ex_dividend_date", "cash_amount"])
    ours = (
        spark.createDataFrame(prices)
        .transform(lambda d: with_yearly_performance(d, spark.createDataFrame(paid), risk_free_rate=0.03))
        .toPandas().set_index(["ticker", "year"]).sort_index()
    )  # fmt: skip

    prices = prices.sort_values(["ticker", "date"])
    prices["r"] = prices.groupby("ticker")["close"].pct_change()
    prices["year"] = pd.to_datetime(prices["date"]).dt.year
    market = prices[prices["ticker"].isin(["I:NDX", "I:COMP"])].groupby("date")["r"].mean().rename("m")
    prices = prices.join(market, on="date")
    expected: dict[tuple[object, object], dict[str, float]] = {}
    marks: dict[tuple[object, object], tuple[object, ...]] = {}
    for (name, year), g in prices.groupby(["ticker", "year"]):
        pair = g.dropna(subset=["r", "m"])
        beta = np.cov(pair["r"], pair["m"], ddof=1)[0, 1] / np.var(pair["m"], ddof=1)
        annual = float(np.prod(1 + g["r"].dropna()) - 1)
        market_annual = float(np.prod(1 + pair["m"]) - 1)
        vol = float(g["r"].std(ddof=1) * math.sqrt(252))
        # Whole: bars from the market's first to its last day of the year, and a return on the first.
        first, last = _year_of_market_days("indices" if ":" in str(name) else "stocks", int(str(year)))
        partial = not (g["date"].min() == first and g["date"].max() == last and g["r"].notna().all())
        fraction = g["r"].notna().sum() / 252 if partial else 1.0
        rf = 0.03 * fraction
        year_paid = paid[
            (paid["ticker"] == name)
            & (pd.to_datetime(paid["ex_dividend_date"]).dt.year == year)
            & (paid["ex_dividend_date"] <= g["date"].max())
        ]
        expected[(name, year)] = {
            "annual_return": annual, "volatility": vol, "beta": beta,
            "correlation": float(np.corrcoef(pair["r"], pair["m"])[0, 1]),
            "capm_expected_return": rf + beta * (market_annual - rf),
            "sharpe": (annual - rf) / (vol * math.sqrt(fraction)),
            "dividend_yield": float(year_paid["cash_amount"].sum() / g.sort_values("date")["close"].iloc[-1]),
        }  # fmt: skip
        marks[(name, year)] = (g["date"].min(), g["date"].max(), partial)
    oracle = pd.DataFrame.from_dict(expected, orient="index")
    oracle.index = oracle.index.set_names(["ticker", "year"])
    oracle = oracle.sort_index()
    assert list(ours.index) == list(oracle.index)
    assert (ours.xs("KO")["dividend_yield"].to_numpy(dtype=float) > 0).all()
    for column in oracle.columns:
        np.testing.assert_allclose(ours[column].to_numpy(dtype=float), oracle[column].to_numpy(dtype=float),
                                   rtol=1e-9, atol=1e-12, err_msg=column)  # fmt: skip
    assert {key: tuple(row) for key, row in ours[["first_day", "last_day", "is_partial"]].iterrows()} == marks
    # The sample starts in June 2022 and ends on 2024's last market day: both kinds of year occur.
    assert ours.xs(2022, level="year")["is_partial"].all()
    assert not ours.xs(2023, level="year")["is_partial"].any()


MARKETS = {"AAPL": "stocks", "I:NDX": "indices", "O:SPY251219C00600000": "options", "X:BTCUSD": "crypto",
           "C:EURUSD": "forex"}  # fmt: skip


def test_each_markets_year_starts_and_ends_where_the_ingest_calendar_does(spark: SparkSession) -> None:
    """A year is whole when its bars reach its market's first and last day; those days must be the ones the
    ingest fetches. 40 years hold every weekday of New Year's Day and Eve, leap years and not."""
    years = range(2000, 2040)
    frame = spark.createDataFrame([(t, y) for t in MARKETS for y in years], "ticker string, year int")
    bounds = frame.select(
        "ticker", "year",
        first_market_day(F.col("ticker"), F.col("year")).alias("first"),
        last_market_day(F.col("ticker"), F.col("year")).alias("last"),
    ).collect()  # fmt: skip
    ours = {(row["ticker"], row["year"]): (row["first"], row["last"]) for row in bounds}
    assert ours == {(t, y): _year_of_market_days(MARKETS[t], y) for t in MARKETS for y in years}


def _path(ticker: str, days: list[datetime.date], step: int = 7) -> list[tuple[str, datetime.date, float]]:
    """Closes on ``days`` from 100, moving by a repeating pattern of daily returns within +-0.4%."""
    rows, close = [], 100.0
    for i, day in enumerate(days):
        rows.append((ticker, day, close))
        close *= 1 + 0.004 * ((i * step) % 11 - 5) / 5
    return rows


def _nyse(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return list(trading_days(start, end))


def _every_day(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


@pytest.mark.parametrize(
    ("ticker", "days", "year", "first_day", "last_day", "is_partial"),
    [
        pytest.param("AAPL", _nyse(D(2022, 12, 30), D(2023, 12, 29)), 2023, D(2023, 1, 3), D(2023, 12, 29), False,
                     id="whole year: from the previous year's close to the last market day (2023: Jan 3-Dec 29)"),
        pytest.param("AAPL", _nyse(D(2023, 6, 15), D(2023, 12, 29)), 2023, D(2023, 6, 15), D(2023, 12, 29), True,
                     id="the lake's first year starts mid-year"),
        pytest.param("AAPL", _nyse(D(2023, 1, 3), D(2023, 12, 29)), 2023, D(2023, 1, 3), D(2023, 12, 29), True,
                     id="a lake starting on the year's first market day has no return for that day"),
        pytest.param("AAPL", _nyse(D(2023, 12, 1), D(2024, 7, 17)), 2024, D(2024, 1, 2), D(2024, 7, 17), True,
                     id="the current year, not over yet"),
        pytest.param("X:BTCUSD", _every_day(D(2022, 12, 31), D(2023, 12, 31)), 2023, D(2023, 1, 1),
                     D(2023, 12, 31), False, id="crypto trades on New Year's Day and Eve: a whole year"),
        pytest.param("X:BTCUSD", [d for d in _every_day(D(2022, 12, 1), D(2023, 12, 31)) if d != D(2023, 1, 1)],
                     2023, D(2023, 1, 2), D(2023, 12, 31), True,
                     id="crypto from Jan 2 misses New Year's Day, which a stock year would not"),
    ],
)  # fmt: skip
def test_yearly_rows_mark_partial_years(
    spark: SparkSession,
    ticker: str,
    days: list[datetime.date],
    year: int,
    first_day: datetime.date,
    last_day: datetime.date,
    is_partial: bool,
) -> None:
    yearly = with_yearly_performance(closes(spark, _path(ticker, days))).where(F.col("year") == year)
    # One return per bar of the year, but none for the ticker's very first bar.
    returns = sum(day.year == year for day in days) - (days[0].year == year)
    assert [
        (r["first_day"], r["last_day"], r["is_partial"], r["trading_days"]) for r in yearly.collect()
    ] == [(first_day, last_day, is_partial, returns)]


@pytest.mark.parametrize(
    ("days", "year", "partial"),
    [
        pytest.param(_nyse(D(2022, 12, 30), D(2023, 12, 29)), 2023, False,
                     id="a whole year: the whole rate against the annualised volatility"),
        pytest.param(_nyse(D(2023, 12, 1), D(2024, 7, 17)), 2024, True,
                     id="a partial year: rate and volatility both scaled to its returns / 252"),
    ],
)  # fmt: skip
def test_partial_years_are_charged_a_pro_rated_risk_free_rate(
    spark: SparkSession, days: list[datetime.date], year: int, partial: bool
) -> None:
    rows = _path("AAPL", days) + _path("I:NDX", days, step=3)
    yearly = with_yearly_performance(closes(spark, rows), risk_free_rate=0.04)
    row = yearly.where((F.col("ticker") == "AAPL") & (F.col("year") == year)).first()
    assert row is not None

    # By definition: returns of the year's bars (the first from the previous year's close).
    in_year = np.array([day.year == year for day in days[1:]])

    def year_returns(path: list[tuple[str, datetime.date, float]]) -> npt.NDArray[np.float64]:
        close = np.array([c for _, _, c in path])
        return np.asarray((close[1:] / close[:-1] - 1)[in_year], dtype=np.float64)

    r, m = year_returns(rows[: len(days)]), year_returns(rows[len(days) :])
    fraction = len(r) / 252 if partial else 1.0
    rf = 0.04 * fraction
    period_return, market_return = np.prod(1 + r) - 1, np.prod(1 + m) - 1
    volatility = np.std(r, ddof=1) * math.sqrt(252)
    beta = np.cov(r, m, ddof=1)[0, 1] / np.var(m, ddof=1)
    assert row["sharpe"] == pytest.approx((period_return - rf) / (volatility * math.sqrt(fraction)), rel=1e-9)
    assert row["capm_expected_return"] == pytest.approx(rf + beta * (market_return - rf), rel=1e-9)
    assert row["is_partial"] is partial


@pytest.mark.parametrize(
    ("ex_dividend_date", "counted"),
    [
        pytest.param(D(2024, 3, 14), True, id="an ex-date within the year's bars"),
        pytest.param(D(2024, 7, 17), True, id="an ex-date on the year's last bar"),
        pytest.param(D(2024, 9, 13), False, id="declared, but its ex-date is after the year's last bar"),
        pytest.param(D(2023, 12, 14), False, id="an ex-date in the previous year"),
    ],
)
def test_dividend_yield_counts_ex_dates_up_to_the_years_last_bar(
    spark: SparkSession, ex_dividend_date: datetime.date, counted: bool
) -> None:
    bars = _path("KO", _nyse(D(2023, 12, 1), D(2024, 7, 17)))
    dividends = spark.createDataFrame(
        [("KO", ex_dividend_date, 0.485)], "ticker string, ex_dividend_date date, cash_amount double"
    )
    row = with_yearly_performance(closes(spark, bars), dividends).where(F.col("year") == 2024).first()
    assert row is not None
    assert row["dividend_yield"] == pytest.approx(0.485 / bars[-1][2] if counted else 0.0, rel=1e-12)


def test_split_adjustment_restates_only_unadjusted_bars_before_each_split(spark: SparkSession) -> None:
    """A 1-for-4 then a 1-for-10 split: raw bars before both are divided by 40, between them by 10."""
    schema = "ticker string, date date, open double, high double, low double, close double, volume double, " \
             "vwap double, adjusted boolean"  # fmt: skip
    bars = spark.createDataFrame([
        ("N", D(2024, 6, 3), 400.0, 400.0, 400.0, 400.0, 10.0, None, False),    # before both splits
        ("N", D(2024, 6, 10), 100.0, 100.0, 100.0, 100.0, 40.0, 100.0, False),  # on the first: after it
        ("N", D(2024, 6, 11), 10.0, 10.0, 10.0, 10.0, 400.0, 10.0, True),       # already adjusted
        ("M", D(2024, 6, 3), 50.0, 50.0, 50.0, 50.0, 7.0, 50.0, False),         # no splits
    ], schema)  # fmt: skip
    splits = spark.createDataFrame(
        [("N", D(2024, 6, 10), 1.0, 4.0), ("N", D(2024, 6, 20), 1.0, 10.0)],
        "ticker string, execution_date date, split_from double, split_to double",
    )
    result = with_split_adjustment(bars, splits).select("ticker", "date", "close", "volume", "vwap")
    expected = spark.createDataFrame([
        ("N", D(2024, 6, 3), 10.0, 400.0, None),
        ("N", D(2024, 6, 10), 10.0, 400.0, 10.0),
        ("N", D(2024, 6, 11), 10.0, 400.0, 10.0),
        ("M", D(2024, 6, 3), 50.0, 7.0, 50.0),
    ], "ticker string, date date, close double, volume double, vwap double")  # fmt: skip
    assertDataFrameEqual(result, expected, rtol=1e-12)
    assert with_split_adjustment(bars, splits).columns == bars.columns


def test_anomalies_of_an_index_without_volume(spark: SparkSession) -> None:
    """An index trades no volume: its volume z-score is undefined (null), not a division error, and the
    return alone decides whether a day is an anomaly."""
    rows = [("I", D(2024, 1, 1) + datetime.timedelta(days=n), 100.0 + (n % 3), 0.0) for n in range(8)]
    rows[-1] = ("I", rows[-1][1], 150.0, 0.0)
    df = spark.createDataFrame(rows, "ticker string, date date, close double, volume double")
    result = df.transform(with_anomalies, days=5, threshold=3.0).orderBy("date").collect()
    assert all(r["volume_z"] is None for r in result)
    assert [r["is_anomaly"] for r in result] == [None] * 6 + [False, True]


def test_news_counts_sit_beside_the_days_return(spark: SparkSession) -> None:
    """Articles count toward the New York date they were published on; a day without news counts zero, and
    news on a day without a bar is not counted."""
    from anthill_spark.transforms.gold import with_news_counts, with_news_date  # noqa: PLC0415

    daily = spark.createDataFrame(
        [("AAPL", D(2024, 7, 1), 100.0), ("AAPL", D(2024, 7, 2), 103.0), ("AAPL", D(2024, 7, 3), 103.0)],
        "ticker string, date date, close double",
    )
    utc = datetime.UTC
    news = spark.createDataFrame([
        ("AAPL", datetime.datetime(2024, 7, 2, 14, 0, tzinfo=utc), "positive"),
        ("AAPL", datetime.datetime(2024, 7, 3, 2, 0, tzinfo=utc), "negative"),  # 22:00 on July 2nd in New York
        ("AAPL", datetime.datetime(2024, 7, 6, 12, 0, tzinfo=utc), "neutral"),  # a Saturday: no bar
    ], "ticker string, published_utc timestamp, sentiment string").transform(with_news_date)  # fmt: skip
    rows = {r["date"]: r for r in with_news_counts(daily, news).collect()}
    assert [(rows[d]["articles"], rows[d]["positive"], rows[d]["negative"]) for d in sorted(rows)] == [
        (0, 0, 0), (2, 1, 1), (0, 0, 0)]  # fmt: skip
    assert rows[D(2024, 7, 2)]["simple_return"] == pytest.approx(0.03)
