"""Benchmark a busy ticker-day of trades: every tick of one stock's day, as a MarketFeed pod fetches it.

    .venv/bin/python -m tests.benchmarks.ticks

`anthill ingest run` of a `trades` feed in a child process against the sandbox API (its own process, ticking
N times a second per ticker around the clock, so a New York day holds 86,400 x N trades), through the real
client, into a `file://` lake. The figures are the trades per second from request to Parquet and the child's
peak resident set (wait4's rusage): a day is written page by page, so memory must not grow with the day's size.
Exits 1 when the largest day needs more than the target.
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
from tests.benchmarks.report import publish

ANTHILL = str(Path(sys.executable).parent / "anthill")
DAY = "2024-07-09"
TODAY = "2024-07-10"
RATES = (5, 25)  # trades a second: 432,000 and 2,160,000 in the day
TARGET_MIB = 512  # half the ingest pod's default 1Gi limit, whatever the day's size


@dataclass(frozen=True)
class Figures:
    rate: int
    rows: int
    seconds: float
    peak_mib: float


def day_of_trades(rate: int, workdir: Path) -> Figures:
    (port, stream_port) = free_ports(2)
    server = subprocess.Popen([ANTHILL, "sandbox", "market-data", "--port", str(port), "--stream-port",
                               str(stream_port), "--stream-rate", str(rate)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: probe(f"{url}/_sandbox/stats"), 30, "the sandbox")
        feed = workdir / "feed.yaml"
        feed.write_text(yaml.safe_dump({
            "apiVersion": "anthill.io/v1alpha1", "kind": "MarketFeed",
            "metadata": {"name": "ticks", "namespace": "bench"},
            "spec": {"dataset": "trades", "tickers": ["AAPL"], "schedule": "@daily", "backfill": {"from": DAY},
                     "destination": {"uri": f"file://{workdir / 'lake'}"}, "apiKeySecretRef": {"name": "k", "key": "k"}},
        }))  # fmt: skip
        summary = workdir / "termination-log"
        env = {**os.environ, "MASSIVE_API_KEY": "sandbox", "ANTHILL_MARKET_DATA_URL": url,
               "ANTHILL_TERMINATION_LOG": str(summary)}  # fmt: skip
        started = time.perf_counter()
        child = subprocess.Popen([ANTHILL, "ingest", "run", "--feed", str(feed), "--today", TODAY], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    finally:
        terminate(server.pid)
        server.wait(timeout=10)
    result = json.loads(summary.read_text())
    if child.returncode != 0 or result["result"] != "Succeeded":
        raise SystemExit(f"rate {rate}: the run failed (exit {child.returncode}): {result}")
    return Figures(rate, result["rows"], seconds, usage.ru_maxrss / 1024)


def main() -> None:
    console = Console(stderr=True)
    results = []
    for rate in RATES:
        console.print(f"one ticker-day of trades at {rate} a second: running")
        with tempfile.TemporaryDirectory(prefix="anthill-ticks-") as workdir:
            results.append(day_of_trades(rate, Path(workdir)))
    table = Table(title=f"a busy ticker-day: AAPL's trades of {DAY}, `anthill ingest run` in a child process")
    for column in ("trades a second", "trades", "wall s", "trades/s", "peak RSS MiB"):
        table.add_column(column, justify="right")
    for figures in results:
        table.add_row(str(figures.rate), f"{figures.rows:,}", f"{figures.seconds:.0f}",
                      f"{figures.rows / figures.seconds:,.0f}", f"{figures.peak_mib:.0f}")  # fmt: skip
    publish(table, width=120)
    largest = results[-1]
    Console(width=120).print(
        f"Target: the largest day under {TARGET_MIB} MiB, {'met' if largest.peak_mib < TARGET_MIB else 'MISSED'}."
    )
    if largest.peak_mib >= TARGET_MIB:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
