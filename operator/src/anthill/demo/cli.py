"""``anthill demo``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)
DEFAULT_MANIFEST = Path("examples/demo.yaml")


def demo(
    manifest: Annotated[
        Path, typer.Option(help="MarketFeeds and one MedallionPipeline to run.", show_default=True)
    ] = DEFAULT_MANIFEST,
    lake: Annotated[
        str | None, typer.Option(help="Local lake (file:///path) instead of the manifests' own.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Where the HTML report goes (default: next to the lake).")
    ] = None,
) -> None:
    """Run the platform's main job on this machine: ingest the example feeds into a local lake, refine them
    with local Spark and Delta, print a per-ticker summary and write an HTML report with charts.

    No API key or cloud is needed: the sandbox market-data server stands in for the Massive (Polygon.io) API
    unless MASSIVE_API_KEY or POLYGON_API_KEY is set. Runs are incremental: a second run fetches only new days.
    """
    try:
        from anthill.demo.run import DemoError, run_demo  # noqa: PLC0415 - loads the ingest and Spark packages
    except ModuleNotFoundError as exc:
        err.print(
            f"[red]error:[/] the demo needs the whole workspace ({exc.name} is missing): run `make demo`"
        )
        raise typer.Exit(1) from exc
    started = time.monotonic()
    try:
        result = run_demo(manifest, lake, report, err)
    except DemoError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    err.print(f"report: [bold]{result.report}[/] (demo took {time.monotonic() - started:.0f}s)")
