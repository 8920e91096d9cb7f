"""The medallion jobs end to end: bronze written by `anthill ingest run` from the sandbox -> silver -> gold."""

from __future__ import annotations

import datetime
import io
import itertools
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention
from pyspark.testing import assertDataFrameEqual

from anthill_ingest.calendar import trading_days
from anthill_sandbox.server import SandboxServer
from anthill_spark.jobs import gold as gold_job
from anthill_spark.jobs import silver as silver_job
from anthill_spark.jobs.gold import BuiltFrom, SilverInputs, built_from, read_silver_inputs, silver_to_gold
from anthill_spark.jobs.silver import BAR_DATASETS, bronze_to_silver, read_bronze, silver_watermark
from anthill_spark.lake import Lake, delta_table, read_table, write_table
from tests.integration.ingest.conftest import feed_doc, run_ingest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAYS = len(list(trading_days(datetime.date(2024, 1, 2), datetime.date(2024, 6, 28))))
FEEDS = ("equities", "indices", "dividends")  # in namespace market (feed_doc's)


def bronze(lake: Lake, *names: str, namespace: str = "market") -> list[str]:
    """The bronze locations of feeds in ``lake``, as the operator passes them."""
    return [f"{lake.uri}/bronze/{namespace}/{name}" for name in names or FEEDS]


@pytest.fixture
def lake(tmp_path: Path, sandbox: SandboxServer) -> Lake:
    root = tmp_path / "lake"
    for name, tickers in (("equities", ["AAPL", "MSFT", "NVDA"]), ("indices", ["I:NDX", "I:COMP"])):
        asset = "indices" if name == "indices" else "stocks"
        doc = feed_doc(
            name, f"file://{root}", tickers=tickers, assetClass=asset, backfill={"from": "2024-01-02"}
        )
        assert run_ingest(tmp_path, doc, sandbox, today="2024-07-01").exit_code == 0
    dividends = feed_doc("dividends", f"file://{root}", dataset="dividends", tickers=["AAPL", "MSFT"], bars=None,
                         backfill={"from": "2024-01-02"})  # fmt: skip
    dividends["spec"].pop("bars")
    assert run_ingest(tmp_path, dividends, sandbox, today="2024-07-01").exit_code == 0
    return Lake(f"file://{root}")


def test_bronze_to_silver_is_idempotent_and_takes_late_corrections(spark: SparkSession, lake: Lake) -> None:
    root = Path(lake.uri.removeprefix("file://"))
    # The ingest runs can write two days' files within one millisecond, the precision Spark reads file times
    # at; both are then rightly at the watermark. Make the last file written the newest by a second, so the
    # watermark names exactly one file below.
    newest = root / "bronze/market/indices/aggregates/1day/date=2024-06-28/indices.parquet"
    latest = max(path.stat().st_mtime_ns for path in root.glob("bronze/*/*/*/*/*/*.parquet"))
    os.utime(newest, ns=(latest + 10**9, latest + 10**9))
    first = bronze_to_silver(spark, lake, bronze(lake))
    days = DAYS
    bronze_dividends = sum(pq.read_table(f).num_rows for f in
                           Path(lake.uri.removeprefix("file://")).glob("bronze/market/dividends/dividends/event/*/*.parquet"))  # fmt: skip
    assert bronze_dividends >= 4  # AAPL and MSFT pay quarterly
    assert first == {"bars": 5 * days, "quarantined": 0, "dividends": bronze_dividends}
    before = read_table(spark, lake, "silver", "bars").collect()
    again = bronze_to_silver(spark, lake, bronze(lake))  # incremental: files already read are not read again
    assert again["bars"] == 0
    assertDataFrameEqual(read_table(spark, lake, "silver", "bars"), before)  # and nothing changes
    # Nothing is left to read: the files' times say so, with no empty read for a Spark job to scan.
    assert read_bronze(spark, bronze(lake), BAR_DATASETS, silver_watermark(spark, lake, "bars")) is None

    # Another file written in the same instant as the newest file read (S3 keeps whole seconds): its time
    # equals the watermark, yet it is new, so it is read.
    mark = silver_watermark(spark, lake, "bars")
    assert mark is not None
    # Keys name the namespace and the feed: two feeds' files of one day never share a key.
    assert mark.files == {"market/indices/aggregates/1day/date=2024-06-28/indices.parquet"}
    assert mark.feeds == {"market/equities", "market/indices", "market/dividends"}
    same_second = root / "bronze/market/equities/aggregates/1day/date=2024-06-28/other.parquet"
    other = pq.read_table(root / "bronze/market/equities/aggregates/1day/date=2024-06-28/equities.parquet")
    other = other.set_column(other.schema.get_field_index("ticker"), "ticker", [["ZZZA", "ZZZB", "ZZZC"]])
    pq.write_table(other, same_second)
    at_mark = int(mark.time.timestamp()) * 10**9 + mark.time.microsecond * 1000
    os.utime(same_second, ns=(at_mark, at_mark))
    assert bronze_to_silver(spark, lake, bronze(lake))["bars"] == 3
    assert bronze_to_silver(spark, lake, bronze(lake))["bars"] == 0  # and then it is done
    assert read_table(spark, lake, "silver", "bars").count() == 5 * days + 3

    # A late correction: the day's file is rewritten (newer file time) with prices 1% higher.
    path = root / "bronze/market/equities/aggregates/1day/date=2024-06-28/equities.parquet"
    corrected = pq.read_table(path)
    for column in ("open", "high", "low", "close", "vwap"):
        values = [[v.as_py() * 1.01 for v in corrected.column(column)]]
        corrected = corrected.set_column(corrected.schema.get_field_index(column), column, values)
    buffer = io.BytesIO()
    pq.write_table(corrected, buffer)
    path.write_bytes(buffer.getvalue())
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 60))
    bronze_to_silver(spark, lake, bronze(lake))
    silver = read_table(spark, lake, "silver", "bars")
    assert silver.count() == 5 * days + 3
    closes = {
        r["ticker"]: r["close"] for r in silver.where("ts >= '2024-06-28' and ts < '2024-06-29'").collect()
    }
    assert closes["AAPL"] == pytest.approx(corrected.column("close")[0].as_py())


def correct_the_last_day_and_add_one(lake: Lake) -> pa.Table:
    """Rewrite the equities' bronze of 2024-06-28 with close and high 0.5% up (still valid bars) and add
    2024-07-01 with the same bars, both written a second after any file before; the corrected bars."""
    root = Path(lake.uri.removeprefix("file://"))
    day = root / "bronze/market/equities/aggregates/1day/date=2024-06-28/equities.parquet"
    bars = pq.read_table(day)
    corrected = bars
    for column in ("close", "high"):
        corrected = corrected.set_column(
            bars.schema.get_field_index(column), column, pc.multiply(bars[column], 1.005)
        )
    pq.write_table(corrected, day)
    next_day = root / "bronze/market/equities/aggregates/1day/date=2024-07-01/equities.parquet"
    next_day.parent.mkdir(parents=True)
    later = pc.add(bars["ts"], pa.scalar(datetime.timedelta(days=3), pa.duration("ms")))
    pq.write_table(bars.set_column(bars.schema.get_field_index("ts"), "ts", later), next_day)
    newest = max(path.stat().st_mtime_ns for path in root.glob("bronze/*/*/*/*/*/*.parquet")) + 10**9
    for path in (day, next_day):
        os.utime(path, ns=(newest, newest))
    return corrected


def test_a_new_day_and_a_corrected_one_merge_into_the_files_of_recent_days_only(
    spark: SparkSession, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """silver.bars is first written in files that each hold a range of bar times; a later run's MERGE skips
    every file outside the times it brings, so a new day and a correction of the last one rewrite the last
    file, not all history, and silver still ends with every row and the corrected close."""
    monkeypatch.setattr(silver_job, "ROWS_PER_FILE", 100)
    assert bronze_to_silver(spark, lake, bronze(lake, "equities", "indices"))["bars"] == 5 * DAYS
    table = read_table(spark, lake, "silver", "bars")
    spans = (
        table.groupBy(F.col("_metadata.file_path").alias("file"))
        .agg(F.min("ts").alias("first"), F.max("ts").alias("last"))
        .orderBy("first")
        .collect()
    )
    assert len(spans) == -(-5 * DAYS // 100)
    assert all(before["last"] < after["first"] for before, after in itertools.pairwise(spans))

    corrected = correct_the_last_day_and_add_one(lake)
    assert bronze_to_silver(spark, lake, bronze(lake, "equities", "indices"))["bars"] == 6
    (merge,) = [entry for entry in delta_table(spark, lake, "silver", "bars").history(2).collect()
                if entry["operation"] == "MERGE"]  # fmt: skip
    assert merge["operationMetrics"]["numTargetFilesRemoved"] == "1"
    assert merge["operationMetrics"]["numTargetRowsUpdated"] == "3"
    assert merge["operationMetrics"]["numTargetRowsInserted"] == "3"
    silver = read_table(spark, lake, "silver", "bars")
    assert silver.count() == 5 * DAYS + 3
    closes = {
        r["ticker"]: r["close"] for r in silver.where("ts >= '2024-06-28' and ts < '2024-06-29'").collect()
    }
    assert closes["AAPL"] == pytest.approx(corrected["close"][0].as_py())


def test_what_changed_since_gold_builds_is_found_from_recent_silver_rows_as_from_all(
    spark: SparkSession, lake: Lake
) -> None:
    """An incremental gold run reads only silver rows ingested since its builds or on their last day on:
    it finds the same newest ingestion, last day and first changed day per build as a read of all silver,
    and reads all of it when a build did not record its last day or silver no longer reaches it."""
    bronze_to_silver(spark, lake, bronze(lake))
    silver_to_gold(spark, lake, ["daily_returns"])
    built = built_from(spark, lake, "daily_returns")
    assert built is not None
    assert built.through == datetime.date(2024, 6, 28)
    correct_the_last_day_and_add_one(lake)
    assert bronze_to_silver(spark, lake, bronze(lake))["bars"] == 6
    daily = read_silver_inputs(spark, lake, None).daily
    earlier = BuiltFrom(
        built.watermark - datetime.timedelta(days=1), built.splits, datetime.date(2024, 3, 28)
    )
    unrecorded = BuiltFrom(built.watermark, built.splits)
    beyond = BuiltFrom(built.watermark, built.splits, datetime.date(2024, 12, 31))
    for builds, counted in (
        ([built], False),
        ([built, earlier], False),
        ([unrecorded], True),
        ([beyond], True),
    ):
        newest, last, firsts, rows = gold_job._bar_changes(daily, builds)
        assert (newest, last, firsts) == gold_job._newest_last_and_firsts(
            daily, "date", [build.watermark for build in builds]
        )[:3]
        assert last == datetime.date(2024, 7, 1)
        assert (rows == 5 * DAYS + 3) if counted else rows is None
    assert gold_job._bar_changes(daily, [built])[2] == [datetime.date(2024, 6, 28)]


def test_silver_to_gold_builds_every_table(
    spark: SparkSession, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    bronze_to_silver(spark, lake, bronze(lake))
    results = silver_to_gold(spark, lake, ["daily_returns", "volatility", "moving_averages", "drawdowns"])
    assert {name: (r.rows, r.mode) for name, r in results.items()} == dict.fromkeys(
        results, (5 * DAYS, "full")
    )
    assert silver_to_gold(spark, lake, ["yearly_performance"])["yearly_performance"].rows == 5
    aapl = read_table(spark, lake, "gold", "yearly_performance").where("ticker = 'AAPL'").first()
    assert aapl is not None
    assert aapl["dividend_yield"] > 0
    assert aapl["beta"] > 0
    # The lake holds 2024 to June 28 only, and its first day has no return: the year is partial.
    assert (aapl["first_day"], aapl["last_day"], aapl["is_partial"]) == (
        datetime.date(2024, 1, 2), datetime.date(2024, 6, 28), True,
    )  # fmt: skip
    vol = read_table(spark, lake, "gold", "volatility").where("ticker = 'AAPL'").orderBy("date").collect()
    assert vol[19]["volatility_20d"] is None
    assert 0 < vol[20]["volatility_20d"] < 2

    # Nothing new: every table is up to date from the silver tables' Delta versions alone, silver unread.
    tables = ["daily_returns", "volatility", "moving_averages", "drawdowns", "yearly_performance"]
    reads: list[str] = []
    read_silver = gold_job.read_silver_inputs

    def counted(*args: Any) -> SilverInputs:
        reads.append("silver")
        return read_silver(*args)

    monkeypatch.setattr(gold_job, "read_silver_inputs", counted)
    assert {r.mode for r in silver_to_gold(spark, lake, tables).values()} == {"up to date"}
    assert reads == []
    # A commit to silver bars that changes no row (a property set): silver is read, and nothing is rebuilt.
    spark.sql(f"ALTER TABLE delta.`{lake.table('silver', 'bars')}` SET TBLPROPERTIES ('anthill.note' = 'x')")
    assert {r.mode for r in silver_to_gold(spark, lake, tables).values()} == {"up to date"}
    assert reads == ["silver"]


def test_a_gold_table_built_by_an_earlier_definition_is_rebuilt_whole(
    spark: SparkSession, lake: Lake
) -> None:
    """yearly_performance as written before partial years were marked (no definition recorded, no
    is_partial), with silver unchanged since: skipped as up to date it would keep rows of the old definition,
    and rebuilt incrementally it would mix both (Delta would refuse the new columns). It is rebuilt whole."""
    bronze_to_silver(spark, lake, bronze(lake))
    silver_to_gold(spark, lake, ["yearly_performance"])
    built = built_from(spark, lake, "yearly_performance")
    assert built is not None
    columns = read_table(spark, lake, "gold", "yearly_performance").columns
    earlier = read_table(spark, lake, "gold", "yearly_performance").drop(
        "first_day", "last_day", "is_partial"
    )
    # What an earlier version recorded: what the table was built from, and no definition.
    write_table(spark.createDataFrame(earlier.collect(), earlier.schema), lake, "gold", "yearly_performance",
                metadata=built.metadata())  # fmt: skip

    result = silver_to_gold(spark, lake, ["yearly_performance"])["yearly_performance"]
    assert (result.mode, result.rows) == ("full", 5)
    assert read_table(spark, lake, "gold", "yearly_performance").columns == columns
    assert silver_to_gold(spark, lake, ["yearly_performance"])["yearly_performance"].mode == "up to date"


def test_bad_bars_go_to_quarantine(spark: SparkSession, lake: Lake) -> None:
    path = (
        Path(lake.uri.removeprefix("file://"))
        / "bronze/market/indices/aggregates/1day/date=2024-06-27/indices.parquet"
    )
    table = pq.read_table(path)
    broken = table.set_column(
        table.schema.get_field_index("high"), "high", [[0.5 for _ in range(table.num_rows)]]
    )
    pq.write_table(broken, path)
    counts = bronze_to_silver(spark, lake, bronze(lake))
    assert counts["quarantined"] == 2
    reasons = {r["reason"] for r in read_table(spark, lake, "silver", "quarantine").collect()}
    assert reasons == {"high < max(open, close)"}


def test_a_pipeline_reads_only_the_feeds_it_names(
    spark: SparkSession, tmp_path: Path, sandbox: SandboxServer
) -> None:
    """Two tenants share a lake, each with a feed named `equities`; a pipeline reads the bronze locations of
    its own feeds and nothing else. A feed it names later is read in full, though silver has a watermark."""
    root = tmp_path / "shared"
    lake = Lake(f"file://{root}")
    for namespace, feed, symbols in (("team-a", "equities", ["AAPL"]), ("team-b", "equities", ["MSFT"]),
                                     ("team-a", "more", ["NVDA"])):  # fmt: skip
        doc = feed_doc(feed, f"file://{root}", tickers=symbols, backfill={"from": "2024-06-03"})
        doc["metadata"]["namespace"] = namespace
        assert run_ingest(tmp_path, doc, sandbox, today="2024-07-01").exit_code == 0

    days = len(list(trading_days(datetime.date(2024, 6, 3), datetime.date(2024, 6, 28))))
    assert bronze_to_silver(spark, lake, bronze(lake, "equities", namespace="team-a")) == {
        "bars": days,
        "quarantined": 0,
    }
    tickers = read_table(spark, lake, "silver", "bars").select("ticker").distinct()
    assertDataFrameEqual(tickers, [Row(ticker="AAPL")])

    # The pipeline now names a second feed, written before silver's watermark: all of it is read.
    both = bronze(lake, "equities", "more", namespace="team-a")
    assert bronze_to_silver(spark, lake, both)["bars"] == days
    tickers = read_table(spark, lake, "silver", "bars").select("ticker").distinct()
    assertDataFrameEqual(tickers, [Row(ticker="AAPL"), Row(ticker="NVDA")])
    assert bronze_to_silver(spark, lake, both)["bars"] == 0  # and then it is done
