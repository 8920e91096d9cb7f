"""A MarketStream's process killed outright (SIGKILL, as the OOM killer or a lost node does) again and again,
as soon as a flush has put its files down and before it could record its checkpoint: silver, refined from
everything that reached bronze, holds every event the market sent over the whole time exactly once.

What the killed processes held in memory is lost from the stream; each restart fills the gap from the REST
API, from its checkpoint on, and the overlap between a fill and what was already flushed is removed by
silver's key (the vendor's sequence number).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812

from anthill_devkit.controlplane import wait_for
from anthill_spark.jobs.silver import bronze_to_silver
from anthill_spark.lake import Lake, read_table
from tests.integration.ingest.test_stream import (
    TICKERS,
    WAIT,
    Market,
    Stream,
    market,
    market_factory,
    no_stream_outlives_its_test,
    rest_events,
)

__all__ = ["market", "market_factory", "no_stream_outlives_its_test"]  # fixtures, used by name
pytestmark = [pytest.mark.integration, pytest.mark.slow]
KILLS = 3


def flush_files(lake: Path) -> int:
    return sum(1 for _ in (lake / "bronze").rglob("*.parquet")) if (lake / "bronze").exists() else 0


def test_kills_mid_flush_lose_and_duplicate_nothing_in_silver(
    spark: SparkSession, tmp_path: Path, market: Market
) -> None:
    lake = tmp_path / "lake"
    uri = f"file://{lake}"
    for _ in range(KILLS):
        stream = Stream(tmp_path, market, uri)
        stream.wait_stats(lambda s: s["state"] == "Streaming", "streaming")
        before = flush_files(lake)
        # The moment a flush's first file is in place: kill before the rest, and before the checkpoint.
        wait_for(lambda: flush_files(lake) > before, WAIT, "a flush", interval=0.002)  # noqa: B023
        stream.kill()
    last = Stream(tmp_path, market, uri)
    last.wait_stats(
        lambda s: "gap fill" not in s.get("state", "") and s["rowsFlushed"] > 0, "the last stream"
    )
    last.flushed(last.stats()[-1]["rowsFlushed"] + 50)
    last.terminate()

    target = Lake(uri)
    bronze_to_silver(spark, target, [f"{uri}/bronze/market/live"])
    compared = 0
    for channel in ("trades", "quotes"):
        silver = read_table(spark, target, "silver", channel)
        for ticker in TICKERS:
            rows = silver.where(F.col("ticker") == ticker).select("sequence_number", "ts").collect()
            sequences = [row["sequence_number"] for row in rows]
            assert len(sequences) == len(set(sequences)), f"{channel} {ticker}: a tick twice in silver"
            first = min(int(row["ts"].timestamp() * 1000) for row in rows)
            last_ms = max(int(row["ts"].timestamp() * 1000) for row in rows)
            expected = rest_events(market, channel, ticker, first, last_ms)
            missing = sorted(expected.keys() - set(sequences))
            assert not missing, f"{channel} {ticker}: {len(missing)} ticks lost, first {missing[:5]}"
            assert set(sequences) == expected.keys()
            compared += len(expected)
    assert compared > 400
