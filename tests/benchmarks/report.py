"""How every benchmark prints its table, and hands its figures to `python -m tests.benchmarks` as JSON."""

from __future__ import annotations

import json
import os
import subprocess
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


REPO = Path(__file__).resolve().parents[2]


def baseline_sources(ref: str, into: Path, folders: tuple[str, ...]) -> list[Path]:
    """``folders`` (package source roots such as ``ingest/src``) as they are at git ``ref``, extracted under
    ``into``: the paths to put first on a child's PYTHONPATH so that it runs the baseline's packages."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", ref, *folders], cwd=REPO, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return [into / folder for folder in folders]


def revision(ref: str) -> str:
    """``ref`` with its short commit, as a table names a baseline."""
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO, check=True, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    return f"{ref} ({commit})"
