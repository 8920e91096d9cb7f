"""Incremental runs end where one full build does: sandbox bronze arriving over four ingest runs, with a
late correction and a split among them, processed incrementally, against a full build of the same bronze."""

from __future__ import annotations

import datetime
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention
from pyspark.testing import assertDataFrameEqual

from anthill_ingest.datasets import dataset_for
from anthill_sandbox import data
from anthill_sandbox.server import SandboxServer
from anthill_spark.jobs.gold import GOLD_TABLES, silver_to_gold
from anthill_spark.jobs.silver import SILVER_TABLES, bronze_to_silver
from anthill_spark.lake import Lake, read_table, table_exists
from tests.integration.ingest.conftest import feed_doc, run_ingest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
START = {"from": "2024-01-02"}


def feeds(root: Path) -> list[dict[str, Any]]:
    uri = f"file://{root}"
    docs = [
        feed_doc("equities", uri, tickers=["AAPL", "MSFT"], backfill=START),
        feed_doc("nvda-raw", uri, tickers=["NVDA"], adjusted=False, backfill=START),  # raw: splits apply
        feed_doc("indices", uri, tickers=["I:NDX", "I:COMP"], assetClass="indices", backfill=START),
        feed_doc("dividends", uri, dataset="dividends", tickers=["AAPL", "MSFT"], backfill=START),
        feed_doc("splits", uri, dataset="splits", tickers=["NVDA", "AAPL"], backfill=START),
        feed_doc("holidays", uri, dataset="marketHolidays"),
        feed_doc("news", uri, dataset="news", tickers=["AAPL", "NVDA"], backfill=START),  # gold.news_counts
    ]
    for doc in docs:
        if doc["spec"]["dataset"] != "aggregates":
            doc["spec"].pop("bars")
        if doc["spec"]["dataset"] == "marketHolidays":
            doc["spec"].pop("tickers")
    return docs


def bronze(root: Path) -> list[str]:
    """The bronze location of every feed above, as the operator passes a pipeline naming them all."""
    return [f"file://{root}/bronze/market/{doc['metadata']['name']}" for doc in feeds(root)]


def announce_split(root: Path) -> None:
    """A split the provider reports late: MSFT 2-for-1 on 2024-07-08 (its bars are adjusted already)."""
    path = root / "bronze/market/splits/splits/event/date=2024-07-08/late.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"id": "late-msft", "ticker": "MSFT", "execution_date": datetime.date(2024, 7, 8),
           "split_from": 1.0, "split_to": 2.0}  # fmt: skip
    pq.write_table(pa.Table.from_pylist([row], schema=dataset_for("splits").schema), path)


def correct_late(root: Path, day: str) -> None:
    """A provider correction: the day's equities file rewritten later with closes 0.5% higher."""
    path = root / f"bronze/market/equities/aggregates/1day/date={day}/equities.parquet"
    table = pq.read_table(path)
    for column in ("close", "high"):
        index = table.schema.get_field_index(column)
        table = table.set_column(index, column, [[v.as_py() * 1.005 for v in table.column(column)]])
    pq.write_table(table, path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def tables(spark: SparkSession, lake: Lake) -> dict[str, list[str]]:
    silver = ["bars", "quarantine", *(t.name for t in SILVER_TABLES)]
    return {
        "silver": [n for n in silver if table_exists(spark, lake, "silver", n)],
        "gold": [n for n in GOLD_TABLES if table_exists(spark, lake, "gold", n)],
    }


def test_incremental_runs_equal_a_full_build(
    spark: SparkSession, tmp_path: Path, sandbox: SandboxServer
) -> None:
    root = tmp_path / "incremental"
    lake = Lake(f"file://{root}")
    modes = []
    for today, late, split in (("2024-03-01", None, False), ("2024-05-01", "2024-02-15", False),
                               ("2024-07-16", None, True), ("2024-07-17", None, False)):  # fmt: skip
        for doc in feeds(root):
            assert run_ingest(tmp_path, doc, sandbox, today=today).exit_code == 0, doc["metadata"]["name"]
        if late:
            correct_late(root, late)
        if split:
            announce_split(root)
        bronze_to_silver(spark, lake, bronze(root))
        modes.append(
            {name: result.mode for name, result in silver_to_gold(spark, lake, list(GOLD_TABLES)).items()}
        )

    assert set(modes[0].values()) == {"full"}  # nothing built yet
    # The late correction on 2024-02-15 is the earliest change; yearly tables restart at the year's start.
    # Splits fetched again with the same values do not force a full rebuild.
    in_place = dict.fromkeys(GOLD_TABLES, "incremental from 2024-02-15")
    assert modes[1] == in_place | {"yearly_performance": "incremental from 2024-01-01"}
    assert set(modes[2].values()) == {"full"}  # a new split restates history
    # One new day: the days before it that the ingest fetched again came back unchanged, so their files
    # were not rewritten and nothing before the new day is rebuilt.
    new_day = dict.fromkeys(GOLD_TABLES, "incremental from 2024-07-16")
    assert modes[3] == new_day | {"yearly_performance": "incremental from 2024-01-01"}

    full_root = tmp_path / "full"
    shutil.copytree(root / "bronze", full_root / "bronze")  # copy2: file times, so ingested_at, are kept
    full = Lake(f"file://{full_root}")
    bronze_to_silver(spark, full, bronze(full_root), full=True)
    silver_to_gold(spark, full, list(GOLD_TABLES), full=True)

    assert tables(spark, lake) == tables(spark, full)
    for layer, names in tables(spark, lake).items():
        for name in names:
            ours, theirs = read_table(spark, lake, layer, name), read_table(spark, full, layer, name)
            assert ours.count() == theirs.count() > 0, f"{layer}.{name}"
            assertDataFrameEqual(ours, theirs, rtol=1e-12, atol=0.0)

    # The raw NVDA feed, restated for its 1-for-10 split of 2024-06-10, matches the adjusted series, and
    # the restatement is exactly the split ratio.
    gold_closes = {
        r["date"]: r["close"]
        for r in read_table(spark, lake, "gold", "daily_returns").where(F.col("ticker") == "NVDA").collect()
    }
    assert len(gold_closes) > 100
    for day, close in gold_closes.items():
        adjusted = data.daily_bar("NVDA", day, adjusted=True)
        assert adjusted is not None
        assert close == pytest.approx(adjusted.close, abs=6e-5), day  # the API rounds prices to 4 places
    silver = read_table(spark, lake, "silver", "bars")
    raw = silver.where("ticker = 'NVDA' AND ts >= '2024-01-02' AND ts < '2024-01-03'").first()
    assert raw is not None
    assert not raw["adjusted"]
    assert raw["close"] == pytest.approx(10 * gold_closes[datetime.date(2024, 1, 2)], rel=1e-12)
