"""Benchmark ingestion: sandbox API -> massive client -> Parquet on local disk, this tree beside a baseline.

    .venv/bin/python -m tests.benchmarks.ingest [--baseline main] [--replays 5]

Every figure is a run of ``anthill_ingest`` in a child process of its own, once with this tree's package and
once with the baseline's (``git archive <ref> ingest/src``, first on the child's PYTHONPATH), each into a fresh
``file://`` lake, so the two are measured in the same run on the same machine. Two stages per scenario:

- *end to end*: the sandbox (its own process, warmed by a run before) answers over HTTP; the figure includes
  generating the JSON, which the sandbox does in Python. Peak RSS is the child's maximum resident set
  (wait4's rusage), the figure a pod's memory limit is held against.
- *parse + write*: the child first records every page's bytes from the sandbox, then runs again with the
  massive client's urllib3 pool answering from those bytes: the client, Anthill's transport, parsing, dating,
  sorting, Parquet and the lake, without the network or the sandbox. Its RSS holds the recorded pages too.
  The replay runs ``--replays`` times (each into a fresh lake) and the run of median CPU time is reported,
  for the baseline and this tree alike: one run of half a second moves by a fifth with whatever else the
  machine does at that moment.

Beside them, *fetch only*: the recorded requests sent to the sandbox again and read, nothing parsed (what the
sandbox and HTTP alone allow).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from anthill_devkit.controlplane import free_ports, probe, terminate, wait_for
from anthill_sandbox import data
from tests.benchmarks.report import REPO, baseline_sources, publish, revision

TODAY = datetime.datetime(2025, 1, 2, 12, tzinfo=datetime.UTC)
STOCKS = [t for t, i in data.INSTRUMENTS.items() if i.market == "stocks"]
SCENARIOS: dict[str, tuple[str, list[str] | None, str, dict[str, Any] | None]] = {
    "minute bars, 5 tickers x Q4 2024 (64 trading days)": ("aggregates", STOCKS[:5], "2024-10-01",
                                                          {"multiplier": 1, "timespan": "minute"}),
    f"daily bars, {len(STOCKS[:20])} tickers x 2 years": ("aggregates", STOCKS[:20], "2023-01-03",
                                                        {"multiplier": 1, "timespan": "day"}),
    "whole market daily, 1 year (groupedDaily)": ("groupedDaily", None, "2024-01-02", None),
    f"the same year per ticker ({len(STOCKS)} sandbox stocks)": ("aggregates", STOCKS, "2024-01-02",
                                                                {"multiplier": 1, "timespan": "day"}),
}  # fmt: skip


@dataclass(frozen=True)
class Figures:
    rows: int
    requests: int
    seconds: float  # wall time of the run
    cpu_seconds: float  # the child's own CPU time during the run (the sandbox's not included)
    peak_mib: float
    fetch_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    @property
    def cpu_rate(self) -> float:
        """Rows per second of one core busy with them: what the run does on an otherwise idle machine."""
        return self.rows / self.cpu_seconds


def feed(dataset: str, tickers: list[str] | None, start: str, bars: dict[str, Any] | None) -> Any:
    from anthill_api.marketfeed import MarketFeedSpec  # noqa: PLC0415 - the child's package, imported there
    from anthill_ingest.config import FeedConfig  # noqa: PLC0415

    spec: dict[str, Any] = {"dataset": dataset, "schedule": "@daily", "backfill": {"from": start},
                            "destination": {"uri": "file:///unused"},
                            "apiKeySecretRef": {"name": "k", "key": "k"}}  # fmt: skip
    if tickers:
        spec["tickers"] = tickers
    if bars:
        spec["bars"] = bars
    return FeedConfig("bench", "bench", MarketFeedSpec.model_validate(spec))


def _request_key(url: str, fields: dict[str, Any] | None) -> tuple[str, str]:
    """A request by its path and query fields (not its host: a replay may run beside another sandbox)."""
    return "/" + url.split("/", 3)[3], json.dumps(fields, sort_keys=True, default=str)


class Recorder:
    """The client's urllib3 pool, keeping every 200 body by request."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.bodies: dict[tuple[str, str], bytes] = {}

    def request(self, method: str, url: str, fields: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        response = self.pool.request(method, url, fields=fields, **kwargs)
        if response.status == 200:
            self.bodies[_request_key(url, fields)] = response.data
        return response


class Replayer:
    """A urllib3 pool answering each request with the body recorded for it."""

    def __init__(self, bodies: dict[tuple[str, str], bytes]) -> None:
        self.bodies = bodies

    def request(self, method: str, url: str, fields: dict[str, Any] | None = None, **_: Any) -> Any:
        import urllib3  # noqa: PLC0415

        body = self.bodies[_request_key(url, fields)]
        return urllib3.HTTPResponse(body=body, status=200, preload_content=True)


def _run(url: str, config: Any, pool: Any = None) -> tuple[int, int, tuple[float, float], Any]:
    """(rows, requests, (wall, CPU) seconds, the client's pool) of one run into a fresh lake; ``pool`` wraps
    the client's."""
    from anthill_ingest.client import MarketData  # noqa: PLC0415
    from anthill_ingest.runner import Run  # noqa: PLC0415
    from anthill_ingest.sink import FileSink  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="anthill-lake-") as lake:
        api = MarketData("sandbox", url, None)
        if pool is not None:
            api.pool.pool = pool(api.pool.pool)
        started, cpu = time.perf_counter(), time.process_time()
        summary = Run(config, api, FileSink(f"file://{lake}"), TODAY).execute()
        seconds = (time.perf_counter() - started, time.process_time() - cpu)
        if summary.result != "Succeeded":
            raise SystemExit(f"the run failed: {summary.to_json()}")
        return summary.rows, summary.requests, seconds, api.pool.pool


def child(args: dict[str, Any]) -> None:
    """One measurement in this process (its package is the one on PYTHONPATH); prints its figures as JSON."""
    import pyarrow as pa  # noqa: PLC0415

    import anthill_ingest  # noqa: PLC0415
    import anthill_ingest.runner  # noqa: PLC0415 - imported before the clock starts, as in a pod

    # pyarrow imports pandas, where installed, on its first conversion: process start-up, not a run's work.
    pa.array(["start-up"])
    config = feed(*SCENARIOS[args["scenario"]])
    result: dict[str, Any] = {"package": anthill_ingest.__file__}
    if args["stage"] == "http":
        result["rows"], result["requests"], result["seconds"], _ = _run(args["url"], config)
    else:
        *_, recorder = _run(args["url"], config, Recorder)
        if args.get("fetch"):
            import urllib3  # noqa: PLC0415

            pool = urllib3.PoolManager(headers={"Authorization": "Bearer sandbox"})
            started = time.perf_counter()
            for path, fields in recorder.bodies:
                pool.request("GET", args["url"] + path, fields=json.loads(fields)).data  # noqa: B018 - read the body
            result["fetch_seconds"] = time.perf_counter() - started
        bodies = recorder.bodies
        runs = [_run(args["url"], config, lambda _: Replayer(bodies)) for _ in range(args["replays"])]
        rows, requests, seconds, _ = sorted(runs, key=lambda run: run[2][1])[len(runs) // 2]
        result["rows"], result["requests"], result["seconds"] = rows, requests, seconds
        result["cpu_seconds_each"] = [run[2][1] for run in runs]
    print(json.dumps(result))


def measure(package: Path | None, scenario: str, stage: str, url: str, fetch: bool = False,
            replays: int = 1) -> Figures:  # fmt: skip
    """Run ``child`` in a process of its own with ``package`` (a folder holding ``anthill_ingest``, None: this
    tree's) first on its path; its figures and peak RSS."""
    env = dict(os.environ)
    if package is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(package), str(REPO)])
    request = json.dumps(
        {"scenario": scenario, "stage": stage, "url": url, "fetch": fetch, "replays": replays}
    )
    process = subprocess.Popen([sys.executable, "-m", "tests.benchmarks.ingest", "--child", request], cwd=REPO,
                               env=env, stdout=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    if process.returncode != 0:
        raise SystemExit(f"{scenario} ({stage}): the child failed with exit {process.returncode}")
    result = json.loads(output.decode().strip().splitlines()[-1])
    expected = str(package) if package is not None else str(REPO / "ingest" / "src")
    if not result["package"].startswith(expected):
        raise SystemExit(f"the child ran {result['package']}, not the package under {expected}")
    wall, cpu = result["seconds"]
    return Figures(result["rows"], result["requests"], wall, cpu, usage.ru_maxrss / 1024,
                   result.get("fetch_seconds"))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default="main", help="git ref whose ingest package is the baseline")
    parser.add_argument("--replays", type=int, default=5,
                        help="runs of each parse + write replay; the one of median CPU time is reported")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replays < 1:
        parser.error("--replays must be at least 1")
    if args.child:
        child(json.loads(args.child))
        return
    console = Console(stderr=True)
    (port,) = free_ports(1)
    server = subprocess.Popen([str(Path(sys.executable).parent / "anthill"), "sandbox", "market-data",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: probe(f"{url}/_sandbox/stats"), 30, "the sandbox")
    results: list[tuple[str, str, Figures, Figures]] = []
    with tempfile.TemporaryDirectory(prefix="anthill-baseline-") as folder:
        (baseline,) = baseline_sources(args.baseline, Path(folder), ("ingest/src",))
        try:
            for scenario in SCENARIOS:
                console.print(
                    f"{scenario}: parse + write (baseline, then this tree; recording warms the sandbox)"
                )
                old = measure(baseline, scenario, "replay", url, replays=args.replays)
                new = measure(None, scenario, "replay", url, fetch=True, replays=args.replays)
                results.append((scenario, "parse + write", old, new))
                console.print(f"{scenario}: end to end")
                results.append((scenario, "end to end", measure(baseline, scenario, "http", url),
                                measure(None, scenario, "http", url)))  # fmt: skip
        finally:
            terminate(server.pid)
            server.wait(timeout=10)
    report(results, revision(args.baseline), args.replays)


def report(results: list[tuple[str, str, Figures, Figures]], baseline: str, replays: int) -> None:
    table = Table(
        title=f"ingest: sandbox -> massive client -> Parquet (file://), one process; baseline {baseline}"
    )
    for column in ("scenario", "stage", "rows", "API calls", "rows/s wall (base/this)",
                   "rows per CPU-s (base/this)", "x (CPU)", "peak RSS MiB (base/this)"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("scenario", "stage") else "right")
    fetch_only = []
    for scenario, stage, old, new in results:
        if old.rows != new.rows:
            raise SystemExit(
                f"{scenario} ({stage}): {old.rows} rows in the baseline, {new.rows} in this tree"
            )
        table.add_row(scenario, stage, f"{new.rows:,}", f"{old.requests}/{new.requests}",
                      f"{old.rate:,.0f}/{new.rate:,.0f}", f"{old.cpu_rate:,.0f}/{new.cpu_rate:,.0f}",
                      f"{new.cpu_rate / old.cpu_rate:.1f}", f"{old.peak_mib:.0f}/{new.peak_mib:.0f}")  # fmt: skip
        if new.fetch_seconds:
            fetch_only.append(f"{scenario}: {new.rows / new.fetch_seconds:,.0f} rows/s")
    publish(table, width=150)
    Console(width=150).print(
        "parse + write: the pages' bytes recorded from the sandbox, replayed through the client's pool (no network, "
        f"no sandbox), the run of median CPU time of {replays}; its RSS holds the recorded pages. end to end: over "
        "HTTP from the sandbox, which generates the JSON in Python (its CPU is not the child's). Rows per CPU-s: "
        "rows over the ingest process's own CPU time, its one-core rate whatever else the machine runs. Fetch only, "
        "wall (the recorded requests again, bodies "
        "read, nothing parsed): " + "; ".join(fetch_only)
    )


if __name__ == "__main__":
    main()
