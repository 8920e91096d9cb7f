"""``anthill spark run``: the medallion jobs on local Spark, with progress output."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from anthill_spark.jobs.results import GoldResult
    from anthill_spark.lake import Lake

app = typer.Typer(help="PySpark medallion jobs: bronze -> silver -> gold on Delta.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


class Layer(StrEnum):
    silver = "silver"
    gold = "gold"
    all = "all"


@app.callback()
def spark() -> None:
    """PySpark medallion jobs: bronze -> silver -> gold on Delta."""


@app.command("run")
def run(
    lake: Annotated[str, typer.Option(help="Lake URI: file:///path or s3a://bucket/prefix.")],
    bronze: Annotated[
        list[str] | None,
        typer.Option(
            help="A feed's bronze location, <destination>/bronze/<namespace>/<feed>; once per feed to read. "
            "Silver reads nothing else (required unless --layer gold)."
        ),
    ] = None,
    layer: Annotated[Layer, typer.Option(help="Which layer to build.")] = Layer.all,
    gold: Annotated[str, typer.Option(help="Comma-separated gold tables, or all.")] = "all",
    full_refresh: Annotated[
        bool, typer.Option(help="Read every bronze file and rebuild every gold row, not only what changed.")
    ] = False,
) -> None:
    """Build silver from bronze and/or gold from silver, with local Spark and Delta.

    Runs are incremental: silver reads only bronze files written since its newest ingestion, and each gold
    table is rebuilt from the first day silver changed (with the history its windows need).
    """
    # PySpark and Delta load here, not whenever the `anthill` command starts.
    from py4j.protocol import Py4JJavaError  # noqa: PLC0415
    from pyspark.errors import PySparkException  # noqa: PLC0415

    from anthill_spark.jobs.entrypoints import session_for  # noqa: PLC0415
    from anthill_spark.jobs.gold import GOLD_TABLES  # noqa: PLC0415
    from anthill_spark.jobs.intraday import INTRADAY_TABLES  # noqa: PLC0415
    from anthill_spark.lake import Lake  # noqa: PLC0415

    known = [*GOLD_TABLES, *INTRADAY_TABLES]
    tables = list(GOLD_TABLES) if gold == "all" else gold.split(",")
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise typer.BadParameter(f"unknown gold tables {unknown}; available: {', '.join(known)}",
                                 param_hint="--gold")  # fmt: skip
    if layer != Layer.gold and not bronze:
        raise typer.BadParameter("name the bronze location of each feed to read", param_hint="--bronze")

    target = Lake(lake)
    with err.status("starting Spark"):
        session = session_for(lake, *(bronze or []))
        session.sparkContext.setLogLevel("ERROR")
    try:
        _run(session, target, bronze or [], layer, tables, full_refresh)
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except (PySparkException, Py4JJavaError) as exc:
        # Spark's messages carry a JVM stack trace; its first lines say what went wrong.
        summary = "\n".join(str(exc).strip().splitlines()[:3])
        err.print(f"[red]error:[/] Spark failed: {summary}")
        raise typer.Exit(1) from None
    finally:
        session.stop()


def _run(
    session: SparkSession,
    target: Lake,
    bronze: list[str],
    layer: Layer,
    tables: list[str],
    full_refresh: bool,
) -> None:
    """Silver, then each gold table, with a line per step."""
    from anthill_spark.jobs.gold import silver_to_gold  # noqa: PLC0415 - PySpark loads here
    from anthill_spark.jobs.silver import bronze_to_silver  # noqa: PLC0415

    if layer in (Layer.silver, Layer.all):
        started = time.monotonic()
        with err.status("bronze -> silver"):
            counts = bronze_to_silver(session, target, bronze, full_refresh)
        read = ", ".join(f"{name} {rows:,}" for name, rows in counts.items())
        err.print(f"silver: rows read from new bronze: {read} ({time.monotonic() - started:.1f}s)")
    if layer in (Layer.gold, Layer.all):
        started = time.monotonic()

        def report(name: str, result: GoldResult) -> None:
            # Tables are built several at a time: the time is since gold started, not this table's own.
            err.print(f"gold.{name}: {result.rows:,} rows written, {result.mode} "
                      f"(done at +{time.monotonic() - started:.1f}s)")  # fmt: skip

        with err.status(f"silver -> gold ({len(tables)} tables)"):
            silver_to_gold(session, target, tables, full_refresh, on_table=report)
