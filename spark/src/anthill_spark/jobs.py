"""The medallion jobs: read -> transform chain -> write. Entry points for Databricks and the local runner.

Locally, tables are path-based Delta tables under the lake (``<lake>/silver/bars``); with a catalog they are
Unity Catalog names (``<catalog>.<silver schema>.bars``). Silver is MERGEd, so re-running a bronze window or
receiving a late correction updates rows in place; gold is rebuilt from silver.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import logging
import re
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, cast

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

from anthill_spark.schemas import BAR_KEY
from anthill_spark.transforms import gold, silver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SilverInputs:
    """What gold is built from: split-adjusted daily bars with their trading date, and dividends if any."""

    daily: DataFrame
    dividends: DataFrame | None


@dataclass(frozen=True)
class GoldTable:
    """How to build one gold table, and how much history before the first changed day a rebuilt row needs.

    ``lookback`` counts trading days (rows per ticker); ``None`` means all of it (running peaks).
    Tables keyed by ``year`` are rebuilt from the start of the changed day's year. ``running`` computes,
    from all history, the columns that need it (keyed by ticker and date); a rebuild takes those from it
    and the rest from ``build`` over the lookback alone.
    """

    build: Callable[[SilverInputs], DataFrame]
    lookback: int | None
    by_year: bool = False
    uses_dividends: bool = False
    running: Callable[[DataFrame], DataFrame] | None = None

    def appends(self, since: datetime.date, through: datetime.date | None) -> bool:
        """Whether rows rebuilt from ``since`` are all new to a table built through ``through`` (its last
        day), so they can be appended instead of replacing rows in place."""
        if through is None:
            return False
        return since.year > through.year if self.by_year else since > through


GOLD_TABLES: dict[str, GoldTable] = {
    "daily_returns": GoldTable(lambda s: s.daily.transform(gold.with_daily_returns), 1),
    "volatility": GoldTable(
        lambda s: s.daily.transform(gold.with_daily_returns).transform(gold.with_volatility),
        max(gold.VOLATILITY_WINDOWS),
    ),
    "moving_averages": GoldTable(
        lambda s: s.daily.transform(gold.with_moving_averages),
        max(gold.SMA_WINDOWS) - 1,
        running=gold.with_exponential_moving_averages,
    ),
    "drawdowns": GoldTable(lambda s: s.daily.transform(gold.with_drawdowns), None),
    "anomalies": GoldTable(lambda s: s.daily.transform(gold.with_anomalies), gold.ANOMALY_WINDOW + 1),
    "market_breadth": GoldTable(lambda s: s.daily.transform(gold.with_market_breadth), gold.BREADTH_WINDOW),
    "yearly_performance": GoldTable(
        lambda s: gold.with_yearly_performance(s.daily, s.dividends), 1, by_year=True, uses_dividends=True
    ),
}


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
)
BAR_DATASETS = ("aggregates", "groupedDaily")


@dataclass(frozen=True)
class Lake:
    """Where tables live: paths under ``uri``, or Unity Catalog names when ``catalog`` is set."""

    uri: str
    catalog: str | None = None
    silver_schema: str = "silver"
    gold_schema: str = "gold"

    def table(self, layer: str, name: str) -> str:
        if self.catalog:
            schema = self.silver_schema if layer == "silver" else self.gold_schema
            return f"{self.catalog}.{schema}.{name}"
        return f"{self.uri.rstrip('/')}/{layer}/{name}"

    @property
    def bronze(self) -> str:
        return f"{self.uri.rstrip('/')}/bronze"


@dataclass
class GoldResult:
    """What one gold build did: rows written, and the first date rebuilt (None: the whole table)."""

    rows: int
    since: datetime.date | None
    skipped: bool = False

    @property
    def mode(self) -> str:
        if self.skipped:
            return "up to date"
        return "full" if self.since is None else f"incremental from {self.since}"


def _aggregates(df: DataFrame, *aggregates: Column) -> tuple[Any, ...]:
    """The values of ``df.agg(*aggregates)``: one job, one row."""
    row = df.agg(*aggregates).first()
    return tuple(row) if row is not None else (None,) * len(aggregates)


def read_table(spark: SparkSession, lake: Lake, layer: str, name: str) -> DataFrame:
    where = lake.table(layer, name)
    return spark.read.table(where) if lake.catalog else spark.read.format("delta").load(where)


def table_exists(spark: SparkSession, lake: Lake, layer: str, name: str) -> bool:
    where = lake.table(layer, name)
    return spark.catalog.tableExists(where) if lake.catalog else DeltaTable.isDeltaTable(spark, where)


def _delta(spark: SparkSession, lake: Lake, layer: str, name: str) -> DeltaTable:
    where = lake.table(layer, name)
    return DeltaTable.forName(spark, where) if lake.catalog else DeltaTable.forPath(spark, where)


def write_table(
    df: DataFrame,
    lake: Lake,
    layer: str,
    name: str,
    replace_where: str | None = None,
    metadata: dict[str, str] | None = None,
    append: bool = False,
) -> None:
    """Overwrite the table, or only the rows matching ``replace_where`` (Delta refuses rows outside it), or
    with ``append`` add the rows to it."""
    if append:
        writer = df.write.format("delta").mode("append")
    elif replace_where:
        writer = df.write.format("delta").mode("overwrite").option("replaceWhere", replace_where)
    else:
        writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if metadata:
        writer = writer.option("userMetadata", json.dumps(metadata, sort_keys=True))
    where = lake.table(layer, name)
    writer.saveAsTable(where) if lake.catalog else writer.save(where)


@dataclass(frozen=True)
class BronzeMark:
    """How far silver has read bronze: every file written before ``time``, and ``files``, the ones written
    at exactly ``time`` (another file may yet appear with that same time: S3 keeps whole seconds)."""

    time: datetime.datetime
    files: frozenset[str] = frozenset()


def read_bronze(
    spark: SparkSession, lake: Lake, datasets: Sequence[str], since: BronzeMark | None = None
) -> DataFrame | None:
    """Bronze rows of ``datasets`` from files not yet read as of ``since`` (all when None), with the time
    their file was written as ``ingested_at`` and its key under bronze as ``bronze_file``; None when there
    are no such files."""
    frames = []
    for dataset in datasets:
        path = f"{lake.bronze}/{dataset}"
        spark.catalog.refreshByPath(path)  # a long-lived session must see files rewritten since its last read
        reader = spark.read.option("recursiveFileLookup", "true").option("timeZone", "UTC")
        if since is not None:
            # A coarse listing-time filter (whole seconds, strictly after), then the exact one below.
            coarse = since.time.astimezone(datetime.UTC) - datetime.timedelta(seconds=1)
            reader = reader.option("modifiedAfter", coarse.strftime("%Y-%m-%dT%H:%M:%S"))
        try:
            df = reader.parquet(path)
        except Exception as exc:
            if (
                "PATH_NOT_FOUND" in str(exc)
                or "Path does not exist" in str(exc)
                or "UNABLE_TO_INFER" in str(exc)
            ):
                continue
            raise
        # The file's key under bronze (the same whether the lake is reached as s3:// or s3a://, or moved).
        key = F.regexp_extract("_metadata.file_path", rf".*/bronze/({re.escape(dataset)}/.*)$", 1)
        df = df.withColumns({"ingested_at": F.col("_metadata.file_modification_time"), "bronze_file": key})
        if since is not None:
            at_mark = F.col("ingested_at") == F.lit(since.time)
            done = F.col("bronze_file").isin(*sorted(since.files)) if since.files else F.lit(False)
            df = df.where((F.col("ingested_at") > F.lit(since.time)) | (at_mark & ~done))
        frames.append(df)
    if not frames:
        return None
    return functools.reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def merge_by_key(spark: SparkSession, lake: Lake, name: str, df: DataFrame, keys: Sequence[str]) -> None:
    """Upsert ``df`` into silver ``name`` by ``keys``; a row is replaced only by a newer ingestion."""
    if not table_exists(spark, lake, "silver", name):
        write_table(df, lake, "silver", name)
        return
    condition = " AND ".join(f"t.{key} = s.{key}" for key in keys)
    (
        _delta(spark, lake, "silver", name).alias("t")
        .merge(df.alias("s"), condition)
        .whenMatchedUpdateAll(condition="s.ingested_at > t.ingested_at")
        .whenNotMatchedInsertAll()
        .execute()
    )  # fmt: skip


BRONZE_WATERMARK = "anthill.bronzeWatermark"
BRONZE_WATERMARK_FILES = "anthill.bronzeWatermarkFiles"


def _sql_name(lake: Lake, layer: str, name: str) -> str:
    return lake.table(layer, name) if lake.catalog else f"delta.`{lake.table(layer, name)}`"


def table_properties(spark: SparkSession, lake: Lake, layer: str, name: str) -> dict[str, str]:
    """The table's properties, from its metadata alone (no Spark job, unlike ``DeltaTable.detail``)."""
    rows = spark.sql(f"SHOW TBLPROPERTIES {_sql_name(lake, layer, name)}").collect()
    return {row["key"]: row["value"] for row in rows}


def silver_watermark(spark: SparkSession, lake: Lake, name: str) -> BronzeMark | None:
    """How far silver ``name`` has read bronze (table properties; for a table without them, its newest
    ``ingested_at``, with the files of that time read again)."""
    if not table_exists(spark, lake, "silver", name):
        return None
    properties = table_properties(spark, lake, "silver", name)
    raw = properties.get(BRONZE_WATERMARK)
    if raw:
        files = json.loads(properties.get(BRONZE_WATERMARK_FILES) or "[]")
        return BronzeMark(datetime.datetime.fromisoformat(raw), frozenset(files))
    (newest,) = _aggregates(read_table(spark, lake, "silver", name), F.max("ingested_at"))
    return None if newest is None else BronzeMark(cast("datetime.datetime", newest))


def bronze_mark(bronze_df: DataFrame, newest: datetime.datetime | None) -> BronzeMark | None:
    """The mark after reading ``bronze_df``, whose newest ``ingested_at`` is ``newest``: that time and
    the files written at it (a job reading only those files)."""
    if newest is None:
        return None
    at_newest = bronze_df.where(F.col("ingested_at") == F.lit(newest)).select("bronze_file").distinct()
    return BronzeMark(newest, frozenset(row["bronze_file"] for row in at_newest.collect()))


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
    files = mark.files
    if since is not None and utc(since.time) == utc(mark.time):
        if since.files >= mark.files:
            return
        files |= since.files  # more files of the same second: all of them are done
    properties = {
        BRONZE_WATERMARK: utc(mark.time).isoformat(),
        BRONZE_WATERMARK_FILES: json.dumps(sorted(files)),
    }
    assignments = ", ".join(f"{_sql_string(k)} = {_sql_string(v)}" for k, v in properties.items())
    spark.sql(f"ALTER TABLE {_sql_name(lake, 'silver', name)} SET TBLPROPERTIES ({assignments})")


def utc(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in UTC. PySpark returns timestamps as naive datetimes in the machine's local time zone,
    which ``astimezone`` reads as exactly that."""
    return moment.astimezone(datetime.UTC)


def bronze_to_silver(spark: SparkSession, lake: Lake, full: bool = False) -> dict[str, int]:
    """Bronze -> silver.bars (MERGE) and silver.quarantine, then dividends, splits and market holidays.

    Only bronze files each silver table has not read yet are read: written after its watermark, or at it
    but not among the files recorded with it (equal times are not trusted to be the same file); ``full``
    reads every file. MERGE keeps the newest ingestion per key either way, so any sequence of runs ends
    where one full run does. Returns the rows read per table.
    """
    counts: dict[str, int] = {}
    since = None if full else silver_watermark(spark, lake, "bars")
    bars = read_bronze(spark, lake, BAR_DATASETS, since)
    if bars is None and since is None:
        raise FileNotFoundError(f"no bronze bars under {lake.bronze}")
    if bars is not None:
        checked_df = bars.transform(silver.with_silver_columns).transform(silver.with_reason).cache()
        valid_df = silver.latest_valid_bars(checked_df)
        # Keyed by ingestion too: each rejected version of a bar is kept once.
        rejected_df = silver.quarantined_bars(checked_df).dropDuplicates([*BAR_KEY, "ingested_at"])
        # One pass for what the two counts and the watermark need: distinct keys, as the writes keep.
        valid = F.col("reason").isNull()
        counts["bars"], counts["quarantined"], newest = _aggregates(
            checked_df,
            F.count_distinct(F.when(valid, F.struct(*BAR_KEY))),
            F.count_distinct(F.when(~valid, F.struct(*BAR_KEY, "ingested_at"))),
            F.max("ingested_at"),
        )
        if counts["bars"] or not table_exists(spark, lake, "silver", "bars"):
            merge_by_key(spark, lake, "bars", valid_df, BAR_KEY)
        if counts["quarantined"]:
            merge_by_key(spark, lake, "quarantine", rejected_df, [*BAR_KEY, "ingested_at"])
        _record_watermark(spark, lake, "bars", bronze_mark(bars, newest), since)
        checked_df.unpersist()
    else:
        counts["bars"] = counts["quarantined"] = 0
    for table in SILVER_TABLES:
        table_since = None if full else silver_watermark(spark, lake, table.name)
        bronze = read_bronze(spark, lake, table.datasets, table_since)
        if bronze is None:
            continue
        refined = bronze.transform(table.refine).cache()
        counts[table.name], newest = _aggregates(refined, F.count(F.lit(1)), F.max("ingested_at"))
        if counts[table.name]:
            merge_by_key(spark, lake, table.name, refined, table.keys)
            _record_watermark(spark, lake, table.name, bronze_mark(bronze, newest), table_since)
        refined.unpersist()
    return counts


WATERMARK = "anthill.silverWatermark"
SPLITS_FINGERPRINT = "anthill.splitsFingerprint"
THROUGH = "anthill.through"


@dataclass(frozen=True)
class BuiltFrom:
    """What a gold table was last built from: silver up to ``watermark``, splits as they were then, and
    daily bars through ``through`` (the last day it holds; None when not recorded)."""

    watermark: datetime.datetime
    splits: str
    through: datetime.date | None = None

    def metadata(self) -> dict[str, str]:
        recorded = {WATERMARK: self.watermark.isoformat(), SPLITS_FINGERPRINT: self.splits}
        return recorded | ({THROUGH: self.through.isoformat()} if self.through else {})


def built_from(spark: SparkSession, lake: Lake, name: str) -> BuiltFrom | None:
    """What the gold table was last built from, read from its last commit (None: unknown)."""
    if not table_exists(spark, lake, "gold", name):
        return None
    last = _delta(spark, lake, "gold", name).history(1).select("userMetadata").first()
    if last is None or not last["userMetadata"]:
        return None  # written by something else (OPTIMIZE, a person): rebuild rather than guess
    try:
        recorded = json.loads(last["userMetadata"])
        through = recorded.get(THROUGH)
        return BuiltFrom(
            datetime.datetime.fromisoformat(recorded[WATERMARK]),
            recorded[SPLITS_FINGERPRINT],
            datetime.date.fromisoformat(through) if through else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def splits_state(splits_df: DataFrame | None) -> tuple[datetime.datetime | None, str]:
    """The newest ingestion in silver.splits, and a digest of every split's values (a re-fetch of the same
    splits leaves the digest as it was); (None, "") without splits. One pass over the table."""
    if splits_df is None:
        return None, ""
    columns = ("id", "ticker", "execution_date", "split_from", "split_to")
    split = F.concat_ws(",", *(F.col(c).cast("string") for c in columns))
    digest = F.sha2(F.concat_ws("|", F.sort_array(F.collect_list(split))), 256)
    newest, value = _aggregates(splits_df, F.max("ingested_at"), digest)
    return newest, value or ""


def read_silver_inputs(spark: SparkSession, lake: Lake, splits_df: DataFrame | None) -> SilverInputs:
    """Daily silver bars with trading dates, restated for ``splits_df`` (silver.splits, if any) where
    unadjusted, and dividends."""
    daily_df = read_table(spark, lake, "silver", "bars").transform(gold.with_trading_date)
    if splits_df is not None:
        daily_df = gold.with_split_adjustment(daily_df, splits_df)
    has_dividends = table_exists(spark, lake, "silver", "dividends")
    return SilverInputs(daily_df, read_table(spark, lake, "silver", "dividends") if has_dividends else None)


@dataclass(frozen=True)
class Changes:
    """What silver changed since a gold build: the first day with a changed bar, the first ex-date with a
    changed dividend (only dividend-based tables care), and whether the splits differ."""

    bars: datetime.date | None
    dividends: datetime.date | None
    splits: bool

    def since(self, table: GoldTable) -> datetime.date | None:
        days = [self.bars, self.dividends if table.uses_dividends else None]
        known = [day for day in days if day is not None]
        return min(known) if known else None


def _newest_last_and_firsts(
    df: DataFrame, day: str, watermarks: Sequence[datetime.datetime]
) -> tuple[datetime.datetime | None, datetime.date | None, list[datetime.date | None]]:
    """``df``'s newest ``ingested_at`` and last ``day``, and per watermark the first ``day`` among rows
    ingested strictly after it: one pass however many builds are compared."""
    firsts = [F.min(F.when(F.col("ingested_at") > F.lit(mark), F.col(day))) for mark in watermarks]
    newest, last, *first = _aggregates(df, F.max("ingested_at"), F.max(day), *firsts)
    return newest, last, first


@dataclass(frozen=True)
class SilverState:
    """Silver as gold reads it: its newest ingestion and last trading day, and per earlier gold build
    what changed since."""

    newest: datetime.datetime | None
    through: datetime.date | None
    changes: dict[BuiltFrom, Changes]


def changes_since(inputs: SilverInputs, builds: Collection[BuiltFrom], splits: str) -> SilverState:
    """Silver's newest ingestion and last day, and per earlier build what changed since: rows ingested
    strictly after its watermark (the build read a silver snapshot that held every row ingested up to that
    instant; two bronze files sharing one modification time across silver runs is the one case this
    misses, and ``--full-refresh`` settles it)."""
    ordered = list(builds)
    marks = [build.watermark for build in ordered]
    newest, through, bars = _newest_last_and_firsts(inputs.daily, "date", marks)
    dividends: list[datetime.date | None] = [None] * len(ordered)
    if inputs.dividends is not None:
        newest_dividend, _, dividends = _newest_last_and_firsts(inputs.dividends, "ex_dividend_date", marks)
        newest = max((t for t in (newest, newest_dividend) if t is not None), default=None)
    changes = {
        build: Changes(first_bar, first_dividend, splits != build.splits)
        for build, first_bar, first_dividend in zip(ordered, bars, dividends, strict=True)
    }
    return SilverState(newest, through, changes)


def with_lookback(daily_df: DataFrame, since: datetime.date, lookback: int | None) -> DataFrame:
    """Each ticker's rows from ``since`` on, plus the ``lookback`` trading days before it (all when None)."""
    if lookback is None:
        return daily_df
    newest_first = Window.partitionBy("ticker").orderBy(F.col("date").desc())
    before = daily_df.where(F.col("date") < F.lit(since))
    kept = before.withColumn("_back", F.row_number().over(newest_first)).where(F.col("_back") <= lookback)
    return daily_df.where(F.col("date") >= F.lit(since)).unionByName(kept.drop("_back"))


GOLD_PARALLELISM = 4


def silver_to_gold(
    spark: SparkSession,
    lake: Lake,
    tables: Sequence[str],
    full: bool = False,
    on_table: Callable[[str, GoldResult], None] | None = None,
    parallelism: int = GOLD_PARALLELISM,
) -> dict[str, GoldResult]:
    """Build the requested gold tables from silver, each from the first day silver changed since its last
    build (with the history its windows need), or whole when ``full``, when it has no watermark, or when
    a split arrived. Any sequence of runs ends where one full build does.

    Silver is read once (and cached) for every table; up to ``parallelism`` tables are written at a time
    (separate tables, separate Delta commits), so one table's planning and commit overlap another's jobs.
    ``on_table`` is called as each table finishes.
    """
    unknown = sorted(set(tables) - set(GOLD_TABLES))
    if unknown:
        raise ValueError(f"unknown gold tables {unknown}; available: {sorted(GOLD_TABLES)}")
    splits_df = (
        read_table(spark, lake, "silver", "splits") if table_exists(spark, lake, "silver", "splits") else None
    )
    inputs = read_silver_inputs(spark, lake, splits_df)
    inputs = SilverInputs(inputs.daily.cache(), inputs.dividends)
    try:
        splits_newest, splits = splits_state(splits_df)

        def last_build(name: str) -> BuiltFrom | None:
            return None if full else built_from(spark, lake, name)

        with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="gold") as pool:
            previous = dict(zip(tables, pool.map(last_build, tables), strict=True))
            state = changes_since(inputs, {p for p in previous.values() if p is not None}, splits)
            changes = state.changes
            newest = max(t for t in (state.newest, splits_newest) if t is not None)
            now = BuiltFrom(newest, splits, state.through)

            def build(name: str) -> GoldResult:
                table, before = GOLD_TABLES[name], previous[name]
                if before is None or changes[before].splits:  # a new split restates every earlier raw bar
                    return GoldResult(_write_gold(table.build(inputs), lake, name, None, now), None)
                since = changes[before].since(table)
                if since is None:
                    return GoldResult(0, None, skipped=True)
                return _rebuild_from(
                    lake, name, inputs, since, now, append=table.appends(since, before.through)
                )

            futures = {pool.submit(build, name): name for name in tables}
            done: dict[str, GoldResult] = {}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                if on_table:
                    on_table(futures[future], done[futures[future]])
    finally:
        inputs.daily.unpersist()
    return {name: done[name] for name in tables}


def _write_gold(
    df: DataFrame, lake: Lake, name: str, replace_where: str | None, built: BuiltFrom, append: bool = False
) -> int:
    """Write gold ``name`` (see ``write_table``), recording what it was built from; the rows written."""
    write_table(df, lake, "gold", name, replace_where=replace_where, metadata=built.metadata(), append=append)
    spark = df.sparkSession
    metrics = _delta(spark, lake, "gold", name).history(1).select("operationMetrics").first()
    return int((metrics["operationMetrics"] or {}).get("numOutputRows", 0)) if metrics else 0


def _rebuild_from(
    lake: Lake, name: str, inputs: SilverInputs, since: datetime.date, built: BuiltFrom, append: bool = False
) -> GoldResult:
    """Rebuild gold ``name``'s rows from ``since`` (its year's start for yearly tables) in place, or with
    ``append`` add them (they are all new: an append commits without reading or rewriting any file, where
    a replaceWhere rewrites every file holding a replaced row)."""
    table = GOLD_TABLES[name]
    column = "year" if table.by_year else "date"
    first: datetime.date | int = since.year if table.by_year else since
    start = datetime.date(since.year, 1, 1) if table.by_year else since
    window_df = inputs.daily.transform(with_lookback, start, table.lookback)
    rebuilt = table.build(SilverInputs(window_df, inputs.dividends)).where(F.col(column) >= F.lit(first))
    if table.running is not None:
        running = inputs.daily.transform(table.running).where(F.col(column) >= F.lit(first))
        keys = ["ticker", "date"]
        replaced = [c for c in running.columns if c not in keys]
        rebuilt = rebuilt.drop(*replaced).join(running, keys).select(*rebuilt.columns)
    return GoldResult(_write_gold(rebuilt, lake, name, f"{column} >= '{first}'", built, append), start)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--lake", required=True, help="lake URI (s3://, s3a://, file://, dbfs:/)")
    parser.add_argument("--catalog", help="Unity Catalog name; tables are path-based without it")
    parser.add_argument("--silver-schema", default="silver")
    parser.add_argument("--gold-schema", default="gold")
    parser.add_argument("--gold", default=",".join(GOLD_TABLES), help="comma-separated gold tables")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="read every bronze file and rebuild every gold row, not only what changed",
    )
    return parser


def _lake(args: argparse.Namespace) -> Lake:
    return Lake(args.lake, args.catalog, args.silver_schema, args.gold_schema)


def session_for(lake_uri: str) -> SparkSession:
    """The active session (Databricks, or a caller's), else a local one with S3A when the lake needs it."""
    active = SparkSession.getActiveSession()
    if active is not None:  # Databricks, or a caller that configured its own
        return active
    from anthill_spark.session import S3_SCHEMES, local_session  # noqa: PLC0415 - only outside Databricks

    return local_session(s3=lake_uri.startswith(S3_SCHEMES))


def main_bronze_to_silver(argv: Sequence[str] | None = None) -> None:
    """Entry point ``bronze_to_silver`` (Databricks python_wheel_task parameters are argv)."""
    args = _parser("bronze_to_silver").parse_args(argv)
    log.info("silver: %s", bronze_to_silver(session_for(args.lake), _lake(args), args.full_refresh))


def main_silver_to_gold(argv: Sequence[str] | None = None) -> None:
    """Entry point ``silver_to_gold``."""
    args = _parser("silver_to_gold").parse_args(argv)
    log.info(
        "gold: %s",
        silver_to_gold(session_for(args.lake), _lake(args), args.gold.split(","), args.full_refresh),
    )


def main_all(argv: Sequence[str] | None = None) -> None:
    """Entry point ``all``: silver then gold."""
    args = _parser("all").parse_args(argv)
    spark, lake = session_for(args.lake), _lake(args)
    log.info("silver: %s", bronze_to_silver(spark, lake, args.full_refresh))
    log.info("gold: %s", silver_to_gold(spark, lake, args.gold.split(","), args.full_refresh))
