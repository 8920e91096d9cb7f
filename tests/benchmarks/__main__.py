"""Run every benchmark and print their figures in one table.

    .venv/bin/python -m tests.benchmarks [--only operator,spark] [-- extra arguments are not forwarded]

Each benchmark runs as its own process (`python -m tests.benchmarks.<name>`, its default sizes), prints its
own table as it finishes, and hands its figures back; the combined table comes last. Benchmarks measure on
this machine: run them on an otherwise idle one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.benchmarks.report import FIGURES_ENV

BENCHMARKS = {
    "controlplane": "local control plane: start time and idle memory",
    "operator": "MarketFeed operator: 500 feeds to Ready, idle API writes, spec-edit latency, RSS",
    "pipeline": "MedallionPipeline operator: 200 pipelines to Ready, Jobs API calls per idle poll",
    "ingest": "ingestion: bars/s and API calls per backfill",
    "stream": "streaming: WebSocket events/s into bronze, flush lag p99 and RSS",
    "backfill": "a large backfill: peak RSS of 1 and 5 years of minute bars for 20 tickers",
    "ticks": "a busy ticker-day of trades: trades/s and peak RSS, page by page",
    "spark": "medallion jobs: full vs incremental build, DuckDB reference",
    "demo": "anthill demo: a first run, then one with nothing new, beside a baseline",
    "node": "real node: start to Ready, image rebuilds and sizes, feed apply to bronze by a real pod",
}
REPO = Path(__file__).resolve().parents[2]


def _value(columns: list[str], row: list[str]) -> str:
    """A two-column table's value as it is; a wider one's cells named by their headers."""
    if len(row) == 2:
        return row[1]
    return ", ".join(f"{header} {cell}" for header, cell in zip(columns[1:], row[1:], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS)
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; available: {', '.join(BENCHMARKS)}")
    console = Console(stderr=True)
    combined = Table(title="Anthill benchmarks")
    for column in ("benchmark", "figure", "value"):
        combined.add_column(column, justify="right" if column == "value" else "left")
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="anthill-benchmarks-") as tmp:
        for name in chosen:
            console.rule(f"{name}: {BENCHMARKS[name]}")
            figures = Path(tmp) / f"{name}.json"
            started = time.monotonic()
            result = subprocess.run([sys.executable, "-m", f"tests.benchmarks.{name}"], cwd=REPO, check=False,
                                    env={**os.environ, FIGURES_ENV: str(figures)})  # fmt: skip
            seconds = time.monotonic() - started
            if result.returncode != 0 or not figures.exists():
                failed.append(name)
                combined.add_row(name, "FAILED", f"exit {result.returncode}")
                continue
            published = json.loads(figures.read_text())
            for index, row in enumerate(published["rows"]):
                combined.add_row(name if index == 0 else "", row[0], _value(published["columns"], row))
            combined.add_row("", "(benchmark wall time)", f"{seconds:.0f} s", end_section=True)
    Console().print(combined)
    if failed:
        console.print(f"[red]failed:[/] {', '.join(failed)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
