"""`anthill demo` end to end, as `make demo` runs it: sandbox API -> bronze -> silver -> gold -> summary and report.

A smaller manifest than the example (three stocks and the indices since mid-2025) keeps it quick; the code
path is the one the example takes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from anthill_devkit.controlplane import Binaries
from tests.helpers import REPO, anthill
from tests.integration.devkit.browser import ensure_chromium, measure, problems, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# What Spark's JVM prints on its own at start-up (Hadoop's native-library notice, log4j's profile line, the
# shell's log-level hint, the JVM's incubator-module warning): none of it is Anthill's to show by default.
SPARK_NOISE = ("NativeCodeLoader", "log4j", "Setting default log level", "incubator")


def small_manifest(tmp_path: Path, tickers: list[str], since: str) -> Path:
    """The example manifest with fewer stocks and a later backfill: the same code path, quicker."""
    docs = list(yaml.safe_load_all((REPO / "examples" / "demo.yaml").read_text()))
    for doc in docs:
        spec = doc["spec"]
        if "tickers" in spec and spec["assetClass"] == "stocks":
            spec["tickers"] = tickers
        if "backfill" in spec:
            spec["backfill"] = {"from": since}
    manifest = tmp_path / "demo.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    return manifest


def demo_args(tmp_path: Path, manifest: Path, lake: Path) -> list[str]:
    """`anthill demo` on ``manifest`` into a lake at ``lake``, the report beside it as r.html."""
    return [
        "demo",
        "--manifest",
        str(manifest),
        "--lake",
        f"file://{lake}",
        "--report",
        str(tmp_path / "r.html"),
    ]


def sandbox_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("MASSIVE_API_KEY", "POLYGON_API_KEY")}


def summary_tables(terminal: str) -> list[str]:
    """The lines of the summary tables the demo draws (box characters first), whatever is printed around them."""
    return [line for line in terminal.splitlines() if line.startswith(tuple("┏┃┡│└"))]


def test_demo_ingests_refines_summarises_and_reports(tmp_path: Path) -> None:
    manifest = small_manifest(tmp_path, ["AAPL", "NVDA", "KO"], "2025-06-02")
    env = sandbox_env()
    lake = tmp_path / "lake"
    args = demo_args(tmp_path, manifest, lake)

    first = anthill(*args, env=env, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    out = first.stderr
    assert "the sandbox server" in out
    assert re.search(r"bronze: [\d,]+ rows from \d+ API requests", out)
    for ticker in ("AAPL", "NVDA", "KO", "I:NDX", "I:COMP"):
        assert re.search(rf"│ {re.escape(ticker)} +│ +[\d,.]+ │", out), ticker
    assert f"report: {tmp_path / 'r.html'}" in out.replace("\n", "")
    report = (tmp_path / "r.html").read_text()
    assert report.count("<svg") == 2 + 5  # breadth, drawdowns, one price chart per ticker
    # As a browser draws it: nothing cut off or overlapping; r.png beside it is there to look at.
    rendered = measure(ensure_chromium(), tmp_path / "r.html", tmp_path)
    screenshot(ensure_chromium(), tmp_path / "r.html", tmp_path / "r.png", rendered.height)
    assert problems(rendered) == []
    assert (lake / "gold" / "yearly_performance" / "_delta_log").is_dir()

    # By default the terminal is Anthill's: progress bars, the summary, the report's path; Spark's own
    # start-up notices and logs go to a file the demo names, so nothing is lost.
    terminal = first.stdout + first.stderr
    assert "silver and gold written" in terminal
    assert [marker for marker in SPARK_NOISE if marker in terminal] == [], terminal[-3000:]
    log = tmp_path / "spark.log"
    assert f"Spark's log: {log}" in terminal.replace("\n", "")
    assert any(marker in log.read_text() for marker in SPARK_NOISE)  # moved out of sight, not lost

    # Again, with --verbose (how a user asks for Spark's logs, which then reach the terminal as Spark prints
    # them): nothing new to fetch, every table up to date, the same summary.
    second = anthill(*args, "--verbose", env=env, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "bronze: 0 rows" in second.stderr
    verbose = second.stdout + second.stderr
    assert [marker for marker in SPARK_NOISE if marker in verbose], verbose[-3000:]
    assert summary_tables(second.stderr) == summary_tables(out) != []


def test_demo_refuses_a_remote_lake_with_a_clear_error() -> None:
    result = anthill("demo", "--lake", "s3://bucket/lake", env=dict(os.environ))
    assert result.returncode == 1
    assert "the demo runs on a local lake (file:///...), not s3://bucket/lake" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_on_the_cluster_shows_every_resource_ready(binaries: Binaries, tmp_path: Path) -> None:
    env = {**os.environ, "ANTHILL_STATE_DIR": str(tmp_path / "state")}
    env.pop("KUBECONFIG", None)
    try:
        result = anthill("demo", "--cluster", env=env, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        lines = [line.split() for line in result.stdout.splitlines() if "anthill.io/" in line]
        names = [line[0] for line in lines]
        assert names == [
            f"marketfeed.anthill.io/demo-{feed}"
            for feed in ("dividends", "equities", "indices", "splits", "unadjusted")
        ] + ["medallionpipeline.anthill.io/demo"]
        assert all(line[1:3] == ["True", "True"] for line in lines), result.stdout
    finally:
        anthill("dev", "cluster", "down", env=env)


def test_stream_demo_shows_events_per_second_and_minute_bars(tmp_path: Path) -> None:
    """`anthill demo --stream`, as `make demo-stream` runs it (shorter): the stream's reports as they come,
    Spark refining what landed, and the last minutes' bars after SIGTERM flushed the rest."""
    lake = tmp_path / "lake"
    result = anthill("demo", "--stream", "--seconds", "10", "--lake", f"file://{lake}", env=sandbox_env(),
                     timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stderr
    assert re.search(r"stream: +[\d,]+ events/s +[\d,]+ rows in bronze", output), output
    assert "stopping the stream (SIGTERM" in output
    assert "gold.intraday_bars, the last 3 minutes" in output
    assert not any(noise in output for noise in SPARK_NOISE), output
    assert list((lake / "bronze/demo/demo-live/trades/stream").rglob("*.parquet"))
    assert (lake / "_state/demo/streams/demo-live.json").exists()
    assert (tmp_path / "stream.log").exists()  # the process's own log, beside the lake
