"""Silver daily bars -> gold metrics. Each is a DataFrame -> DataFrame transform over one row per ticker and day.

Windows count trading days (rows), not calendar days, and a metric is null until its window is full, so a
20-day volatility never quietly means "whatever history there was".
"""

from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

TRADING_DAYS_PER_YEAR = 252
VOLATILITY_WINDOWS = (20, 60)
SMA_WINDOWS = (20, 50, 200)
EMA_SPANS = (12, 26)


def _by_ticker() -> WindowSpec:
    return Window.partitionBy("ticker").orderBy("date")


def _trailing(days: int) -> WindowSpec:
    return _by_ticker().rowsBetween(-(days - 1), Window.currentRow)


def _to_date() -> WindowSpec:
    return _by_ticker().rowsBetween(Window.unboundedPreceding, Window.currentRow)


def _full(days: int, value: Column) -> Column:
    """``value`` where the trailing window holds ``days`` rows, else null."""
    return F.when(F.count(F.lit(1)).over(_trailing(days)) == days, value)


def with_trading_date(bars_df: DataFrame) -> DataFrame:
    """Daily bars (timespan 1day) with their trading date as ``date``: the UTC date for crypto and forex,
    whose bars are stamped at midnight UTC, New York's for the exchanges (the ingest partitions bronze by the
    same rule)."""
    zone = F.when(_market(F.col("ticker")) == "exchange", F.lit("America/New_York")).otherwise(F.lit("UTC"))
    return bars_df.where(F.col("timespan") == "1day").withColumn(
        "date", F.to_date(F.from_utc_timestamp("ts", zone))
    )


def with_split_adjustment(daily_df: DataFrame, splits_df: DataFrame) -> DataFrame:
    """Unadjusted bars (``adjusted`` false) restated in today's shares: prices times, and volume divided by,
    the product of ``split_from / split_to`` over the ticker's splits executed after the bar's date.
    Adjusted bars pass unchanged, so a lake holding both kinds gives one consistent series."""
    ratios = splits_df.select(
        F.col("ticker").alias("_ticker"),
        F.col("execution_date"),
        (F.col("split_from") / F.col("split_to")).alias("_ratio"),
    )
    unadjusted = daily_df.where(~F.col("adjusted")).select("ticker", "date")
    factors = (
        unadjusted.join(
            ratios, (F.col("ticker") == F.col("_ticker")) & (F.col("execution_date") > F.col("date"))
        )
        .groupBy("ticker", "date")
        .agg(F.product("_ratio").alias("_factor"))
    )
    factor = F.when(~F.col("adjusted"), F.coalesce(F.col("_factor"), F.lit(1.0))).otherwise(F.lit(1.0))
    joined = daily_df.join(factors, ["ticker", "date"], "left")
    restated = {c: F.col(c) * factor for c in ("open", "high", "low", "close", "vwap")}
    restated["volume"] = F.col("volume") / factor
    return joined.withColumns(restated).drop("_factor").select(*daily_df.columns)


def with_daily_returns(daily_df: DataFrame) -> DataFrame:
    """gold.daily_returns: simple and log close-to-close returns (null on a ticker's first day)."""
    previous = F.lag("close").over(_by_ticker())
    return daily_df.select(
        "ticker",
        "date",
        "close",
        (F.col("close") / previous - 1).alias("simple_return"),
        F.log(F.col("close") / previous).alias("log_return"),
    )


def with_volatility(returns_df: DataFrame) -> DataFrame:
    """gold.volatility: annualised sample stddev of log returns over the last 20 and 60 returns."""
    scale = math.sqrt(TRADING_DAYS_PER_YEAR)
    windows = []
    for days in VOLATILITY_WINDOWS:
        window = _trailing(days)
        full = F.count("log_return").over(window) == days
        windows.append(
            F.when(full, F.stddev_samp("log_return").over(window) * scale).alias(f"volatility_{days}d")
        )
    return returns_df.select("ticker", "date", *windows)


def _ema(span: int) -> Column:
    """pandas' ``ewm(span, adjust=True).mean()`` in closed form: weights (1 - alpha)^(t - i) over all history,
    resumed from ``_seed_<span>`` (the EMA on the day before the rows at hand) over ``_seed_rows`` earlier rows.

    With r = 1 - alpha, i the row number and c the middle row of the ticker's rows at hand, the EMA is
    (r^(c+1) N + sum x_i r^(c-i)) / (r^(c+1) D + sum r^(c-i)), the sums running to today: D = (1 - r^a) / (1 - r)
    is the weight of the a earlier rows and N = seed * D their weighted closes (both 0 without a seed). Every
    r^(c-i) stays within double range for up to ~8,400 rows at hand (r^-c alone, the earlier form, overflowed
    to infinity past ~4,200 rows for span 12: 17 years of daily bars, 12 of crypto).
    """
    r = 1 - 2 / (span + 1)
    weight = F.pow(F.lit(r), F.col("_c") - F.col("_i"))
    earlier = F.pow(F.lit(r), F.col("_c") + 1)
    seed_weight = (1 - F.pow(F.lit(r), F.col("_seed_rows"))) / (1 - r)
    numerator = earlier * seed_weight * F.col(f"_seed_{span}") + F.sum(F.col("close") * weight).over(
        _to_date()
    )
    return numerator / (earlier * seed_weight + F.sum(weight).over(_to_date()))


def _emas() -> list[Column]:
    return [_ema(span).alias(f"ema_{span}") for span in EMA_SPANS]


def _indexed(daily_df: DataFrame, seeds: DataFrame | None = None) -> DataFrame:
    """Rows numbered per ticker (``_i``) around their middle one (``_c``), with the EMA seeds (none: zero)."""
    numbered = daily_df.withColumns({
        "_i": F.row_number().over(_by_ticker()) - 1,
        "_c": F.floor(F.count(F.lit(1)).over(Window.partitionBy("ticker")) / 2),
    })  # fmt: skip
    zero = {"_seed_rows": F.lit(0).cast("long"), **{f"_seed_{span}": F.lit(0.0) for span in EMA_SPANS}}
    if seeds is None:
        return numbered.withColumns(zero)
    joined = numbered.join(F.broadcast(seeds), "ticker", "left")
    return joined.withColumns({name: F.coalesce(F.col(name), value) for name, value in zero.items()})


def with_moving_averages(daily_df: DataFrame) -> DataFrame:
    """gold.moving_averages: SMA 20/50/200 of close (null until full) and EMA 12/26 (pandas adjust=True)."""
    smas = [_full(days, F.avg("close").over(_trailing(days))).alias(f"sma_{days}") for days in SMA_WINDOWS]
    return daily_df.transform(_indexed).select("ticker", "date", "close", *smas, *_emas())


def with_exponential_moving_averages(daily_df: DataFrame, seeds: DataFrame | None = None) -> DataFrame:
    """The EMA columns of ``with_moving_averages`` alone, keyed by ticker and date: they weigh every earlier
    row, so a rebuild from some day on resumes them from ``seeds`` (``ema_seeds``) over the rows from it."""
    return daily_df.transform(_indexed, seeds).select("ticker", "date", *_emas())


def _saturation(span: int) -> int:
    """Earlier rows past which an EMA's weight of them, (1 - r^a) / (1 - r), no longer changes in double
    precision: r^a is below 2^-60, so 1 - r^a is exactly 1.0."""
    return math.ceil(-60 * math.log(2) / math.log(1 - 2 / (span + 1)))


# Rows of a ticker's moving averages an EMA resumes from: its last one, and how many came before it, which
# matters only up to this many (more weigh the same to the last bit).
EMA_SEED_ROWS = max(_saturation(span) for span in EMA_SPANS)


def ema_seeds(before_df: DataFrame) -> DataFrame:
    """Per ticker, what the EMAs resume from: the rows of gold.moving_averages before the rebuilt days (how
    many, and the last one's EMAs). A ticker's last ``EMA_SEED_ROWS`` rows, or more, give the same seeds as
    all of them."""
    last = {f"_seed_{span}": F.max_by(f"ema_{span}", "date") for span in EMA_SPANS}
    return before_df.groupBy("ticker").agg(
        F.count(F.lit(1)).alias("_seed_rows"), *(value.alias(name) for name, value in last.items())
    )


def resume_exponential_moving_averages(daily_df: DataFrame, before_df: DataFrame) -> DataFrame:
    """The EMAs of ``daily_df``'s rows (each ticker's from some day on), resumed from gold.moving_averages'
    rows before that day (``before_df``)."""
    return with_exponential_moving_averages(daily_df, ema_seeds(before_df))


def with_drawdowns(daily_df: DataFrame, seeds: DataFrame | None = None) -> DataFrame:
    """gold.drawdowns: the running peak, today's drawdown from it, and the worst drawdown so far; resumed from
    ``seeds`` (``_seed_peak`` and ``_seed_max_drawdown`` per ticker, through the day before the rows at hand)
    if given. A maximum and a minimum resume exactly."""
    peak = F.max("close").over(_to_date())
    if seeds is not None:
        daily_df = daily_df.join(F.broadcast(seeds), "ticker", "left")
        peak = F.greatest(peak, F.col("_seed_peak"))  # greatest and least skip a null: no seed, no change
    with_peak = daily_df.select(
        "ticker", "date", "close", peak.alias("peak"), *(["_seed_max_drawdown"] if seeds is not None else [])
    )
    drawdown = with_peak.withColumn("drawdown", F.col("close") / F.col("peak") - 1)
    worst = F.min("drawdown").over(_to_date())
    if seeds is not None:
        worst = F.least(worst, F.col("_seed_max_drawdown"))
    return drawdown.select("ticker", "date", "close", "peak", "drawdown", worst.alias("max_drawdown"))


def resume_drawdowns(daily_df: DataFrame, before_df: DataFrame) -> DataFrame:
    """gold.drawdowns for ``daily_df``'s rows (each ticker's from some day on), resumed from the table's rows
    before that day (``before_df``): their highest peak and worst drawdown, which are its last row's (both
    run over all history), so its last row alone gives them."""
    seeds = before_df.groupBy("ticker").agg(
        F.max("peak").alias("_seed_peak"), F.min("max_drawdown").alias("_seed_max_drawdown")
    )
    return with_drawdowns(daily_df, seeds)


ANOMALY_WINDOW = 60
ANOMALY_THRESHOLD = 3.0
BREADTH_WINDOW = 252  # a 52-week high or low: counted only once a ticker has this many trading days


def _zscore(column: str, days: int) -> Column:
    """How many sample stddevs today's ``column`` is from the previous ``days`` values (today excluded)."""
    previous = _by_ticker().rowsBetween(-days, -1)
    full = F.count(column).over(previous) == days
    # A constant history (an index's zero volume) has no spread: its z-score is undefined, so null.
    deviation = F.col(column) - F.avg(column).over(previous)
    return F.when(full, F.try_divide(deviation, F.stddev_samp(column).over(previous)))


def with_anomalies(
    daily_df: DataFrame, days: int = ANOMALY_WINDOW, threshold: float = ANOMALY_THRESHOLD
) -> DataFrame:
    """gold.anomalies: z-scores of today's log return and volume against the previous ``days`` trading days;
    ``is_anomaly`` when either exceeds ``threshold`` in absolute value (null until the window is full)."""
    returns = daily_df.withColumn("log_return", F.log(F.col("close") / F.lag("close").over(_by_ticker())))
    scored = returns.select(
        "ticker", "date", "log_return", "volume",
        _zscore("log_return", days).alias("return_z"),
        _zscore("volume", days).alias("volume_z"),
    )  # fmt: skip
    flagged = F.coalesce(F.abs("return_z") > threshold, F.lit(False)) | F.coalesce(
        F.abs("volume_z") > threshold, F.lit(False)
    )
    return scored.withColumn("is_anomaly", F.when(F.col("return_z").isNotNull(), flagged))


def is_stock(ticker: Column) -> Column:
    """Whether a Massive ticker is a stock: every other market's tickers carry a prefix (``I:`` indices,
    ``X:`` crypto, ``C:`` forex, ``O:`` options)."""
    return ~ticker.rlike(r"^[A-Z]:")


def with_market_breadth(daily_df: DataFrame) -> DataFrame:
    """gold.market_breadth: per day, over stocks only (an index aggregates the same stocks, so counting it
    would count them twice), how many rose, fell or stayed, and how many closed at a 52-week high or low.

    A stock counts toward highs and lows only once it has ``BREADTH_WINDOW`` trading days: in a lake's first
    year a 20-day extreme is no 52-week one, so such days count none (as the README says of every window)."""
    window = _by_ticker().rowsBetween(-(BREADTH_WINDOW - 1), Window.currentRow)
    previous = F.lag("close").over(_by_ticker())
    full_year = F.count(F.lit(1)).over(window) == BREADTH_WINDOW
    per_ticker = daily_df.where(is_stock(F.col("ticker"))).select(
        "date",
        F.signum(F.col("close") - previous).alias("direction"),
        (full_year & (F.col("close") >= F.max("close").over(window))).alias("new_high"),
        (full_year & (F.col("close") <= F.min("close").over(window))).alias("new_low"),
    )
    return per_ticker.groupBy("date").agg(
        F.count(F.when(F.col("direction") > 0, 1)).alias("advancers"),
        F.count(F.when(F.col("direction") < 0, 1)).alias("decliners"),
        F.count(F.when(F.col("direction") == 0, 1)).alias("unchanged"),
        F.count(F.when(F.col("new_high"), 1)).alias("new_highs"),
        F.count(F.when(F.col("new_low"), 1)).alias("new_lows"),
    )


# Which days a ticker's market has a daily bar, as the ingest's calendar plans them (the Spark wheel stands
# alone, so the rules are restated here and a test holds the two together). Only the year's ends matter:
# New Year's Day always closes the exchanges (on the Monday after when it falls on a Sunday, and a Saturday
# one is not observed on the Friday before), and no holiday falls on December's last weekday.
_SUNDAY, _FRIDAY, _SATURDAY = 1, 6, 7  # F.dayofweek


def _market(ticker: Column) -> Column:
    """``crypto`` (``X:``, every day), ``forex`` (``C:``, all but Saturdays), else ``exchange`` (NYSE)."""
    return (
        F.when(ticker.startswith("X:"), "crypto").when(ticker.startswith("C:"), "forex").otherwise("exchange")
    )


def first_market_day(ticker: Column, year: Column) -> Column:
    """The first day of ``year`` on which ``ticker``'s market has a daily bar."""
    new_year = F.make_date(year, F.lit(1), F.lit(1))
    weekday = F.dayofweek(new_year)
    # The exchange opens on Jan 2, or on the next Monday from a Friday or Saturday New Year, and on Jan 3
    # when a Sunday New Year is observed on Monday Jan 2.
    exchange = F.when(weekday == _FRIDAY, 3).when(weekday.isin(_SATURDAY, _SUNDAY), 2).otherwise(1)
    forex = F.when(weekday == _SATURDAY, 1).otherwise(0)
    offset = (
        F.when(_market(ticker) == "crypto", 0).when(_market(ticker) == "forex", forex).otherwise(exchange)
    )
    return F.date_add(new_year, offset)


def last_market_day(ticker: Column, year: Column) -> Column:
    """The last day of ``year`` on which ``ticker``'s market has a daily bar."""
    new_years_eve = F.make_date(year, F.lit(12), F.lit(31))
    weekday = F.dayofweek(new_years_eve)
    exchange = F.when(weekday == _SATURDAY, 1).when(weekday == _SUNDAY, 2).otherwise(0)
    forex = F.when(weekday == _SATURDAY, 1).otherwise(0)
    offset = (
        F.when(_market(ticker) == "crypto", 0).when(_market(ticker) == "forex", forex).otherwise(exchange)
    )
    return F.date_sub(new_years_eve, offset)


MARKET_COMPOSITE = ("I:NDX", "I:COMP")
RISK_FREE_RATE = 0.04


def with_market_returns(returns_df: DataFrame, composite: tuple[str, ...] = MARKET_COMPOSITE) -> DataFrame:
    """Per date, the market's simple return: the mean over the composite's indices that have one that day."""
    members = returns_df.where(F.col("ticker").isin(*composite) & F.col("simple_return").isNotNull())
    return members.groupBy("date").agg(F.avg("simple_return").alias("market_return"))


def with_yearly_performance(
    daily_df: DataFrame, dividends_df: DataFrame | None = None, risk_free_rate: float = RISK_FREE_RATE
) -> DataFrame:
    """gold.yearly_performance per ticker and calendar year: compounded return, annualised volatility of
    daily returns, beta and correlation against the market composite, CAPM expected return, Sharpe ratio
    and dividend yield (cash dividends with an ex-date in the year, up to its last bar, over that bar's close).

    ``first_day`` and ``last_day`` are the year's first and last bar. ``is_partial`` marks a year whose
    returns do not span its market's whole year: bars starting after its first market day or ending before
    its last (the lake's first year, the year to date, a listing or delisting), or a first bar with no
    earlier close (the ticker's first in the lake, so the year misses that day's return). A partial year's
    CAPM and Sharpe are over the period it covers: the risk-free rate is pro-rated to ``trading_days`` / 252
    and Sharpe's volatility scaled by its square root, so no full-year rate meets a part-year return."""
    returns = daily_df.transform(with_daily_returns)
    market = returns.transform(with_market_returns)
    joined = (
        returns.join(market, "date", "left")
        .withColumn("year", F.year("date"))
        # Beta's variance, and the market's return, use the same days as the ticker's return: those with both.
        .withColumn("paired_market", F.when(F.col("simple_return").isNotNull(), F.col("market_return")))
    )
    per_year = joined.groupBy("ticker", "year").agg(
        F.min("date").alias("first_day"),
        F.max("date").alias("last_day"),
        (F.exp(F.sum(F.log1p("simple_return"))) - 1).alias("annual_return"),
        (F.stddev_samp("simple_return") * math.sqrt(TRADING_DAYS_PER_YEAR)).alias("volatility"),
        F.try_divide(F.covar_samp("simple_return", "paired_market"), F.var_samp("paired_market")).alias(
            "beta"
        ),
        F.corr("simple_return", "market_return").alias("correlation"),
        (F.exp(F.sum(F.log1p("paired_market"))) - 1).alias("market_return"),
        F.max_by("close", "date").alias("year_end_close"),
        F.count("simple_return").alias("trading_days"),
        F.count(F.lit(1)).alias("_bars"),
    )
    whole = (
        (F.col("first_day") == first_market_day(F.col("ticker"), F.col("year")))
        & (F.col("last_day") == last_market_day(F.col("ticker"), F.col("year")))
        & (F.col("trading_days") == F.col("_bars"))
    )
    marked = per_year.withColumn("is_partial", ~whole)
    fraction = F.when(F.col("is_partial"), F.col("trading_days") / TRADING_DAYS_PER_YEAR).otherwise(1.0)
    rf = F.lit(risk_free_rate) * fraction
    result = marked.select(
        "ticker", "year", "first_day", "last_day", "is_partial", "trading_days", "annual_return", "volatility",
        "beta", "correlation",
        (rf + F.col("beta") * (F.col("market_return") - rf)).alias("capm_expected_return"),
        F.try_divide(F.col("annual_return") - rf, F.col("volatility") * F.sqrt(fraction)).alias("sharpe"),
        "year_end_close",
    )  # fmt: skip
    if dividends_df is None:
        return result.withColumn("dividend_yield", F.lit(None).cast("double")).drop("year_end_close")
    # The last bar again, from the bars alone: cheaper than reading it back from the yearly aggregate.
    last_bars = daily_df.groupBy("ticker", F.year("date").alias("year")).agg(F.max("date").alias("last_day"))
    paid = (
        dividends_df.withColumn("year", F.year("ex_dividend_date"))
        .join(last_bars, ["ticker", "year"])
        # A dividend declared ahead goes ex after the year's last bar so far: not yet the holder's.
        .where(F.col("ex_dividend_date") <= F.col("last_day"))
        .groupBy("ticker", "year")
        .agg(F.sum("cash_amount").alias("dividends"))
    )
    with_dividends = result.join(paid, ["ticker", "year"], "left")
    dividend_yield = F.coalesce(F.col("dividends"), F.lit(0.0)) / F.col("year_end_close")
    return with_dividends.withColumn("dividend_yield", dividend_yield).drop("dividends", "year_end_close")


NEWS_ZONE = "America/New_York"  # news counts toward the trading date it was published on, New York's


def with_news_date(news_df: DataFrame) -> DataFrame:
    """Silver news with ``date``: the New York date each article was published on."""
    return news_df.withColumn("date", F.to_date(F.from_utc_timestamp("published_utc", NEWS_ZONE)))


def with_news_counts(daily_df: DataFrame, news_df: DataFrame | None) -> DataFrame:
    """gold.news_counts: per ticker and trading day, the day's simple return beside how many articles were
    published about the ticker that day, and how many of them the vendor read as positive or negative
    (zero without news; news on a day without a bar is not counted)."""
    returns = daily_df.transform(with_daily_returns).select("ticker", "date", "simple_return")
    counts = ["articles", "positive", "negative"]
    if news_df is None:
        return returns.withColumns({c: F.lit(0).cast("long") for c in counts})
    per_day = news_df.groupBy("ticker", "date").agg(
        F.count(F.lit(1)).alias("articles"),
        F.count(F.when(F.col("sentiment") == "positive", 1)).alias("positive"),
        F.count(F.when(F.col("sentiment") == "negative", 1)).alias("negative"),
    )
    joined = returns.join(per_day, ["ticker", "date"], "left")
    return joined.withColumns({c: F.coalesce(F.col(c), F.lit(0)).cast("long") for c in counts})
