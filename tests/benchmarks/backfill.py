"""Benchmark a large backfill's memory: minute bars of 20 tickers for 1 and 5 years, as a pod runs them.

    .venv/bin/python -m tests.benchmarks.backfill

Each backfill is `anthill ingest run` in a child process (the CronJob pod's command) against the sandbox API
through the real client, into a `file://` lake; its peak RSS is the child's own maximum resident set, as the
kernel accounts it (wait4's rusage), which is what a pod's memory limit is held against. The sandbox runs as
its own process, so generating the data is not counted against the run. The last scenario cuts nothing (one
chunk holds the whole window), which is how every run went before backfills were written chunk by chunk.
Exits 1 when the year does not stay under the target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from anthill_devkit.controlplane import free_ports, probe, terminate, wait_for
from anthill_ingest.runner import CHUNK_ROWS
from anthill_sandbox import data
from tests.benchmarks.report import publish

TODAY = "2025-01-02"
TICKERS = [t for t, i in data.INSTRUMENTS.items() if i.market == "stocks"][:20]
TARGET_MIB = 512  # a year of minute bars must fit in half the default 1Gi limit
ANTHILL = str(Path(sys.executable).parent / "anthill")


@dataclass(frozen=True)
class Scenario:
    name: str
    backfill_from: str
    chunk_rows: int = CHUNK_ROWS


@dataclass(frozen=True)
class Figures:
    rows: int
    requests: int
    seconds: float
    peak_mib: float


def backfill(url: str, scenario: Scenario, workdir: Path) -> Figures:
    """Run ``scenario`` as a child process into a fresh lake under ``workdir``; its figures."""
    lake = workdir / "lake"
    feed = workdir / "feed.yaml"
    feed.write_text(yaml.safe_dump({
        "apiVersion": "anthill.io/v1alpha1", "kind": "MarketFeed",
        "metadata": {"name": "minutes", "namespace": "bench"},
        "spec": {"dataset": "aggregates", "assetClass": "stocks", "tickers": TICKERS,
                 "bars": {"multiplier": 1, "timespan": "minute"}, "schedule": "@daily",
                 "backfill": {"from": scenario.backfill_from}, "destination": {"uri": f"file://{lake}"},
                 "apiKeySecretRef": {"name": "k", "key": "k"}},
    }))  # fmt: skip
    summary = workdir / "termination-log"
    env = {**os.environ, "MASSIVE_API_KEY": "sandbox", "ANTHILL_MARKET_DATA_URL": url,
           "ANTHILL_TERMINATION_LOG": str(summary), "ANTHILL_CHUNK_ROWS": str(scenario.chunk_rows)}  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen([ANTHILL, "ingest", "run", "--feed", str(feed), "--today", TODAY], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    result = json.loads(summary.read_text())
    if child.returncode != 0 or result["result"] != "Succeeded":
        raise SystemExit(f"{scenario.name}: the run failed (exit {child.returncode}): {result}")
    return Figures(result["rows"], result["requests"], seconds, usage.ru_maxrss / 1024)  # ru_maxrss is KiB


def main() -> None:
    console = Console(stderr=True)
    (port,) = free_ports(1)
    server = subprocess.Popen([ANTHILL, "sandbox", "market-data", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: probe(f"{url}/_sandbox/stats"), 30, "the sandbox")
    scenarios = [
        Scenario("1 year (2024)", "2024-01-02"),
        Scenario("5 years (2020-2024)", "2020-01-02"),
        Scenario("1 year, whole window in one chunk (as before)", "2024-01-02", chunk_rows=10**9),
    ]
    results = []
    try:
        for scenario in scenarios:
            console.print(f"minute bars, {len(TICKERS)} tickers, {scenario.name}: running")
            with tempfile.TemporaryDirectory(prefix="anthill-backfill-") as workdir:
                results.append((scenario, backfill(url, scenario, Path(workdir))))
    finally:
        terminate(server.pid)
        server.wait(timeout=10)

    table = Table(
        title=f"backfill: minute bars of {len(TICKERS)} tickers, `anthill ingest run` in a child process"
    )
    for column in ("scenario", "rows", "API calls", "wall s", "rows/s", "peak RSS MiB"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for scenario, figures in results:
        table.add_row(scenario.name, f"{figures.rows:,}", str(figures.requests), f"{figures.seconds:.0f}",
                      f"{figures.rows / figures.seconds:,.0f}", f"{figures.peak_mib:.0f}")  # fmt: skip
    publish(table, width=130)
    year = results[0][1]
    Console(width=130).print(
        f"Chunks of at most {CHUNK_ROWS:,} rows by the ceiling of 960 minutes a stock day "
        f"({CHUNK_ROWS // (960 * len(TICKERS))} trading days); the sandbox's regular session has 390. "
        f"Target: a year under {TARGET_MIB} MiB, {'met' if year.peak_mib < TARGET_MIB else 'MISSED'}."
    )
    if year.peak_mib >= TARGET_MIB:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
