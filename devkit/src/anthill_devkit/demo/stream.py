"""``anthill demo --stream``: a MarketStream for a minute, its events per second, and gold.intraday_bars
filling in.

The stream runs as its pod would, ``anthill ingest stream`` in a process of its own, against the sandbox's
WebSocket and REST servers (or Massive's, with ``MASSIVE_API_KEY``). While it streams, its StreamStats lines
are shown as they come, and every ``refresh`` seconds local Spark refines what it flushed: silver.trades,
silver.quotes, then gold.intraday_bars and gold.spreads, incrementally. At the end the process gets SIGTERM,
flushes, and the last minutes' bars are printed beside the vendor's own minute aggregates.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from anthill_api.errors import describe_validation_error
from anthill_api.lake import bronze_uri
from anthill_api.marketstream import MarketStreamSpec
from anthill_api.pipeline import MedallionPipelineSpec
from anthill_devkit.demo.run import KEY_VARIABLES, NAMESPACE, SANDBOX_KEY, DemoError, local_dir

DEFAULT_MANIFEST = Path("examples/demo-stream.yaml")
STOP_TIMEOUT = 30.0  # seconds the stream process has to flush after SIGTERM (the pod's grace is 60)
SHOWN_MINUTES = 3


@dataclass(frozen=True)
class StreamPlan:
    """The example stream and its pipeline, both at ``lake``."""

    name: str
    document: dict[str, Any]  # the MarketStream manifest, with its destination at ``lake``
    gold: list[str]
    lake: str


def load_stream_plan(manifest: Path, lake: str | None) -> StreamPlan:
    """The MarketStream and the MedallionPipeline reading it in ``manifest``; ``lake`` replaces their URIs."""
    try:
        docs = [doc for doc in yaml.safe_load_all(manifest.read_text()) if doc]
    except FileNotFoundError:
        raise DemoError(f"{manifest} does not exist (run from the repository, or pass --manifest)") from None
    streams = [doc for doc in docs if doc.get("kind") == "MarketStream"]
    pipelines = [doc for doc in docs if doc.get("kind") == "MedallionPipeline"]
    if len(streams) != 1 or len(pipelines) != 1:
        raise DemoError(f"{manifest} must hold exactly one MarketStream and one MedallionPipeline")
    try:
        spec = MarketStreamSpec.model_validate(streams[0].get("spec") or {})
        pipeline = MedallionPipelineSpec.model_validate(pipelines[0].get("spec") or {})
    except ValidationError as exc:
        raise DemoError(f"{manifest}: {describe_validation_error(exc)}") from exc
    name = (streams[0].get("metadata") or {}).get("name", "unnamed")
    if [(ref.name, ref.is_stream) for ref in pipeline.feeds] != [(name, True)]:
        raise DemoError(f"the pipeline in {manifest} must read the MarketStream {name} (kind: MarketStream)")
    target = (lake or pipeline.lake.uri).rstrip("/")
    if not target.startswith("file:///"):
        raise DemoError(f"the demo runs on a local lake (file:///...), not {target}")
    document = {
        "apiVersion": streams[0]["apiVersion"],
        "kind": "MarketStream",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec.model_copy(
            update={"destination": spec.destination.model_copy(update={"uri": target})}
        ).to_k8s(),
    }
    return StreamPlan(name, document, list(pipeline.gold), target)


@contextlib.contextmanager
def stream_sources(console: Console) -> Iterator[dict[str, str]]:
    """The environment that points the stream process at its market data: the sandbox's servers while in
    use, or Massive's own with a key in the environment."""
    for variable in KEY_VARIABLES:
        if os.environ.get(variable):
            console.print(f"market data: Massive's real-time feed (key from {variable})")
            yield {}
            return
    from anthill_sandbox.server import SandboxServer, SandboxState  # noqa: PLC0415 - only without an API key
    from anthill_sandbox.stream import StreamServer  # noqa: PLC0415

    state = SandboxState()
    rest = SandboxServer(0, state).start()
    stream = StreamServer(0, state).start()
    console.print(f"market data: the sandbox's stream at {stream.url} and REST API at {rest.url} "
                  "(set MASSIVE_API_KEY for real data)")  # fmt: skip
    try:
        yield {"ANTHILL_MARKET_STREAM_URL": stream.url, "ANTHILL_MARKET_DATA_URL": rest.url,
               "MASSIVE_API_KEY": SANDBOX_KEY}  # fmt: skip
    finally:
        stream.stop()
        rest.stop()


class StreamProcess:
    """``anthill ingest stream`` in a process of its own; its StreamStats lines go to ``on_report``, the rest
    of its log to ``log``."""

    def __init__(self, config: Path, env: dict[str, str], log: Path, console: Console) -> None:
        command = [str(Path(sys.executable).parent / "anthill"), "ingest", "stream", "--stream", str(config)]
        self.console = console
        self.latest: dict[str, Any] = {}
        self._log = log.open("w")
        self.process = subprocess.Popen(command, env={**os.environ, **env}, stdout=self._log,
                                        stderr=subprocess.PIPE, text=True)  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr or ():
            self._log.write(line)
            self._log.flush()
            with contextlib.suppress(ValueError):
                body = json.loads(line)
                if isinstance(body, dict) and body.get("event") == "StreamStats":
                    # A report follows each flush and each idle interval: show the ones that say something new.
                    if (body.get("rowsFlushed"), body.get("state")) != (
                        self.latest.get("rowsFlushed"), self.latest.get("state")):  # fmt: skip
                        self._show(body)
                    self.latest = body

    def _show(self, body: dict[str, Any]) -> None:
        if body.get("state") != "Streaming":
            self.console.print(f"stream: {body.get('state')} {body.get('reason') or ''}".rstrip())
            return
        lag = body.get("flushLagSeconds")
        self.console.print(f"stream: {body.get('messagesPerSecond', 0):>9,.0f} events/s   "
                           f"{body.get('rowsFlushed', 0):>9,} rows in bronze   "
                           f"flush lag p99 {'-' if lag is None else f'{lag:.2f} s'}")  # fmt: skip

    def stop(self) -> int:
        """SIGTERM, as Kubernetes stops a pod: the process flushes what it holds and exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(timeout=5)
        self._log.close()
        return code


def run_stream_demo(manifest: Path, lake: str | None, seconds: float, refresh: float, console: Console,
                    verbose: bool = False) -> None:  # fmt: skip
    """Stream for ``seconds``, refining every ``refresh`` seconds; print the last minutes' bars."""
    from anthill_spark.lake import Lake  # noqa: PLC0415 - PySpark loads here
    from anthill_spark.session import local_session  # noqa: PLC0415

    plan = load_stream_plan(manifest, lake)
    folder = local_dir(plan.lake)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "stream.json"
    config.write_text(json.dumps(plan.document, indent=2) + "\n")
    console.print(f"lake: {plan.lake}  (stream {plan.name}: {', '.join(plan.document['spec']['channels'])} of "
                  f"{', '.join(plan.document['spec']['tickers'])})")  # fmt: skip
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    with console.status("starting Spark (the first run fetches Delta's jars)"):
        session = local_session("anthill-demo-stream", jvm_log=None if verbose else folder / "spark.log")
    target = Lake(plan.lake)
    source = [bronze_uri(plan.lake, NAMESPACE, plan.name)]
    try:
        with stream_sources(console) as env:
            process = StreamProcess(config, env, folder / "stream.log", console)
            started = time.monotonic()
            next_refresh = started + refresh
            while (now := time.monotonic()) < started + seconds:
                if now >= next_refresh:
                    _refine(session, target, source, plan.gold, console)
                    next_refresh = time.monotonic() + refresh
                with contextlib.suppress(subprocess.TimeoutExpired):  # until the next refresh, or its exit
                    code = process.process.wait(timeout=max(0.0, min(next_refresh, started + seconds) - now))
                    raise DemoError(f"the stream process exited ({code}); its log: {folder / 'stream.log'}")
            console.print("stopping the stream (SIGTERM: it flushes what it holds)")
            code = process.stop()
            if code != 0:
                raise DemoError(
                    f"the stream process exited {code} after SIGTERM; its log: {folder / 'stream.log'}"
                )
        _refine(session, target, source, plan.gold, console)
        _show_bars(session, target, console)
    finally:
        session.stop()


def _refine(session: Any, lake: Any, source: list[str], gold: list[str], console: Console) -> None:
    from anthill_spark.jobs.gold import silver_to_gold  # noqa: PLC0415
    from anthill_spark.jobs.silver import bronze_to_silver  # noqa: PLC0415

    started = time.monotonic()
    try:
        counts = bronze_to_silver(session, lake, source)
    except FileNotFoundError:
        console.print("spark: nothing flushed yet")
        return
    results = silver_to_gold(session, lake, gold)
    built = ", ".join(f"gold.{name} {result.mode}" for name, result in results.items())
    console.print(f"spark: silver.trades +{counts.get('trades', 0):,}, silver.quotes +{counts.get('quotes', 0):,}; "
                  f"{built} ({time.monotonic() - started:.1f}s)")  # fmt: skip


def _show_bars(session: Any, lake: Any, console: Console) -> None:
    from anthill_spark.lake import read_table, table_exists  # noqa: PLC0415

    if not table_exists(session, lake, "gold", "intraday_bars"):
        raise DemoError("no gold.intraday_bars: the stream flushed no trades (see its log)")
    bars = read_table(session, lake, "gold", "intraday_bars")
    last = (bars.selectExpr("max(minute)").first() or [None])[0]
    shown = bars.where(f"minute > timestamp'{last:%Y-%m-%d %H:%M:%S}' - INTERVAL {SHOWN_MINUTES} MINUTES")
    table = Table(title=f"gold.intraday_bars, the last {SHOWN_MINUTES} minutes (UTC)")
    for column in ("ticker", "minute", "open", "high", "low", "close", "volume", "trades", "vendor"):
        table.add_column(column, justify="left" if column in ("ticker", "minute") else "right")
    for row in shown.orderBy("ticker", "minute").collect():
        check = {True: "agrees", False: "differs", None: "-"}[row["matches_vendor"]]
        table.add_row(row["ticker"], f"{row['minute']:%H:%M}", f"{row['open']:,.2f}", f"{row['high']:,.2f}",
                      f"{row['low']:,.2f}", f"{row['close']:,.2f}", f"{row['volume']:,.0f}", f"{row['trades']:,}",
                      check)  # fmt: skip
    console.print(table)
    console.print("A minute still open when the stream stopped has no vendor bar yet; one whose first seconds came "
                  "before the stream started differs from it.")  # fmt: skip
