"""Silver -> gold: rebuild each gold table from the first day silver changed since its last build, or whole.

Gold is rebuilt from silver; each build records in its Delta commit what it was built from.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F  # noqa: N812 - the PySpark convention

from anthill_spark.jobs.intraday import INTRADAY_TABLES, intraday_to_gold
from anthill_spark.jobs.results import GoldResult
from anthill_spark.lake import (
    Lake,
    aggregate_values,
    read_table,
    recorded_metadata,
    rows_written,
    table_exists,
    table_version,
    write_table,
)
from anthill_spark.transforms import gold


@dataclass(frozen=True)
class SilverInputs:
    """What gold is built from: split-adjusted daily bars with their trading date, and dividends and news
    (with the trading date each was published on) if any."""

    daily: DataFrame
    dividends: DataFrame | None
    news: DataFrame | None = None


@dataclass(frozen=True)
class GoldTable:
    """How to build one gold table, and how much history before the first changed day a rebuilt row needs.

    ``lookback`` counts trading days (rows per ticker); ``None`` means all of it.
    Tables keyed by ``year`` are rebuilt from the start of the changed day's year. ``resume`` computes the
    columns that weigh all history (running peaks, EMAs; keyed by ticker and date) from the rebuilt days'
    silver rows and the table's own rows before them (each ticker's last ``resume_rows`` of them are
    enough); a rebuild takes those from it and the rest from ``build`` over the lookback alone.
    ``definition`` is bumped whenever the table's columns or formulas change: a table built by another
    definition is rebuilt whole, since rows kept from before would mix two definitions (and Delta refuses
    rebuilt rows with other columns).
    """

    build: Callable[[SilverInputs], DataFrame]
    lookback: int | None
    by_year: bool = False
    uses_dividends: bool = False
    uses_news: bool = False
    resume: Callable[[DataFrame, DataFrame], DataFrame] | None = None
    resume_rows: int = 1
    definition: int = 1

    @property
    def silver_inputs(self) -> frozenset[str]:
        """The silver tables the table is built from (splits restate every bar)."""
        return frozenset({"bars", "splits"} | ({"dividends"} if self.uses_dividends else set())
                         | ({"news"} if self.uses_news else set()))  # fmt: skip

    def appends(self, since: datetime.date, through: datetime.date | None) -> bool:
        """Whether rows rebuilt from ``since`` are all new to a table built through ``through`` (its last
        day), so they can be appended instead of replacing rows in place."""
        if through is None:
            return False
        return since.year > through.year if self.by_year else since > through


# Definitions: 2 dates crypto and forex bars by their UTC day (they were a day early); market_breadth's 2
# counts stocks only, with 52-week extremes once a year of history exists; yearly_performance's 3 also marks
# partial years (first_day, last_day, is_partial) and charges them a pro-rated risk-free rate.
GOLD_TABLES: dict[str, GoldTable] = {
    "daily_returns": GoldTable(lambda s: s.daily.transform(gold.with_daily_returns), 1, definition=2),
    "volatility": GoldTable(
        lambda s: s.daily.transform(gold.with_daily_returns).transform(gold.with_volatility),
        max(gold.VOLATILITY_WINDOWS),
        definition=2,
    ),
    "moving_averages": GoldTable(
        lambda s: s.daily.transform(gold.with_moving_averages),
        max(gold.SMA_WINDOWS) - 1,
        resume=gold.resume_exponential_moving_averages,
        resume_rows=gold.EMA_SEED_ROWS,
        definition=2,
    ),
    "drawdowns": GoldTable(
        lambda s: s.daily.transform(gold.with_drawdowns), 0, resume=gold.resume_drawdowns, definition=2
    ),
    "anomalies": GoldTable(
        lambda s: s.daily.transform(gold.with_anomalies), gold.ANOMALY_WINDOW + 1, definition=2
    ),
    "market_breadth": GoldTable(
        lambda s: s.daily.transform(gold.with_market_breadth), gold.BREADTH_WINDOW, definition=2
    ),
    "yearly_performance": GoldTable(
        lambda s: gold.with_yearly_performance(s.daily, s.dividends),
        1,
        by_year=True,
        uses_dividends=True,
        definition=3,
    ),
    "news_counts": GoldTable(lambda s: gold.with_news_counts(s.daily, s.news), 1, uses_news=True),
}


WATERMARK = "anthill.silverWatermark"
SPLITS_FINGERPRINT = "anthill.splitsFingerprint"
THROUGH = "anthill.through"
DEFINITION = "anthill.definition"  # absent: written before definitions were recorded, all of them 1
SILVER_VERSIONS = "anthill.silverVersions"  # absent: written before versions were recorded
# The silver tables gold reads; a table absent has no version.
SILVER_INPUTS = ("bars", "splits", "dividends", "news")
Versions = tuple[tuple[str, int | None], ...]


def silver_versions(spark: SparkSession, lake: Lake) -> Versions:
    """The Delta version of every silver table gold reads, from their logs alone (no data read)."""
    return tuple((name, table_version(spark, lake, "silver", name)) for name in SILVER_INPUTS)


def _versions_metadata(versions: Versions) -> str:
    return ",".join(f"{name}={'' if version is None else version}" for name, version in versions)


def _parse_versions(text: str) -> Versions:
    pairs = [item.split("=", 1) for item in text.split(",")]
    return tuple((name, int(version) if version else None) for name, version in pairs)


@dataclass(frozen=True)
class BuiltFrom:
    """What a gold table was last built from: silver up to ``watermark``, splits as they were then, and
    daily bars through ``through`` (the last day it holds; None when not recorded), and ``silver``: the Delta
    version of each silver table, read before any of their data was (so no later than what the build read;
    None when not recorded)."""

    watermark: datetime.datetime
    splits: str
    through: datetime.date | None = None
    silver: Versions | None = None

    def metadata(self) -> dict[str, str]:
        recorded = {WATERMARK: self.watermark.isoformat(), SPLITS_FINGERPRINT: self.splits}
        if self.silver is not None:
            recorded[SILVER_VERSIONS] = _versions_metadata(self.silver)
        return recorded | ({THROUGH: self.through.isoformat()} if self.through else {})

    def current(self, table: GoldTable, versions: Versions) -> bool:
        """Whether no silver table ``table`` reads has had a commit since this build read it: then nothing
        it is built from can have changed, and it is up to date without reading silver at all."""
        if self.silver is None:
            return False
        before, now = dict(self.silver), dict(versions)
        return all(name in before and before[name] == now.get(name) for name in table.silver_inputs)


def built_from(spark: SparkSession, lake: Lake, name: str) -> BuiltFrom | None:
    """What the gold table was last built from, read from its last commit (None: unknown, or built by
    another definition of the table)."""
    recorded = recorded_metadata(spark, lake, "gold", name)
    if recorded is None:
        return None  # written by something else (OPTIMIZE, a person): rebuild rather than guess
    try:
        if int(recorded.get(DEFINITION, 1)) != GOLD_TABLES[name].definition:
            return None
        through = recorded.get(THROUGH)
        silver = recorded.get(SILVER_VERSIONS)
        return BuiltFrom(
            datetime.datetime.fromisoformat(recorded[WATERMARK]),
            recorded[SPLITS_FINGERPRINT],
            datetime.date.fromisoformat(through) if through else None,
            _parse_versions(silver) if silver else None,
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
    newest, value = aggregate_values(splits_df, F.max("ingested_at"), digest)
    return newest, value or ""


def read_silver_inputs(spark: SparkSession, lake: Lake, splits_df: DataFrame | None) -> SilverInputs:
    """Daily silver bars with trading dates, restated for ``splits_df`` (silver.splits, if any) where
    unadjusted, and dividends."""
    daily_df = read_table(spark, lake, "silver", "bars").transform(gold.with_trading_date)
    if splits_df is not None:
        daily_df = gold.with_split_adjustment(daily_df, splits_df)
    has_dividends = table_exists(spark, lake, "silver", "dividends")
    has_news = table_exists(spark, lake, "silver", "news")
    return SilverInputs(
        daily_df,
        read_table(spark, lake, "silver", "dividends") if has_dividends else None,
        read_table(spark, lake, "silver", "news").transform(gold.with_news_date) if has_news else None,
    )


@dataclass(frozen=True)
class Changes:
    """What silver changed since a gold build: the first day with a changed bar, the first ex-date with a
    changed dividend and the first day with changed news (only the tables using them care), and whether the
    splits differ."""

    bars: datetime.date | None
    dividends: datetime.date | None
    splits: bool
    news: datetime.date | None = None

    def since(self, table: GoldTable) -> datetime.date | None:
        days = [
            self.bars,
            self.dividends if table.uses_dividends else None,
            self.news if table.uses_news else None,
        ]
        known = [day for day in days if day is not None]
        return min(known) if known else None


def _newest_last_and_firsts(
    df: DataFrame, day: str, watermarks: Sequence[datetime.datetime]
) -> tuple[datetime.datetime | None, datetime.date | None, list[datetime.date | None], int]:
    """``df``'s newest ``ingested_at`` and last ``day``, per watermark the first ``day`` among rows
    ingested strictly after it, and its rows: one pass however many builds are compared."""
    firsts = [F.min(F.when(F.col("ingested_at") > F.lit(mark), F.col(day))) for mark in watermarks]
    newest, last, rows, *first = aggregate_values(
        df, F.max("ingested_at"), F.max(day), F.count(F.lit(1)), *firsts
    )
    return newest, last, first, int(rows or 0)


@dataclass(frozen=True)
class SilverState:
    """Silver as gold reads it: its newest ingestion and last trading day, and per earlier gold build
    what changed since."""

    newest: datetime.datetime | None
    through: datetime.date | None
    changes: dict[BuiltFrom, Changes]
    rows: int | None = None  # daily bars; None when not counted (an incremental run reads recent rows only)


def _dated_from(day: datetime.date) -> Column:
    """Daily bars dated ``day`` or later: a coarse cut on the stored timestamp first (file statistics can skip
    files), then the exact one on the trading date."""
    moment = datetime.datetime.combine(day, datetime.time()) - datetime.timedelta(days=1)
    return (F.col("ts") >= F.lit(moment)) & (F.col("date") >= F.lit(day))


def _bar_changes(
    daily_df: DataFrame, builds: Sequence[BuiltFrom]
) -> tuple[datetime.datetime | None, datetime.date | None, list[datetime.date | None], int | None]:
    """As ``_newest_last_and_firsts`` for the daily bars, without reading all history when every build
    recorded its last day: silver keeps every row it held, so its last day is at least the builds' latest
    ``through``, and every row the builds have not seen was ingested after the oldest watermark. Only those
    rows are read (silver's files hold ranges of bar times, and Delta skips the rest by their statistics);
    their count is not taken (None)."""
    marks = [build.watermark for build in builds]
    throughs = [build.through for build in builds]
    if not builds or None in throughs:
        return _newest_last_and_firsts(daily_df, "date", marks)
    oldest = min(marks)
    known = max(day for day in throughs if day is not None)
    recent = _dated_from(known)
    changed = F.col("ingested_at") > F.lit(oldest)
    first_changed = [F.min(F.when(F.col("ingested_at") > F.lit(mark), F.col("date"))) for mark in marks]
    newest, last, *first = aggregate_values(
        daily_df.where(changed | recent),
        F.max(F.when(changed, F.col("ingested_at"))),
        F.max(F.when(recent, F.col("date"))),
        *first_changed,
    )
    if last is None:  # silver lost days a build held (rebuilt from less bronze): read it all
        return _newest_last_and_firsts(daily_df, "date", marks)
    # Nothing ingested since the oldest watermark: silver held every row up to it then, and still does.
    return newest if newest is not None else oldest, last, first, None


def changes_since(inputs: SilverInputs, builds: Collection[BuiltFrom], splits: str) -> SilverState:
    """Silver's newest ingestion and last day, and per earlier build what changed since: rows ingested
    strictly after its watermark (the build read a silver snapshot that held every row ingested up to that
    instant; two bronze files sharing one modification time across silver runs is the one case this
    misses, and ``--full-refresh`` settles it)."""
    ordered = list(builds)
    marks = [build.watermark for build in ordered]
    newest, through, bars, rows = _bar_changes(inputs.daily, ordered)
    dividends: list[datetime.date | None] = [None] * len(ordered)
    if inputs.dividends is not None:
        newest_dividend, _, dividends, _ = _newest_last_and_firsts(
            inputs.dividends, "ex_dividend_date", marks
        )
        newest = max((t for t in (newest, newest_dividend) if t is not None), default=None)
    news: list[datetime.date | None] = [None] * len(ordered)
    if inputs.news is not None:
        newest_news, _, news, _ = _newest_last_and_firsts(inputs.news, "date", marks)
        newest = max((t for t in (newest, newest_news) if t is not None), default=None)
    changes = {
        build: Changes(first_bar, first_dividend, splits != build.splits, first_news)
        for build, first_bar, first_dividend, first_news in zip(ordered, bars, dividends, news, strict=True)
    }
    return SilverState(newest, through, changes, rows)


def lookback_days(lookback: int) -> int:
    """Calendar days that hold ``lookback`` trading days of any market with room to spare (exchanges trade
    about 252 of 365 days, and never close more than a few days running); a ticker with fewer rows in them
    (halted, newly listed) is looked up in all of its history instead."""
    return 2 * lookback + 14


def with_lookback(
    daily_df: DataFrame, since: datetime.date, lookback: int | None, history: DataFrame | None = None
) -> DataFrame:
    """Each ticker's rows from ``since`` on, plus the ``lookback`` trading days before it (all when None); a
    ticker without rows from ``since`` on rebuilds nothing, and may come with some earlier rows or none.

    Only the ``lookback_days`` before ``since`` are ranked, save for tickers with rows from ``since`` on that
    have fewer than ``lookback`` rows in them: theirs are ranked over all of ``history`` (``daily_df`` when
    None; pass all history when ``daily_df`` holds only recent days)."""
    if lookback is None:
        return daily_df
    if lookback == 0:
        return daily_df.where(F.col("date") >= F.lit(since))
    recent = daily_df.where(F.col("date") >= F.lit(since))
    before = last_rows(daily_df.where(F.col("date") < F.lit(since)), since, lookback, recent, history)
    newest_first = Window.partitionBy("ticker").orderBy(F.col("date").desc())
    kept = before.withColumn("_back", F.row_number().over(newest_first)).where(F.col("_back") <= lookback)
    return recent.unionByName(kept.drop("_back"))


def last_rows(
    before_df: DataFrame,
    until: datetime.date,
    rows: int,
    at_hand: DataFrame,
    history: DataFrame | None = None,
) -> DataFrame:
    """Rows of ``before_df`` (all dated before ``until``) holding at least the last ``rows`` of each ticker
    of ``at_hand``, or all of a ticker's when it has fewer: those of the ``lookback_days(rows)`` before
    ``until``, and all history of the tickers with fewer rows there (from ``history`` when given, for a
    ``before_df`` of recent days only). Files of older days are not read unless such a ticker needs them
    (silver and gold tables are written in files by range of time)."""
    bound = until - datetime.timedelta(days=lookback_days(rows))
    near = before_df.where(F.col("date") >= F.lit(bound))
    counts = near.groupBy("ticker").agg(F.count(F.lit(1)).alias("_n"))
    short = (
        at_hand.select("ticker")
        .distinct()
        .join(counts, "ticker", "left")
        .where(F.coalesce(F.col("_n"), F.lit(0)) < rows)
        .select("ticker")
    )
    far = (before_df if history is None else history).where(F.col("date") < F.lit(bound))
    return near.unionByName(far.join(F.broadcast(short), "ticker", "left_semi"))


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
    ``on_table`` is called as each table finishes. A table none of whose silver inputs has had a Delta commit
    since its last build is up to date without silver being read: a run with nothing new reads only logs.
    """
    unknown = sorted(set(tables) - set(GOLD_TABLES) - set(INTRADAY_TABLES))
    if unknown:
        raise ValueError(f"unknown gold tables {unknown}; available: {sorted(GOLD_TABLES | INTRADAY_TABLES)}")
    per_minute = intraday_to_gold(spark, lake, [t for t in tables if t in INTRADAY_TABLES], full)
    for name, result in per_minute.items():
        if on_table:
            on_table(name, result)
    tables = [t for t in tables if t in GOLD_TABLES]
    if not tables:
        return per_minute
    versions = silver_versions(spark, lake)  # before any silver data is read: see BuiltFrom.silver
    done: dict[str, GoldResult] = {}

    def finished(name: str, result: GoldResult) -> None:
        done[name] = result
        if on_table:
            on_table(name, result)

    def last_build(name: str) -> BuiltFrom | None:
        return None if full else built_from(spark, lake, name)

    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="gold") as pool:
        previous = dict(zip(tables, pool.map(last_build, tables), strict=True))
        current = {name for name, before in previous.items()
                   if before is not None and before.current(GOLD_TABLES[name], versions)}  # fmt: skip
        for name in tables:
            if name in current:  # no silver table it reads has changed: no need to read them
                finished(name, GoldResult(0, None, skipped=True))
        if len(current) < len(tables):
            _build_changed(spark, lake, [t for t in tables if t not in current], previous, versions, pool,
                           finished)  # fmt: skip
    return per_minute | {name: done[name] for name in tables}


def _build_changed(
    spark: SparkSession,
    lake: Lake,
    tables: Sequence[str],
    previous: dict[str, BuiltFrom | None],
    versions: Versions,
    pool: ThreadPoolExecutor,
    finished: Callable[[str, GoldResult], None],
) -> None:
    """Find what silver changed since each table's last build and rebuild what it changed (see
    :func:`silver_to_gold`), calling ``finished`` as each table is done."""
    splits_df = (
        read_table(spark, lake, "silver", "splits") if table_exists(spark, lake, "silver", "splits") else None
    )
    inputs = read_silver_inputs(spark, lake, splits_df)
    cached: list[DataFrame] = []

    def cache(daily_df: DataFrame) -> DataFrame:
        cached.append(daily_df.cache())
        return cached[-1]

    try:
        splits_newest, splits = splits_state(splits_df)
        history = inputs.daily
        if all(previous[name] is None for name in tables):  # every table whole: read silver once, into memory
            inputs = replace(inputs, daily=cache(history))
            history = inputs.daily
        builds = {before for name in tables if (before := previous[name]) is not None}
        state = changes_since(inputs, builds, splits)
        changes = state.changes
        newest = max(t for t in (state.newest, splits_newest) if t is not None)
        now = BuiltFrom(newest, splits, state.through, versions)
        plans = {name: _plan(GOLD_TABLES[name], previous[name], changes) for name in tables}
        if not cached:
            inputs = replace(inputs, daily=cache(_needed(history, plans)))
        whole = any(
            plan is FULL or previous[name] is None for name, plan in plans.items() if plan is not None
        )
        rows = state.rows
        if rows is None:  # not counted: only a table rebuilt whole needs it, to cut its files
            rows = aggregate_values(history, F.count(F.lit(1)))[0] if whole else 0
        files = max(1, int(rows or 0) // ROWS_PER_FILE)

        def build(name: str) -> GoldResult:
            table, plan, before = GOLD_TABLES[name], plans[name], previous[name]
            if plan is None:
                return GoldResult(0, None, skipped=True)
            if before is None or not isinstance(plan, datetime.date):
                return GoldResult(_write_gold(table.build(inputs), lake, name, None, now, files=files), None)
            append = table.appends(plan, before.through)
            return _rebuild_from(lake, name, inputs, plan, now, append=append, history=history)

        futures = {pool.submit(build, name): name for name in tables}
        for future in as_completed(futures):
            finished(futures[future], future.result())
    finally:
        for daily_df in cached:
            daily_df.unpersist()


FULL = "full"  # a plan: rebuild the table whole
ROWS_PER_FILE = 250_000  # a whole table's daily rows per file, the files cut by date


def _plan(
    table: GoldTable, before: BuiltFrom | None, changes: dict[BuiltFrom, Changes]
) -> str | datetime.date | None:
    """``FULL``, the first day to rebuild from, or None (nothing changed) for a table last built ``before``."""
    if before is None or changes[before].splits:  # a new split restates every earlier raw bar
        return FULL
    return changes[before].since(table)


def _start(table: GoldTable, since: datetime.date) -> datetime.date:
    """The first silver day a rebuild from ``since`` recomputes: its year's start for yearly tables."""
    return datetime.date(since.year, 1, 1) if table.by_year else since


def _needed(daily_df: DataFrame, plans: dict[str, str | datetime.date | None]) -> DataFrame:
    """The days of ``daily_df`` the planned rebuilds need: from the earliest rebuilt day less its table's
    ``lookback_days`` (a ticker short of rows there is looked up in all history, not these), or all."""
    firsts = []
    for name, plan in plans.items():
        table = GOLD_TABLES[name]
        if plan is FULL or (plan is not None and table.lookback is None):
            return daily_df
        if isinstance(plan, datetime.date):
            firsts.append(_start(table, plan) - datetime.timedelta(days=lookback_days(table.lookback or 0)))
    first = min(firsts, default=datetime.date.max)
    return daily_df.where(_dated_from(first))


def _write_gold(
    df: DataFrame,
    lake: Lake,
    name: str,
    replace_where: str | None,
    built: BuiltFrom,
    append: bool = False,
    files: int | None = None,
) -> int:
    """Write gold ``name`` (see ``write_table``), recording what it was built from and by which definition;
    the rows written. With ``files``, a table with dates is written in that many files, each a range of
    days: a later rebuild of recent days then replaces the rows of the last files only, not of every file
    holding some ticker's recent rows."""
    if files is not None and "date" in df.columns:
        df = df.repartitionByRange(files, "date")
    metadata = built.metadata() | {DEFINITION: str(GOLD_TABLES[name].definition)}
    write_table(df, lake, "gold", name, replace_where=replace_where, metadata=metadata, append=append)
    return rows_written(df.sparkSession, lake, "gold", name)


def _rebuild_from(
    lake: Lake,
    name: str,
    inputs: SilverInputs,
    since: datetime.date,
    built: BuiltFrom,
    append: bool = False,
    history: DataFrame | None = None,
) -> GoldResult:
    """Rebuild gold ``name``'s rows from ``since`` (its year's start for yearly tables) in place, or with
    ``append`` add them (they are all new: an append commits without reading or rewriting any file, where
    a replaceWhere rewrites every file holding a replaced row). ``inputs.daily`` may hold recent days only,
    with ``history`` all of them (see ``with_lookback``)."""
    table = GOLD_TABLES[name]
    column = "year" if table.by_year else "date"
    first: datetime.date | int = since.year if table.by_year else since
    start = _start(table, since)
    window_df = inputs.daily.transform(with_lookback, start, table.lookback, history)
    rebuilt = table.build(SilverInputs(window_df, inputs.dividends, inputs.news)).where(
        F.col(column) >= F.lit(first)
    )
    if table.resume is not None:
        spark = inputs.daily.sparkSession
        at_hand = inputs.daily.where(F.col("date") >= F.lit(start))
        before = read_table(spark, lake, "gold", name).where(F.col(column) < F.lit(first))
        kept = last_rows(before, since, table.resume_rows, at_hand)
        resumed = table.resume(at_hand, kept)
        keys = ["ticker", "date"]
        replaced = [c for c in resumed.columns if c not in keys]
        rebuilt = rebuilt.drop(*replaced).join(resumed, keys).select(*rebuilt.columns)
    return GoldResult(_write_gold(rebuilt, lake, name, f"{column} >= '{first}'", built, append), start)
