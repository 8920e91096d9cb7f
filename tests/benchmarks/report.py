"""How every benchmark prints its table, and hands its figures to `python -m tests.benchmarks` as JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

FIGURES_ENV = "ANTHILL_BENCHMARK_FIGURES"


def _plain(cell: object) -> str:
    return str(getattr(cell, "plain", cell))


def publish(table: Table, width: int | None = None) -> None:
    """Print ``table``; with $ANTHILL_BENCHMARK_FIGURES set, also write its column headers and rows there."""
    Console(width=width).print(table)
    target = os.environ.get(FIGURES_ENV)
    if not target:
        return
    columns = [[_plain(cell) for cell in column.cells] for column in table.columns]
    rows = [list(row) for row in zip(*columns, strict=True)]
    headers = [_plain(column.header) for column in table.columns]
    Path(target).write_text(
        json.dumps({"title": _plain(table.title or ""), "columns": headers, "rows": rows})
    )
