"""Bronze -> silver: read the bronze files not read yet, refine, MERGE by key, record how far bronze was read.

Silver is MERGEd, so re-running a bronze window or receiving a late correction updates rows in place.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

from anthill_spark.lake import (
    Lake,
    aggregate_values,
    delta_table,
    read_table,
    sql_name,
    table_exists,
    table_properties,
    write_table,
)
from anthill_spark.schemas import BAR_KEY, QUOTE_KEY, TRADE_KEY
from anthill_spark.transforms import silver


@dataclass(frozen=True)
class SilverTable:
    """A silver table refined from bronze datasets: typed, one row per key (the newest ingestion)."""

    name: str
    datasets: tuple[str, ...]
    keys: tuple[str, ...]
    refine: Callable[[DataFrame], DataFrame]


SILVER_TABLES = (
    SilverTable("dividends", ("dividends",), ("id",), silver.with_silver_dividends),
    SilverTable("splits", ("splits",), ("id",), silver.with_silver_splits),
    SilverTable(
        "market_holidays", ("marketHolidays",), ("date", "exchange"), silver.with_silver_market_holidays
    ),
    SilverTable("trades", ("trades",), tuple(TRADE_KEY), silver.with_silver_trades),
    SilverTable("quotes", ("quotes",), tuple(QUOTE_KEY), silver.with_silver_quotes),
    SilverTable("news", ("news",), ("id", "ticker"), silver.with_silver_news),
    SilverTable(
        "minute_aggregates", ("minuteAggregates",), ("ticker", "start"), silver.with_silver_minute_aggregates
    ),
)
BAR_DATASETS = ("aggregates", "groupedDaily")


@dataclass(frozen=True)
class BronzeMark:
    """How far silver has read the bronze of ``feeds``: every file written before ``time``, and ``files``,
    the ones written at exactly ``time`` (another file may yet appear with that same time: S3 keeps whole
    seconds). A feed not in ``feeds`` (one the pipeline names since its last run) is read in full."""

    time: datetime.datetime
    files: frozenset[str] = frozenset()
    feeds: frozenset[str] = frozenset()


# A bronze file's key: its last six path segments, <namespace>/<feed>/<dataset>/<size>/date=D/<file>. The same
# whether the lake is reached as s3:// or s3a://, or moved, and never the same for two feeds.
BRONZE_KEY = r"([^/]+/[^/]+/[^/]+/[^/]+/[^/]+/[^/]+)$"


def feed_of(source: str) -> str:
    """``<namespace>/<feed>`` of a bronze location ``<destination>/bronze/<namespace>/<feed>``."""
    return "/".join(source.rstrip("/").split("/")[-2:])


def read_bronze(
    spark: SparkSession, sources: Sequence[str], datasets: Sequence[str], since: BronzeMark | None = None
) -> DataFrame | None:
    """Bronze rows of ``datasets`` under the feeds' bronze locations ``sources``
    (``<destination>/bronze/<namespace>/<feed>``) from files not yet read as of ``since`` (all when None),
    with the time their file was written as ``ingested_at`` and its key as ``bronze_file``; None when there
    are no such files. Nothing outside ``sources`` is read."""
    frames = []
    for source in sources:
        feed_since = since if since is not None and feed_of(source) in since.feeds else None
        present = bronze_datasets(spark, source)
        for dataset in datasets:
            if present is not None and dataset not in present:
                continue  # the feed has not written this dataset (yet)
            df = _read_files(spark, f"{source.rstrip('/')}/{dataset}", feed_since)
            if df is None:
                continue
            df = df.withColumns({
                "ingested_at": F.col("_metadata.file_modification_time"),
                "bronze_file": F.regexp_extract("_metadata.file_path", BRONZE_KEY, 1),
            })  # fmt: skip
            if feed_since is not None:
                at_mark = F.col("ingested_at") == F.lit(feed_since.time)
                done = (
                    F.col("bronze_file").isin(*sorted(feed_since.files)) if feed_since.files else F.lit(False)
                )
                df = df.where((F.col("ingested_at") > F.lit(feed_since.time)) | (at_mark & ~done))
            frames.append(df)
    if not frames:
        return None
    return functools.reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def _read_files(spark: SparkSession, path: str, since: BronzeMark | None) -> DataFrame | None:
    """The Parquet files under ``path`` (a coarse cut at ``since``), or None when there are none."""
    spark.catalog.refreshByPath(path)  # a long-lived session must see files rewritten since its last read
    reader = spark.read.option("recursiveFileLookup", "true").option("timeZone", "UTC")
    if since is not None:
        # A coarse listing-time filter (whole seconds, strictly after), then the exact one in read_bronze.
        coarse = since.time.astimezone(datetime.UTC) - datetime.timedelta(seconds=1)
        reader = reader.option("modifiedAfter", coarse.strftime("%Y-%m-%dT%H:%M:%S"))
    try:
        df = reader.parquet(path)
    except Exception as exc:
        if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in str(exc) or "UNABLE_TO_INFER" in str(exc):
            return None  # the feed has not written this dataset (yet), or nothing since the coarse cut
        raise
    if since is not None and not _any_unread(spark, df.inputFiles(), since):
        return None
    return df


# More files than this left after the coarse cut are read without looking at each one's time.
UNREAD_CHECK_LIMIT = 256


def _any_unread(spark: SparkSession, files: Sequence[str], since: BronzeMark) -> bool:
    """Whether any of ``files`` (those left after the coarse cut at ``since``) is unread: written after its
    time, or at it and not among its files. In a steady state the cut leaves only the files of the mark's
    own second, all read already: knowing that from their times spares a Spark job over them."""
    if len(files) > UNREAD_CHECK_LIMIT:
        return True
    mark = epoch_millis(since.time)
    written = listed_millis(spark, files)
    for file in files:
        key = re.search(BRONZE_KEY, file)
        at = written.get(file)
        if at is None or at > mark or (at == mark and (key is None or key[1] not in since.files)):
            return True
    return False


def epoch_millis(moment: datetime.datetime) -> int:
    """``moment`` in whole milliseconds since the epoch, the precision Spark reads file times at."""
    return (utc(moment) - EPOCH) // datetime.timedelta(milliseconds=1)


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _hadoop(spark: SparkSession, path: str) -> tuple[Any, Any] | None:
    """Hadoop's FileSystem and Path for ``path`` through the session's JVM; None for a session without one
    (Spark Connect), where callers fall back to reading."""
    jvm = getattr(spark, "_jvm", None)
    context = getattr(spark, "_jsc", None)
    if jvm is None or context is None:
        return None
    where = jvm.org.apache.hadoop.fs.Path(path)
    return where.getFileSystem(context.hadoopConfiguration()), where


def listed_millis(spark: SparkSession, files: Sequence[str]) -> dict[str, int]:
    """When each of ``files`` was last written, as a listing of its folder says: the time Spark's own
    listing gives ``_metadata.file_modification_time`` (an object store's HEAD can say it otherwise, in
    whole seconds). A file missing from the answer is one whose time is unknown."""
    folders: dict[str, set[str]] = {}
    for file in files:
        folder, _, name = file.rpartition("/")
        folders.setdefault(folder, set()).add(name)
    written: dict[str, int] = {}
    for folder, names in folders.items():
        handle = _hadoop(spark, folder)
        if handle is None:
            return {}
        filesystem, where = handle
        statuses = filesystem.listStatus(where)
        if len(statuses) > 4 * UNREAD_CHECK_LIMIT:
            return {}  # a crowded folder: cheaper to read than to look through
        for status in statuses:
            name = status.getPath().getName()
            if name in names:
                written[f"{folder}/{name}"] = int(status.getModificationTime())
    return written


def bronze_datasets(spark: SparkSession, source: str) -> set[str] | None:
    """The datasets a feed's bronze location holds (none when it does not exist): one listing, where a read
    of each dataset the job knows would cost a Spark analysis apiece. None when it cannot be listed."""
    handle = _hadoop(spark, source)
    if handle is None:
        return None
    filesystem, where = handle
    if not filesystem.exists(where):
        return set()
    return {status.getPath().getName() for status in filesystem.listStatus(where) if status.isDirectory()}


# silver.bars is first written in files of about this many rows, each holding one range of bar times.
ROWS_PER_FILE = 500_000


@dataclass(frozen=True)
class TimeRange:
    """The rows of ``df`` span ``column`` from ``first`` to ``last`` (microseconds since the epoch); ``rows``
    of them."""

    column: str
    first: int
    last: int
    rows: int


def merge_by_key(
    spark: SparkSession,
    lake: Lake,
    name: str,
    df: DataFrame,
    keys: Sequence[str],
    within: TimeRange | None = None,
) -> None:
    """Upsert ``df`` into silver ``name`` by ``keys``; a row is replaced only by a newer ingestion.

    With ``within`` (a key column and the times ``df`` spans), a new table is written in files that each
    hold one range of those times, and the MERGE names the range as literals: Delta skips every file
    outside it by its column statistics, so a run that brings the last days rewrites the files of the last
    days, not the whole history.
    """
    if not table_exists(spark, lake, "silver", name):
        if within is not None:
            files = max(1, math.ceil(within.rows / ROWS_PER_FILE))
            df = df.repartitionByRange(files, within.column).sortWithinPartitions(within.column, *keys)
        write_table(df, lake, "silver", name)
        return
    condition = " AND ".join(f"t.{key} = s.{key}" for key in keys)
    if within is not None:
        column = within.column
        condition += (
            f" AND t.{column} >= {_timestamp_literal(within.first)}"
            f" AND t.{column} <= {_timestamp_literal(within.last)}"
        )
    (
        delta_table(spark, lake, "silver", name).alias("t")
        .merge(df.alias("s"), condition)
        .whenMatchedUpdateAll(condition="s.ingested_at > t.ingested_at")
        .whenNotMatchedInsertAll()
        .execute()
    )  # fmt: skip


def _timestamp_literal(micros: int) -> str:
    """A SQL timestamp literal for ``micros`` since the epoch, in UTC whatever the session's time zone."""
    moment = EPOCH + datetime.timedelta(microseconds=micros)
    return f"TIMESTAMP '{moment.strftime('%Y-%m-%d %H:%M:%S.%f')}Z'"


BRONZE_WATERMARK = "anthill.bronzeWatermark"
BRONZE_WATERMARK_FILES = "anthill.bronzeWatermarkFiles"
BRONZE_WATERMARK_FEEDS = "anthill.bronzeWatermarkFeeds"


def silver_watermark(spark: SparkSession, lake: Lake, name: str) -> BronzeMark | None:
    """How far silver ``name`` has read bronze (table properties; for a table without them, its newest
    ``ingested_at``, with the files of that time read again)."""
    if not table_exists(spark, lake, "silver", name):
        return None
    properties = table_properties(spark, lake, "silver", name)
    raw = properties.get(BRONZE_WATERMARK)
    if raw:
        files = json.loads(properties.get(BRONZE_WATERMARK_FILES) or "[]")
        feeds = json.loads(properties.get(BRONZE_WATERMARK_FEEDS) or "[]")
        return BronzeMark(datetime.datetime.fromisoformat(raw), frozenset(files), frozenset(feeds))
    (newest,) = aggregate_values(read_table(spark, lake, "silver", name), F.max("ingested_at"))
    return None if newest is None else BronzeMark(cast("datetime.datetime", newest))


def bronze_mark(
    bronze_df: DataFrame, newest: datetime.datetime | None, sources: Sequence[str]
) -> BronzeMark | None:
    """The mark after reading ``bronze_df`` from ``sources``, whose newest ``ingested_at`` is ``newest``:
    that time, the files written at it (a job reading only those files) and the feeds read."""
    if newest is None:
        return None
    at_newest = bronze_df.where(F.col("ingested_at") == F.lit(newest)).select("bronze_file").distinct()
    files = frozenset(row["bronze_file"] for row in at_newest.collect())
    return BronzeMark(newest, files, frozenset(feed_of(source) for source in sources))


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _record_watermark(
    spark: SparkSession, lake: Lake, name: str, mark: BronzeMark | None, since: BronzeMark | None
) -> None:
    """After the data is in: remember how far bronze was read (a crash before this only means those files
    are read again, and MERGE makes that a no-op). A mark equal to ``since``, the one the run started
    from, costs no commit."""
    if mark is None:
        return
    time, files = mark.time, mark.files
    if since is not None and utc(since.time) > utc(mark.time):
        # Only a feed read in full had files, all older than the mark: the others' mark stands.
        time, files = since.time, since.files
    elif since is not None and utc(since.time) == utc(mark.time):
        if since.files >= mark.files and since.feeds == mark.feeds:
            return
        files |= since.files  # more files of the same second: all of them are done
    properties = {
        BRONZE_WATERMARK: utc(time).isoformat(),
        BRONZE_WATERMARK_FILES: json.dumps(sorted(files)),
        BRONZE_WATERMARK_FEEDS: json.dumps(sorted(mark.feeds)),
    }
    assignments = ", ".join(f"{_sql_string(k)} = {_sql_string(v)}" for k, v in properties.items())
    spark.sql(f"ALTER TABLE {sql_name(lake, 'silver', name)} SET TBLPROPERTIES ({assignments})")


def utc(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in UTC. PySpark returns timestamps as naive datetimes in the machine's local time zone,
    which ``astimezone`` reads as exactly that."""
    return moment.astimezone(datetime.UTC)


def bronze_to_silver(
    spark: SparkSession, lake: Lake, sources: Sequence[str], full: bool = False
) -> dict[str, int]:
    """Bronze of the feeds at ``sources`` -> silver.bars (MERGE) and silver.quarantine, then dividends, splits,
    market holidays, trades and quotes.

    ``sources`` are the feeds' bronze locations (``<destination>/bronze/<namespace>/<feed>``), exactly the
    feeds the pipeline names; nothing else in the lake is read.
    Only bronze files each silver table has not read yet are read: written after its watermark, or at it
    but not among the files recorded with it (equal times are not trusted to be the same file); ``full``
    reads every file. MERGE keeps the newest ingestion per key either way, so any sequence of runs ends
    where one full run does. Returns the rows read per table.
    """
    if not sources:
        raise ValueError("no bronze to read: name the bronze location of each feed the pipeline reads")
    counts: dict[str, int] = {}
    since = None if full else silver_watermark(spark, lake, "bars")
    bars = read_bronze(spark, sources, BAR_DATASETS, since)
    if bars is not None:
        checked_df = bars.transform(silver.with_silver_columns).transform(silver.with_reason).cache()
        valid_df = silver.latest_valid_bars(checked_df)
        # Keyed by ingestion too: each rejected version of a bar is kept once.
        rejected_df = silver.quarantined_bars(checked_df).dropDuplicates([*BAR_KEY, "ingested_at"])
        # One pass for what the two counts and the watermark need: distinct keys, as the writes keep.
        valid = F.col("reason").isNull()
        valid_micros = F.when(valid, F.unix_micros("ts"))
        counts["bars"], counts["quarantined"], newest, first, last = aggregate_values(
            checked_df,
            F.count_distinct(F.when(valid, F.struct(*BAR_KEY))),
            F.count_distinct(F.when(~valid, F.struct(*BAR_KEY, "ingested_at"))),
            F.max("ingested_at"),
            F.min(valid_micros),
            F.max(valid_micros),
        )
        within = None if first is None else TimeRange("ts", first, last, counts["bars"])
        if counts["bars"] or not table_exists(spark, lake, "silver", "bars"):
            merge_by_key(spark, lake, "bars", valid_df, BAR_KEY, within)
        if counts["quarantined"]:
            merge_by_key(spark, lake, "quarantine", rejected_df, [*BAR_KEY, "ingested_at"])
        _record_watermark(spark, lake, "bars", bronze_mark(bars, newest, sources), since)
        checked_df.unpersist()
    else:
        counts["bars"] = counts["quarantined"] = 0
    for table in SILVER_TABLES:
        table_since = None if full else silver_watermark(spark, lake, table.name)
        bronze = read_bronze(spark, sources, table.datasets, table_since)
        if bronze is None:
            continue
        refined = bronze.transform(table.refine).cache()
        counts[table.name], newest = aggregate_values(refined, F.count(F.lit(1)), F.max("ingested_at"))
        if counts[table.name]:
            merge_by_key(spark, lake, table.name, refined, table.keys)
            _record_watermark(spark, lake, table.name, bronze_mark(bronze, newest, sources), table_since)
        refined.unpersist()
    if bars is None and since is None and not any(counts.values()) and not _any_silver(spark, lake):
        raise FileNotFoundError(f"no bronze under {', '.join(sources)}")
    return counts


def _any_silver(spark: SparkSession, lake: Lake) -> bool:
    return any(table_exists(spark, lake, "silver", t.name) for t in SILVER_TABLES)
