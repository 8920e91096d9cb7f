"""Benchmark ingestion: sandbox API -> massive client -> Parquet on local disk.

    .venv/bin/python -m tests.benchmarks.ingest

The sandbox runs as its own process (its data generation is not counted against the client); each
scenario runs once to warm the sandbox's caches, then again into a fresh lake for the figure.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from anthill_api.marketfeed import MarketFeedSpec
from anthill_devkit.controlplane import free_ports, probe, terminate, wait_for
from anthill_ingest.client import MarketData
from anthill_ingest.config import FeedConfig
from anthill_ingest.runner import Run
from anthill_ingest.sink import FileSink
from anthill_sandbox import data
from tests.benchmarks.report import publish

TODAY = datetime.datetime(2025, 1, 2, 12, tzinfo=datetime.UTC)
STOCKS = [t for t, i in data.INSTRUMENTS.items() if i.market == "stocks"]


def feed(dataset: str, tickers: list[str] | None, start: str, bars: dict[str, Any] | None) -> FeedConfig:
    spec: dict[str, Any] = {"dataset": dataset, "schedule": "@daily", "backfill": {"from": start},
                            "destination": {"uri": "file:///unused"},
                            "apiKeySecretRef": {"name": "k", "key": "k"}}  # fmt: skip
    if tickers:
        spec["tickers"] = tickers
    if bars:
        spec["bars"] = bars
    return FeedConfig("bench", "bench", MarketFeedSpec.model_validate(spec))


def run_once(url: str, config: FeedConfig) -> tuple[int, int, float]:
    """(rows, requests, seconds) of one run into a fresh temporary lake."""
    with tempfile.TemporaryDirectory(prefix="anthill-lake-") as lake:
        api = MarketData("sandbox", url, None)
        started = time.perf_counter()
        summary = Run(config, api, FileSink(f"file://{lake}"), TODAY).execute()
        return summary.rows, summary.requests, time.perf_counter() - started


def main() -> None:
    console = Console(stderr=True)
    (port,) = free_ports(1)
    server = subprocess.Popen([str(Path(sys.executable).parent / "anthill"), "sandbox", "market-data",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: probe(f"{url}/_sandbox/stats"), 30, "the sandbox")
    scenarios = {
        f"daily bars, {len(STOCKS[:20])} tickers x 2 years": feed("aggregates", STOCKS[:20], "2023-01-03",
                                                                    {"multiplier": 1, "timespan": "day"}),
        "minute bars, 5 tickers x Dec 2024 (21 trading days)": feed("aggregates", STOCKS[:5], "2024-12-02",
                                                         {"multiplier": 1, "timespan": "minute"}),
        "whole market daily, 1 year (groupedDaily)": feed("groupedDaily", None, "2024-01-02", None),
        f"the same year per ticker ({len(STOCKS)} sandbox stocks)": feed("aggregates", STOCKS, "2024-01-02",
                                                                        {"multiplier": 1, "timespan": "day"}),
    }  # fmt: skip
    results = []
    try:
        for name, config in scenarios.items():
            console.print(f"{name}: warming the sandbox")
            run_once(url, config)
            console.print(f"{name}: measuring")
            results.append((name, *run_once(url, config)))
    finally:
        terminate(server.pid)
        server.wait(timeout=10)

    table = Table(title="ingest: sandbox -> massive client -> Parquet (file://), one process, 2 cores")
    for column in ("scenario", "rows", "API calls", "seconds", "rows/s"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for name, rows, requests, seconds in results:
        table.add_row(name, f"{rows:,}", str(requests), f"{seconds:.1f}", f"{rows / seconds:,.0f}")
    publish(table, width=130)
    Console(width=130).print(
        "groupedDaily costs one call per trading day whatever the size of the market; per-ticker calls grow "
        "with the number of tickers (the sandbox has few, the US market thousands)."
    )


if __name__ == "__main__":
    main()
