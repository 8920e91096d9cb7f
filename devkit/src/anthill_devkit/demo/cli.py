"""``anthill demo``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)
DEFAULT_MANIFEST = Path("examples/demo.yaml")
STREAM_MANIFEST = Path("examples/demo-stream.yaml")
CRDS = Path("crds")
REFRESH_SECONDS = 20.0  # how often the stream demo refines what landed


def demo(
    manifest: Annotated[
        Path | None,
        typer.Option(
            help="MarketFeeds and one MedallionPipeline to run (with --stream: one MarketStream and the "
            f"pipeline reading it). Default: {DEFAULT_MANIFEST}, or {STREAM_MANIFEST} with --stream."
        ),
    ] = None,
    lake: Annotated[
        str | None, typer.Option(help="Local lake (file:///path) instead of the manifests' own.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Where the HTML report goes (default: next to the lake).")
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Instead: apply the manifests to the local control plane (started if needed) with the operator "
            "running, and print `kubectl get mf,mp`.",
        ),
    ] = False,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="Instead: stream the example MarketStream from the sandbox's WebSocket server, showing events "
            "per second, and refine its ticks into gold.intraday_bars and gold.spreads as they land.",
        ),
    ] = False,
    seconds: Annotated[float, typer.Option(min=10, help="With --stream: how long to stream.")] = 60.0,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="Also show Spark's own output (JVM start-up notices, warnings) in the terminal; by default it "
            "goes to spark.log next to the lake.",
        ),
    ] = False,
) -> None:
    """Run the platform's main job on this machine: ingest the example feeds into a local lake, refine them
    with local Spark and Delta, print a per-ticker summary and write an HTML report with charts.

    No API key or cloud is needed: the sandbox market-data server stands in for the Massive (Polygon.io) API
    unless MASSIVE_API_KEY or POLYGON_API_KEY is set. Runs are incremental: a second run fetches only new days.
    """
    if cluster:
        _on_cluster(manifest or DEFAULT_MANIFEST)
        return
    if stream:
        _stream(manifest or STREAM_MANIFEST, lake, seconds, verbose)
        return
    manifest = manifest or DEFAULT_MANIFEST
    from anthill_devkit.demo.run import DemoError, run_demo  # noqa: PLC0415 - loads the ingest and Spark packages

    started = time.monotonic()
    try:
        result = run_demo(manifest, lake, report, err, verbose)
    except DemoError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    err.print(f"report: [bold]{result.report}[/] (demo took {time.monotonic() - started:.0f}s)")


def _stream(manifest: Path, lake: str | None, seconds: float, verbose: bool) -> None:
    from anthill_devkit.demo.run import DemoError  # noqa: PLC0415
    from anthill_devkit.demo.stream import run_stream_demo  # noqa: PLC0415 - loads the Spark package

    started = time.monotonic()
    try:
        run_stream_demo(manifest, lake, seconds, REFRESH_SECONDS, err, verbose)
    except DemoError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    err.print(f"(the stream demo took {time.monotonic() - started:.0f}s)")


def _on_cluster(manifest: Path) -> None:
    from anthill_devkit.cli import cluster_up  # noqa: PLC0415 - the cluster harness loads only for --cluster
    from anthill_devkit.demo.cluster import NAMESPACE, ClusterDemoError, run_on_cluster  # noqa: PLC0415

    if not manifest.exists():
        err.print(f"[red]error:[/] {manifest} does not exist (run from the repository, or pass --manifest)")
        raise typer.Exit(1)
    cluster_up()  # idempotent: a running cluster is reused
    try:
        listing = run_on_cluster(manifest, CRDS, err)
    except ClusterDemoError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    typer.echo(listing, nl=False)
    err.print(f"resources are in namespace {NAMESPACE}; `make down` stops the cluster")
