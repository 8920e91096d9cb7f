"""``anthill demo``: the example feeds ingested into a local lake, refined by local Spark, summed up.

Runs the ingest and Spark packages in this process, as their pods would run them.
Market data comes from the sandbox server unless ``MASSIVE_API_KEY``/``POLYGON_API_KEY`` is set.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from anthill_api.errors import describe_validation_error
from anthill_api.lake import bronze_uri
from anthill_api.marketfeed import MarketFeedSpec
from anthill_api.pipeline import MedallionPipelineSpec
from anthill_devkit.demo.report import html_report, percent, ratio, summarize

KEY_VARIABLES = ("MASSIVE_API_KEY", "POLYGON_API_KEY")
NAMESPACE = "demo"  # the demo's feeds write as if they lived in this namespace
SANDBOX_KEY = "sandbox"


class DemoError(Exception):
    """Something the user can fix (the message says what)."""


@dataclass(frozen=True)
class DemoFeed:
    name: str
    spec: MarketFeedSpec


@dataclass(frozen=True)
class DemoPlan:
    """The example resources, with every feed's destination and the pipeline's lake at ``lake``."""

    feeds: list[DemoFeed]
    pipeline: str
    gold: list[str]
    lake: str


@dataclass
class DemoResult:
    report: Path
    rows_ingested: int
    requests: int
    seconds: dict[str, float] = field(default_factory=dict)


def load_plan(manifest: Path, lake: str | None) -> DemoPlan:
    """The MarketFeeds and the MedallionPipeline in ``manifest``; ``lake`` replaces their URIs when given."""
    try:
        docs = [doc for doc in yaml.safe_load_all(manifest.read_text()) if doc]
    except FileNotFoundError:
        raise DemoError(f"{manifest} does not exist (run from the repository, or pass --manifest)") from None
    feeds: list[DemoFeed] = []
    pipelines: list[tuple[str, MedallionPipelineSpec]] = []
    try:
        for doc in docs:
            name = (doc.get("metadata") or {}).get("name", "unnamed")
            if doc.get("kind") == "MarketFeed":
                feeds.append(DemoFeed(name, MarketFeedSpec.model_validate(doc.get("spec") or {})))
            elif doc.get("kind") == "MedallionPipeline":
                pipelines.append((name, MedallionPipelineSpec.model_validate(doc.get("spec") or {})))
    except ValidationError as exc:
        raise DemoError(f"{manifest}: {describe_validation_error(exc)}") from exc
    if len(pipelines) != 1 or not feeds:
        raise DemoError(f"{manifest} must hold MarketFeeds and exactly one MedallionPipeline")
    name, pipeline = pipelines[0]
    missing = sorted({ref.name for ref in pipeline.feeds} - {feed.name for feed in feeds})
    if missing:
        raise DemoError(f"MedallionPipeline {name} reads feeds {missing} that {manifest} does not define")
    target = (lake or pipeline.lake.uri).rstrip("/")
    if not target.startswith("file:///"):
        raise DemoError(f"the demo runs on a local lake (file:///...), not {target}")
    wanted = {ref.name for ref in pipeline.feeds}
    chosen = [
        DemoFeed(feed.name, feed.spec.model_copy(update={"destination": replace_uri(feed.spec, target)}))
        for feed in feeds
        if feed.name in wanted
    ]
    return DemoPlan(chosen, name, list(pipeline.gold), target)


def replace_uri(spec: MarketFeedSpec, uri: str) -> Any:
    return spec.destination.model_copy(update={"uri": uri})


@contextmanager
def market_data(console: Console) -> Iterator[tuple[str | None, str, str]]:
    """(API URL or None for the real API, key, a description); the sandbox server runs while in use."""
    for variable in KEY_VARIABLES:
        if os.environ.get(variable):
            console.print(f"market data: the Massive API (key from {variable})")
            yield None, os.environ[variable], "the Massive (Polygon.io) API"
            return
    from anthill_sandbox.server import SandboxServer, SandboxState  # noqa: PLC0415 - only without an API key

    # With a vendor's quirks: a few bad prints for silver to quarantine, a preliminary newest day to restate.
    server = SandboxServer(state=SandboxState(quirks=True)).start()
    console.print(f"market data: the sandbox server at {server.url} (set MASSIVE_API_KEY for real data)")
    try:
        yield server.url, SANDBOX_KEY, "the sandbox market-data server (synthetic prices)"
    finally:
        server.stop()


def _reporter(bar: Progress, prefix: str) -> Callable[[str, int], None]:
    """The ingest runner's progress callback: a description starts a task, an empty one advances it."""
    tasks: list[TaskID] = []

    def report(description: str, total: int) -> None:
        if description:
            tasks.append(bar.add_task(f"{prefix}: {description}", total=total))
        elif tasks:
            bar.advance(tasks[-1], total)

    return report


def ingest(plan: DemoPlan, url: str | None, key: str, console: Console) -> tuple[int, int]:
    """Every feed into bronze, through the same code path as the CronJob pods; (rows, API requests)."""
    from anthill_ingest.client import MarketData  # noqa: PLC0415
    from anthill_ingest.config import FeedConfig  # noqa: PLC0415
    from anthill_ingest.errors import IngestError  # noqa: PLC0415
    from anthill_ingest.runner import Run  # noqa: PLC0415
    from anthill_ingest.sink import open_sink  # noqa: PLC0415
    from anthill_ingest.transport import RetryPolicy  # noqa: PLC0415

    rows = requests = 0
    now = datetime.datetime.now(datetime.UTC)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:  # fmt: skip
        for feed in plan.feeds:
            rate = feed.spec.rate_limit.requests_per_minute if feed.spec.rate_limit else None
            api = MarketData(key, url, rate, RetryPolicy())
            config = FeedConfig(feed.name, NAMESPACE, feed.spec)
            try:
                summary = Run(config, api, open_sink(plan.lake), now, _reporter(bar, feed.name)).execute()
            except IngestError as exc:
                raise DemoError(f"feed {feed.name}: {exc}") from exc
            rows += summary.rows
            requests += summary.requests
    return rows, requests


def local_dir(lake: str) -> Path:
    """The folder that holds a ``file://`` lake: the report and Spark's log go there by default."""
    return Path(lake.removeprefix("file://")).parent


def refine(plan: DemoPlan, console: Console, verbose: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Bronze -> silver -> gold with local Spark and Delta; the gold rows the summary and report need.

    Spark's own output (its JVM's start-up notices and its log) would land between the progress bars: it goes
    to ``spark.log`` beside the lake, unless ``verbose`` asks for it in the terminal.
    """
    from anthill_spark.jobs.gold import silver_to_gold  # noqa: PLC0415
    from anthill_spark.jobs.silver import bronze_to_silver  # noqa: PLC0415
    from anthill_spark.lake import Lake, read_table  # noqa: PLC0415
    from anthill_spark.session import local_session  # noqa: PLC0415

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # everything is local: no need to look for a NIC
    log = None if verbose else local_dir(plan.lake) / "spark.log"
    if log is not None:
        console.print(f"Spark's log: {log} (--verbose shows it here)")
    with console.status("starting Spark (the first run fetches Delta's jars)"):
        session = local_session("anthill-demo", jvm_log=log)
    lake = Lake(plan.lake)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:  # fmt: skip
            silver = bar.add_task("bronze -> silver", total=1)
            # The pipeline's feeds, and nothing else in the lake, as the operator would pass them.
            counts = bronze_to_silver(
                session, lake, [bronze_uri(plan.lake, NAMESPACE, feed.name) for feed in plan.feeds]
            )
            bar.advance(silver)
            if counts.get("quarantined"):
                console.print(f"silver: {counts['quarantined']} bars broke a validity rule and wait in "
                              "silver.quarantine with the reason; the rest went on")  # fmt: skip
            gold = bar.add_task("silver -> gold", total=len(plan.gold))
            silver_to_gold(session, lake, plan.gold, on_table=lambda _name, _result: bar.advance(gold))
        wanted = {
            "moving_averages": ["ticker", "date", "close", "sma_50", "sma_200"],
            "drawdowns": ["ticker", "date", "drawdown"],
            "yearly_performance": ["ticker", "year", "annual_return", "volatility", "beta", "sharpe"],
            "anomalies": ["ticker", "date", "is_anomaly"],
            "market_breadth": ["date", "advancers", "decliners", "new_highs", "new_lows"],
        }
        return {
            name: [row.asDict() for row in read_table(session, lake, "gold", name).select(*columns).collect()]
            if name in plan.gold else []
            for name, columns in wanted.items()
        }  # fmt: skip
    finally:
        session.stop()


def run_demo(
    manifest: Path, lake: str | None, report: Path | None, console: Console, verbose: bool = False
) -> DemoResult:
    """Ingest, refine, print the summary table and write the HTML report; ``verbose`` shows Spark's logs."""
    plan = load_plan(manifest, lake)
    console.print(f"lake: {plan.lake}  ({len(plan.feeds)} feeds, pipeline {plan.pipeline})")
    seconds: dict[str, float] = {}
    started = time.monotonic()
    with market_data(console) as (url, key, source):
        rows, requests = ingest(plan, url, key, console)
    seconds["ingest"] = time.monotonic() - started
    console.print(f"bronze: {rows:,} rows from {requests:,} API requests ({seconds['ingest']:.1f}s)")
    started = time.monotonic()
    gold = refine(plan, console, verbose)
    seconds["spark"] = time.monotonic() - started
    console.print(f"silver and gold written ({seconds['spark']:.1f}s)")
    year, summary = summarize(gold["moving_averages"], gold["yearly_performance"], gold["anomalies"])
    table = Table(title=f"{year} to date, per ticker")
    for column in ("ticker", "last close", "YTD", "volatility", "beta", "Sharpe", "anomalies"):
        table.add_column(column, justify="left" if column == "ticker" else "right")
    for item in summary:
        table.add_row(item.ticker, f"{item.last_close:,.2f}", percent(item.ytd_return), percent(item.volatility),
                      ratio(item.beta), ratio(item.sharpe), str(item.anomalies))  # fmt: skip
    console.print(table)
    target = report or local_dir(plan.lake) / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html_report(year, summary, gold["moving_averages"], gold["drawdowns"],
                                  gold["market_breadth"], datetime.datetime.now(datetime.UTC), source))  # fmt: skip
    return DemoResult(target, rows, requests, seconds)
