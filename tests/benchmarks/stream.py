"""Benchmark streaming: sandbox WebSocket server -> `anthill ingest stream` -> Parquet on local disk.

    .venv/bin/python -m tests.benchmarks.stream [--seconds 20] [--rates 100,1000,4000]

The sandbox runs as its own process (`anthill sandbox market-data`, its generation is not counted against the
stream) and the stream as the pod runs it, subscribed to trades and quotes of every sandbox stock ('*'). Per
rate: the rows it flushes per second once warm (from its StreamStats lines), the worst p99 flush
lag of those flushes, its peak RSS, and its reconnects (the server drops a consumer too slow for it).
A first row measures the parsing and writing alone, in this process: the ceiling the connection cannot beat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from anthill_devkit.controlplane import free_ports, probe, terminate, wait_for
from anthill_ingest.sink import FileSink
from anthill_ingest.stream.bronze import write_batch
from anthill_ingest.stream.buffer import Buffer
from anthill_sandbox import data
from tests.benchmarks.report import publish

STOCKS = [t for t, i in data.INSTRUMENTS.items() if i.market == "stocks"]
ANTHILL = str(Path(sys.executable).parent / "anthill")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def synthetic_events(count: int, base_ms: int) -> list[dict[str, Any]]:
    """Stock trades and quotes, alternating, over the sandbox's stocks."""
    out: list[dict[str, Any]] = []
    for i in range(count):
        ticker, ms = STOCKS[i % len(STOCKS)], base_ms + i // 10 if base_ms else 0
        if i % 2:
            out.append({"ev": "T", "sym": ticker, "i": str(i), "x": 4, "p": 190.25, "s": 100, "t": ms, "q": i,
                        "z": 3, "c": [12]})  # fmt: skip
        else:
            out.append({"ev": "Q", "sym": ticker, "bx": 12, "bp": 190.1, "bs": 2, "ax": 19, "ap": 190.2, "as": 5,
                        "c": 1, "t": ms, "q": i, "z": 3})  # fmt: skip
    return out


def ceiling(events: int = 400_000) -> tuple[float, float]:
    """(events/s parsed into the buffer, events/s written as Parquet) for stock trades and quotes in frames
    of 2,000 events, as the sandbox sends them."""
    frames = [
        json.dumps(synthetic_events(2000, 1_796_200_633_806 + start)) for start in range(0, events, 2000)
    ]
    buffer = Buffer(frozenset({"trades", "quotes"}), max_rows=events, interval=60)
    started = time.perf_counter()
    for raw in frames:
        buffer.add_frame(json.loads(raw), 0.0)
    parsed = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="anthill-lake-") as lake:
        started = time.perf_counter()
        write_batch(FileSink(f"file://{lake}"), "bench", "live", buffer.take())
        written = time.perf_counter() - started
    return events / parsed, events / written


def stream_at(rate: int, seconds: float) -> dict[str, Any]:
    """The stream against the sandbox sending ``rate`` trades and quotes per second per stock."""
    rest, ws = free_ports(2)
    sandbox = subprocess.Popen([ANTHILL, "sandbox", "market-data", "--port", str(rest), "--stream-port", str(ws),
                                "--stream-rate", str(rate)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: probe(f"http://127.0.0.1:{rest}/_sandbox/stats"), 30, "the sandbox")
        return {"offered": f"{rate * len(STOCKS) * 2:,}", **measure(f"ws://127.0.0.1:{ws}", seconds)}
    finally:
        terminate(sandbox.pid)
        sandbox.wait(timeout=10)


def measure(url: str, seconds: float) -> dict[str, Any]:
    """Run `anthill ingest stream` against ``url`` for ``seconds`` once subscribed; its figures."""
    with tempfile.TemporaryDirectory(prefix="anthill-stream-") as tmp:
        config, log = Path(tmp) / "stream.json", Path(tmp) / "stream.log"
        config.write_text(json.dumps({"kind": "MarketStream", "metadata": {"name": "live", "namespace": "bench"},
            "spec": {"channels": ["trades", "quotes"], "tickers": ["*"], "flush": {"intervalSeconds": 1},
                     "gapFill": False, "destination": {"uri": f"file://{tmp}/lake"},
                     "apiKeySecretRef": {"name": "k", "key": "k"}}}))  # fmt: skip
        env = {**os.environ, "MASSIVE_API_KEY": "sandbox", "ANTHILL_MARKET_STREAM_URL": url}
        with log.open("wb") as err:
            stream = subprocess.Popen([ANTHILL, "ingest", "stream", "--stream", str(config)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)  # fmt: skip
        try:
            wait_for(lambda: '"Streaming"' in log.read_text(), 60, "the stream to subscribe")
            cpu = cpu_seconds(stream.pid)
            time.sleep(seconds)  # the measurement window itself
            cpu = (cpu_seconds(stream.pid) - cpu) / seconds
            rss = peak_rss_mib(stream.pid)
        finally:
            terminate(stream.pid)
            stream.wait(timeout=10)
        lines = [json.loads(line) for line in log.read_text().splitlines() if '"StreamStats"' in line]
    return {
        **sustained(lines),
        "rss": rss,
        "cpu": cpu,
        "reconnects": lines[-1]["reconnects"] if lines else -1,
    }


class Replay:
    """A local server speaking just enough of the protocol to subscribe a client, then sending it frames of
    2,000 trades and quotes stamped with the current time as fast as it reads them: what the stream alone
    sustains, whatever a generating server could."""

    def __init__(self) -> None:
        (self.port,) = free_ports(1)
        self.frame = json.dumps(synthetic_events(2000, base_ms=0)).replace('"t": 0', '"t": NOW')
        self.thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self.stopped: asyncio.Future[None] | None = None

    async def _serve(self) -> None:
        self.loop, self.stopped = asyncio.get_running_loop(), asyncio.get_running_loop().create_future()
        async with serve(self._handle, "127.0.0.1", self.port):
            await self.stopped

    async def _handle(self, ws: ServerConnection) -> None:
        status = '[{{"ev":"status","status":"{}","message":"{}"}}]'
        with contextlib.suppress(ConnectionClosed):
            await ws.send(status.format("connected", "Connected Successfully"))
            await ws.recv()  # the auth message
            await ws.send(status.format("auth_success", "authenticated"))
            await ws.recv()  # the subscription
            await ws.send(status.format("success", "subscribed to: T.*"))
            while True:
                await ws.send(self.frame.replace("NOW", str(time.time_ns() // 1_000_000)))

    def __enter__(self) -> str:
        self.thread.start()
        wait_for(lambda: self.stopped is not None, 10, "the replay server")
        return f"ws://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        if self.stopped is not None:
            self.loop.call_soon_threadsafe(self.stopped.set_result, None)
        self.thread.join(timeout=5)


def sustained(lines: list[dict[str, Any]]) -> dict[str, float]:
    """Rows flushed per second between the first and the last flush past the first (the warm-up), and the
    worst p99 flush lag of those flushes."""
    flushes = [
        s for s, before in zip(lines[1:], lines, strict=False) if s["rowsFlushed"] > before["rowsFlushed"]
    ]
    warm = flushes[1:]
    if len(warm) < 2:
        return {"received": 0.0, "lag": float("nan")}
    seconds = (_time(warm[-1]["lastFlushTime"]) - _time(warm[0]["lastFlushTime"])).total_seconds()
    rows = warm[-1]["rowsFlushed"] - warm[0]["rowsFlushed"]
    return {"received": rows / seconds, "lag": max(s["flushLagSeconds"] or 0.0 for s in warm[1:])}


def _time(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--rates", default="100,500,1000,2000", help="trades (and quotes) per second per ticker"
    )
    args = parser.parse_args()
    console = Console(stderr=True)
    console.print("parsing and writing alone")
    parse_rate, write_rate = ceiling()
    results = []
    for rate in (int(r) for r in args.rates.split(",")):
        console.print(f"{rate} trades and quotes per second per ticker, {len(STOCKS)} stocks")
        results.append((f"sandbox, '*' trades+quotes, {rate}/s per ticker", stream_at(rate, args.seconds)))
    console.print("a local server replaying frames as fast as the stream reads them")
    with Replay() as url:
        results.append(
            ("replay at the stream's own pace", {"offered": "unbounded", **measure(url, args.seconds)})
        )

    table = Table(title="stream: sandbox WebSocket -> massive client -> Parquet (file://), 2 cores")
    for column in ("scenario", "offered msg/s", "sustained msg/s", "flush lag p99 (s)", "stream CPU",
                   "peak RSS (MiB)", "reconnects"):  # fmt: skip
        table.add_column(column, justify="left" if column == "scenario" else "right")
    table.add_row("in-process: parse into the buffer", "", f"{parse_rate:,.0f}", "", "1 core", "", "")
    table.add_row("in-process: Arrow + Parquet write", "", f"{write_rate:,.0f}", "", "1 core", "", "")
    for name, r in results:
        table.add_row(name, r["offered"], f"{r['received']:,.0f}",
                      f"{r['lag']:.2f}", f"{r['cpu']:.0%}", f"{r['rss']:.0f}", str(r["reconnects"]))  # fmt: skip
    publish(table, width=130)
    Console(width=130).print(
        "The lag counts from each event's time, so a sandbox that generates ticks late (it shares the 2 cores) "
        "adds to it: a stream CPU well under 100% with a growing lag means the server, not the stream, is "
        "behind; reconnects mean the server dropped the stream as a slow consumer. The replaying server stamps a "
        "frame when it queues it, so at saturation its lag is the time frames wait in that server's buffers (the "
        "stream's memory stays flat)."
    )


if __name__ == "__main__":
    main()
