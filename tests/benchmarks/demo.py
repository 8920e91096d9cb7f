"""Benchmark `anthill demo`: a first run into a fresh lake, then runs with nothing new, this tree beside a baseline.

    .venv/bin/python -m tests.benchmarks.demo [--baseline main] [--runs 2]

Each tree runs the example manifest (examples/demo.yaml, from this tree for both) as `make demo` does, from the
sandbox server, in a process of its own with that tree's packages first on its path (the baseline's from
``git archive <ref>``), into a lake of its own. The first run ingests the whole backfill and builds every table;
the later ones find nothing new, the case of a second `make demo`. Caches outside the lake (Delta's jars, the
Python environment) are warm for both: run `make demo` once first. Each row gives the wall time of the whole
command and the two phases the demo reports itself.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.benchmarks.report import REPO, baseline_sources, publish, revision

PACKAGES = ("crds/src", "ingest/src", "spark/src", "devkit/src", "sandbox/src")
# Runs the `anthill` command after saying which packages it imported, so a row cannot name the wrong tree.
LAUNCH = (
    "import sys, anthill_devkit, anthill_spark\n"
    "print('packages:', anthill_devkit.__file__, anthill_spark.__file__, file=sys.stderr)\n"
    "from anthill_api.command import main\n"
    "sys.exit(main())"
)


@dataclass(frozen=True)
class DemoRun:
    wall_s: float
    ingest_s: float
    spark_s: float
    rows: int


def demo(sources: list[Path] | None, folder: Path) -> DemoRun:
    """One `anthill demo` of the example manifest into ``folder``/lake, with ``sources`` (None: this tree's
    packages) first on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("MASSIVE_API_KEY", "POLYGON_API_KEY")}
    if sources is not None:
        env["PYTHONPATH"] = os.pathsep.join(str(path) for path in sources)
    command = [sys.executable, "-c", LAUNCH, "demo", "--manifest", str(REPO / "examples" / "demo.yaml"),
               "--lake", f"file://{folder / 'lake'}", "--report", str(folder / "report.html")]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"anthill demo failed with exit {result.returncode}:\n{result.stderr[-3000:]}")
    output = result.stderr.replace("\n", "")
    expected = [str(path) for path in sources] if sources is not None else [str(REPO)]
    packages = re.search(r"packages: (\S+) (\S+)", output)
    if packages is None or not all(any(p.startswith(e) for e in expected) for p in packages.groups()):
        raise SystemExit(
            f"the demo ran {packages.groups() if packages else '?'}, not the packages under {expected}"
        )
    bronze = re.search(r"bronze: ([\d,]+) rows from [\d,]+ API requests \(([\d.]+)s\)", output)
    spark = re.search(r"silver and gold written \(([\d.]+)s\)", output)
    if bronze is None or spark is None:
        raise SystemExit(f"the demo's output lacks its phase times:\n{result.stderr[-3000:]}")
    return DemoRun(wall, float(bronze[2]), float(spark[1]), int(bronze[1].replace(",", "")))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref whose packages are the baseline")
    parser.add_argument(
        "--runs", type=int, default=2, help="runs per tree: the first, then ones with nothing new"
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    console = Console(stderr=True)
    results: dict[str, list[DemoRun]] = {}
    with tempfile.TemporaryDirectory(prefix="anthill-bench-demo-") as tmp:
        root = Path(tmp)
        baseline = baseline_sources(args.baseline, root / "baseline", PACKAGES)
        for tree, sources in ((f"baseline {revision(args.baseline)}", baseline), ("this tree", None)):
            folder = root / ("baseline-lake" if sources else "this-lake")
            for attempt in range(1, args.runs + 1):
                with console.status(f"{tree}: run {attempt}/{args.runs}"):
                    results.setdefault(tree, []).append(demo(sources, folder))
                console.print(f"{tree}: run {attempt}: {results[tree][-1].wall_s:.1f}s")
    table = Table(title="anthill demo (examples/demo.yaml, sandbox market data, local Spark): wall seconds")
    for column in ("tree", "run", "whole command", "ingest", "Spark", "rows ingested"):
        table.add_column(column, justify="left" if column in ("tree", "run") else "right")
    for tree, runs in results.items():
        for attempt, run in enumerate(runs, start=1):
            label = "first (fresh lake)" if attempt == 1 else f"{attempt} (nothing new)"
            table.add_row(tree, label, f"{run.wall_s:.1f}", f"{run.ingest_s:.1f}", f"{run.spark_s:.1f}",
                          f"{run.rows:,}")  # fmt: skip
    publish(table)


if __name__ == "__main__":
    main()
