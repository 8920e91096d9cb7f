"""``anthill spark run``: the medallion jobs on local Spark, with progress output."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

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
    layer: Annotated[Layer, typer.Option(help="Which layer to build.")] = Layer.all,
    gold: Annotated[str, typer.Option(help="Comma-separated gold tables, or all.")] = "all",
) -> None:
    """Build silver from bronze and/or gold from silver, with local Spark and Delta."""
    # PySpark and Delta load here, not whenever the `anthill` command starts.
    from anthill_spark.jobs import GOLD_TABLES, Lake, bronze_to_silver, silver_to_gold  # noqa: PLC0415
    from anthill_spark.session import local_session  # noqa: PLC0415

    tables = list(GOLD_TABLES) if gold == "all" else gold.split(",")

    target = Lake(lake)
    with err.status("starting Spark"):
        session = local_session()
        session.sparkContext.setLogLevel("ERROR")
    try:
        if layer in (Layer.silver, Layer.all):
            started = time.monotonic()
            with err.status("bronze -> silver"):
                counts = bronze_to_silver(session, target)
            err.print(f"silver.bars: {counts['bars']:,} rows, {counts['quarantined']:,} quarantined "
                      f"({time.monotonic() - started:.1f}s)")  # fmt: skip
        if layer in (Layer.gold, Layer.all):
            for name in tables:
                started = time.monotonic()
                with err.status(f"silver -> gold.{name}"):
                    rows = silver_to_gold(session, target, [name])[name]
                err.print(f"gold.{name}: {rows:,} rows ({time.monotonic() - started:.1f}s)")
    finally:
        session.stop()
