"""Benchmark the local control plane: start time with a warm tool cache, idle memory, stop time.

    .venv/bin/python -m tests.benchmarks.controlplane [--runs 5] [--idle 30]

Prints one table. Start time is from spawning etcd to the controller manager answering /healthz (the same
moment `anthill dev cluster up` reports); RSS is read from /proc after the cluster has idled.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from anthill_devkit.controlplane import Binaries, ControlPlane, rss_bytes
from anthill_devkit.toolchain import CONTROL_PLANE_TOOLS, Toolchain
from tests.benchmarks.report import publish


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="control planes to start one after another")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds to idle before reading RSS")
    args = parser.parse_args()

    console = Console(stderr=True)
    toolchain = Toolchain.from_environment()
    binaries = Binaries(*(toolchain.ensure(tool) for tool in CONTROL_PLANE_TOOLS))
    starts: list[float] = []
    stops: list[float] = []
    rss: dict[str, int] = {}
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="anthill-bench-") as workdir:
            plane = ControlPlane(binaries=binaries, workdir=Path(workdir))
            plane.start()
            starts.append(plane.started_in)
            console.print(f"run {run}/{args.runs}: ready in {plane.started_in:.2f}s")
            if run == args.runs:
                console.print(f"idling {args.idle:.0f}s before reading RSS")
                time.sleep(args.idle)  # the measurement is of an idle cluster: waiting is the point
                rss = {name: rss_bytes(pid) or 0 for name, pid in plane.pids.items()}
            began = time.monotonic()
            plane.stop()
            stops.append(time.monotonic() - began)

    table = Table(title=f"local control plane ({args.runs} runs, warm tool cache)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("start, median", f"{statistics.median(starts):.2f} s")
    table.add_row("start, min / max", f"{min(starts):.2f} / {max(starts):.2f} s")
    table.add_row("stop, median", f"{statistics.median(stops):.2f} s")
    for name, value in rss.items():
        table.add_row(f"RSS {name} (idle {args.idle:.0f}s)", f"{value / 2**20:.0f} MiB")
    table.add_row("RSS total", f"{sum(rss.values()) / 2**20:.0f} MiB")
    publish(table)


if __name__ == "__main__":
    main()
