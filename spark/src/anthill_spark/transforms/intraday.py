"""Silver ticks -> gold per minute: minute bars rebuilt from trades, checked against the vendor's own minute
aggregates, and quoted-spread statistics.

A minute's bar is what its trades say: the first trade's price opens it and the last closes it (by time, then
the vendor's sequence number), volume is their sizes' sum and VWAP their size-weighted price. Where the
vendor's minute aggregate for that ticker and minute is in silver, its values sit beside the rebuilt ones and
``matches_vendor`` says whether they agree (prices to a millionth, volume exactly).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

BPS = 10_000.0
PRICE_TOLERANCE = 1e-6


def with_minute(ticks_df: DataFrame) -> DataFrame:
    """The minute each tick falls in (UTC), and its trading date."""
    return ticks_df.withColumns({"minute": F.date_trunc("minute", "ts"), "date": F.to_date("ts")})


def with_intraday_bars(trades_df: DataFrame) -> DataFrame:
    """One bar per (ticker, minute) from silver trades."""
    order = F.struct("ts", F.coalesce("sequence_number", F.lit(0)).alias("sequence"), "trade_key")
    return (
        trades_df.transform(with_minute)
        .groupBy("ticker", "date", "minute")
        .agg(
            F.min_by("price", order).alias("open"),
            F.max("price").alias("high"),
            F.min("price").alias("low"),
            F.max_by("price", order).alias("close"),
            F.sum("size").alias("volume"),
            (F.sum(F.col("price") * F.col("size")) / F.sum("size")).alias("vwap"),
            F.count(F.lit(1)).alias("trades"),
        )
    )


def with_vendor_check(bars_df: DataFrame, aggregates_df: DataFrame | None) -> DataFrame:
    """``bars_df`` with the vendor's minute aggregate beside each bar (null where silver has none) and
    ``matches_vendor``: true when they agree, false when they differ, null when there is nothing to check."""
    if aggregates_df is None:
        columns = ("vendor_open", "vendor_high", "vendor_low", "vendor_close", "vendor_volume")
        return bars_df.withColumns({c: F.lit(None).cast("double") for c in columns}).withColumn(
            "matches_vendor", F.lit(None).cast("boolean")
        )
    vendor = aggregates_df.select(
        "ticker",
        F.col("start").alias("minute"),
        *(F.col(c).alias(f"vendor_{c}") for c in ("open", "high", "low", "close", "volume")),
    )
    close = [
        F.abs(F.col(c) - F.col(f"vendor_{c}")) <= PRICE_TOLERANCE for c in ("open", "high", "low", "close")
    ]
    agrees = close[0] & close[1] & close[2] & close[3] & (F.col("volume") == F.col("vendor_volume"))
    checked = bars_df.join(vendor, ["ticker", "minute"], "left")
    return checked.withColumn("matches_vendor", F.when(F.col("vendor_close").isNotNull(), agrees))


def with_spreads(quotes_df: DataFrame) -> DataFrame:
    """Quoted-spread statistics per (ticker, minute) from silver quotes: how many quotes, the mean, median,
    smallest and largest spread, in price and in basis points of the mid."""
    spread = F.col("ask_price") - F.col("bid_price")
    bps = spread / ((F.col("ask_price") + F.col("bid_price")) / 2) * BPS
    return (
        quotes_df.transform(with_minute)
        .withColumns({"spread": spread, "spread_bps": bps})
        .groupBy("ticker", "date", "minute")
        .agg(
            F.count(F.lit(1)).alias("quotes"),
            F.avg("spread").alias("mean_spread"),
            F.avg("spread_bps").alias("mean_spread_bps"),
            F.percentile_approx("spread_bps", 0.5).alias("median_spread_bps"),
            F.min("spread_bps").alias("min_spread_bps"),
            F.max("spread_bps").alias("max_spread_bps"),
        )
    )
