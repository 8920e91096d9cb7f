"""`anthill ingest run` SIGKILLed while it writes bronze: the next run leaves the lake exactly as an
uninterrupted run would, with nothing duplicated, lost or left half-written, and a backfill killed part way
keeps what it finished."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from anthill_devkit.controlplane import wait_for
from anthill_ingest.calendar import previous_trading_day
from anthill_sandbox.server import SandboxServer
from tests.integration.ingest.conftest import feed_doc

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TODAY = "2024-07-01"


def ingest(feed: Path, sandbox: SandboxServer, log: Path, *options: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MASSIVE_API_KEY": "sandbox", "ANTHILL_MARKET_DATA_URL": sandbox.url,
           "ANTHILL_TERMINATION_LOG": str(log)}  # fmt: skip
    command = [
        str(Path(sys.executable).parent / "anthill"),
        "ingest",
        "run",
        "--feed",
        str(feed),
        "--today",
        TODAY,
        *options,
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }


def test_killed_while_writing_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    tickers = ["AAPL", "MSFT", "NVDA", "JPM", "XOM", "KO"]
    feeds = {}
    for name in ("killed", "clean"):
        lake = tmp_path / name
        doc = feed_doc("daily", f"file://{lake}", tickers=tickers, backfill={"from": "2019-01-02"})
        feeds[name] = tmp_path / f"{name}.yaml"
        feeds[name].write_text(yaml.safe_dump(doc))

    reference = ingest(feeds["clean"], sandbox, tmp_path / "clean.log")
    assert reference.wait(timeout=300) == 0

    bronze = tmp_path / "killed" / "bronze"
    victim = ingest(feeds["killed"], sandbox, tmp_path / "killed.log")
    # Partitions are written after the fetch; kill as soon as the first ones land.
    wait_for(lambda: bronze.exists() and any(bronze.rglob("*.parquet")), 300, "the first bronze partitions")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    written = files(tmp_path / "killed")
    if any(key.startswith("_state/") for key in written):
        pytest.skip("the kill landed after the run had finished: nothing was interrupted")

    rerun = ingest(feeds["killed"], sandbox, tmp_path / "rerun.log")
    assert rerun.wait(timeout=300) == 0
    assert files(tmp_path / "killed") == files(tmp_path / "clean")


def _bronze(root: Path) -> dict[str, bytes]:
    return {key: body for key, body in files(root).items() if key.startswith("bronze/")}


def test_a_backfill_killed_after_some_chunks_resumes_from_the_last_one(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    """A backfill bigger than the memory it may hold is written chunk by chunk (here 10 trading days of 2
    tickers), each followed by the watermark. SIGKILLed part way (as the OOM killer would), it keeps what it
    wrote: every object in the lake is whole, the watermark names the end of a chunk whose days are all there,
    and the next run starts from it (less the lookback), not from backfill.from, ending as a run never killed."""
    feeds = {}
    for name in ("killed", "clean"):
        doc = feed_doc("daily", f"file://{tmp_path / name}", backfill={"from": "2024-01-02"})
        feeds[name] = tmp_path / f"{name}.yaml"
        feeds[name].write_text(yaml.safe_dump(doc))
    # The reference run uses the default chunk size: how a window is cut never changes what lands in bronze.
    assert ingest(feeds["clean"], sandbox, tmp_path / "clean.log").wait(timeout=300) == 0
    clean = _bronze(tmp_path / "clean")

    sandbox.state.faults.delay = 0.05  # slow enough that the kill lands while chunks remain
    state = tmp_path / "killed" / "_state" / "market" / "daily.json"
    victim = ingest(feeds["killed"], sandbox, tmp_path / "killed.log", "--chunk-rows", "20")
    wait_for(lambda: state.exists() or victim.poll() is not None, 300, "the first chunk's watermark")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    sandbox.state.faults.delay = 0
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed part way"

    watermark = datetime.date.fromisoformat(json.loads(state.read_text())["watermark"])
    assert watermark < datetime.date(2024, 6, 28)
    killed = _bronze(tmp_path / "killed")
    assert all(body == clean[key] for key, body in killed.items())  # nothing half-written or different
    finished = {key for key in clean if key.split("date=")[1][:10] <= str(watermark)}
    assert finished <= set(killed)  # every day up to the watermark is there

    rerun = ingest(feeds["killed"], sandbox, tmp_path / "rerun.log", "--chunk-rows", "20")
    assert rerun.wait(timeout=300) == 0
    resumed_from = previous_trading_day(previous_trading_day(watermark))
    assert json.loads((tmp_path / "rerun.log").read_text())["window"]["from"] == str(resumed_from)
    assert _bronze(tmp_path / "killed") == clean
    assert json.loads(state.read_text())["watermark"] == "2024-06-28"
