"""`anthill ingest stream` as a MarketStream's pod runs it: a process streaming from the sandbox's WebSocket
server (the real massive client on the real protocol) into bronze, checked against the sandbox's REST API
for the same ticks. Nothing here sleeps: each step waits for files, log lines or the sandbox's clock."""

from __future__ import annotations

import datetime
import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anthill_devkit.controlplane import wait_for
from anthill_ingest.client import MarketData
from anthill_ingest.stream.events import rest_quote, rest_trade, to_table
from anthill_sandbox.server import SandboxServer, SandboxState
from anthill_sandbox.stream import StreamServer, StreamSettings
from tests.integration.ingest.conftest import S3_ENV

pytestmark = pytest.mark.integration
TICKERS = ["AAPL", "MSFT"]
KEY = "sk-stream-test-41d7"  # distinctive, so a test can show it is in no log line
STOP_SECONDS = 5.0  # SIGTERM to exit: a Deployment's grace period is far longer
WAIT = 20.0


@dataclass
class Market:
    rest: SandboxServer
    stream: StreamServer

    def api(self) -> MarketData:
        return MarketData(KEY, self.rest.url, None)


@pytest.fixture
def market_factory() -> Iterator[Callable[..., Market]]:
    started: list[Market] = []

    def start(**settings: Any) -> Market:
        state = SandboxState(api_keys=frozenset({KEY}), tick_rate=50)
        market = Market(
            SandboxServer(0, state).start(), StreamServer(0, state, StreamSettings(**settings)).start()
        )
        started.append(market)
        return market

    yield start
    for market in started:
        market.stream.stop()
        market.rest.stop()


@pytest.fixture
def market(market_factory: Callable[..., Market]) -> Market:
    return market_factory()


class Stream:
    """One `anthill ingest stream` process and its log."""

    started: ClassVar[list[Stream]] = []

    def __init__(self, tmp_path: Path, market: Market, destination: str, env: dict[str, str] | None = None,
                 key: str = KEY, **spec: Any) -> None:  # fmt: skip
        self.config = tmp_path / "stream.json"
        self.log = tmp_path / f"stream-{time.monotonic_ns()}.log"
        self.write_spec(destination, **spec)
        variables = {**os.environ, **(env or {}), "MASSIVE_API_KEY": key,
                     "ANTHILL_MARKET_STREAM_URL": market.stream.url, "ANTHILL_MARKET_DATA_URL": market.rest.url}  # fmt: skip
        command = [
            str(Path(sys.executable).parent / "anthill"),
            "ingest",
            "stream",
            "--stream",
            str(self.config),
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, env=variables, stdout=subprocess.DEVNULL, stderr=log)
        Stream.started.append(self)

    def write_spec(self, destination: str, **spec: Any) -> None:
        body = {"channels": ["trades", "quotes"], "tickers": TICKERS, "flush": {"intervalSeconds": 1},
                "destination": {"uri": destination}, "apiKeySecretRef": {"name": "k", "key": "k"}, **spec}  # fmt: skip
        doc = {"kind": "MarketStream", "metadata": {"name": "live", "namespace": "market"}, "spec": body}
        partial = self.config.with_suffix(".partial")
        partial.write_text(json.dumps(doc))
        partial.replace(self.config)  # as the kubelet swaps a ConfigMap's files: never half written

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"message": line})
        return out

    def stats(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == "StreamStats"]

    def wait_stats(self, condition: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            found[:] = [line for line in self.stats() if condition(line)]
            return bool(found) or self.process.poll() is not None

        wait_for(seen, WAIT, what, on_timeout=lambda: f"; log:\n{self.log.read_text()[-3000:]}")
        assert found, (
            f"the stream exited ({self.process.returncode}) before {what}:\n{self.log.read_text()[-3000:]}"
        )
        return found[-1]

    def flushed(self, rows: int) -> dict[str, Any]:
        return self.wait_stats(lambda s: s["rowsFlushed"] >= rows, f"{rows} rows flushed")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=STOP_SECONDS) == 0, self.log.read_text()[-3000:]
        assert KEY not in self.log.read_text()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@pytest.fixture(autouse=True)
def no_stream_outlives_its_test() -> Iterator[None]:
    yield
    for stream in Stream.started:
        if stream.process.poll() is None:
            stream.process.kill()
            stream.process.wait()
    Stream.started.clear()


def bronze(root: Path, channel: str) -> pa.Table:
    files = sorted((root / "bronze" / "market" / "live" / channel / "stream").rglob("*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files])


def by_sequence(table: pa.Table, ticker: str) -> dict[int, dict[str, Any]]:
    """The ticker's events, deduplicated on the sequence number as silver does."""
    rows = table.filter(pa.compute.equal(table["ticker"], ticker)).to_pylist()
    return {row["sequence_number"]: row for row in rows}


def rest_events(
    market: Market, channel: str, ticker: str, first_ms: int, last_ms: int
) -> dict[int, dict[str, Any]]:
    """The sandbox's REST events of ``ticker`` from ``first_ms`` to ``last_ms`` (both inclusive), as rows."""
    api = market.api()
    listing, parse = (
        (api.client.list_trades, rest_trade) if channel == "trades" else (api.client.list_quotes, rest_quote)
    )
    results = listing(ticker, timestamp_gte=first_ms * 10**6, timestamp_lt=(last_ms + 1) * 10**6, limit=50_000,
                      sort="timestamp", order="asc")  # fmt: skip
    table, rejected = to_table(channel, [parse(ticker, r) for r in results])
    assert not rejected
    rows = table.to_pylist()
    assert len({r["sequence_number"] for r in rows}) == len(rows)
    return {row["sequence_number"]: row for row in rows}


def assert_bronze_is_rest(
    market: Market, lake: Path, channels: tuple[str, ...] = ("trades", "quotes")
) -> int:
    """Bronze, deduplicated, holds exactly the REST API's events between each ticker's first and last event
    in bronze: nothing lost, nothing extra. Returns the number of events compared."""
    compared = 0
    for channel in channels:
        table = bronze(lake, channel)
        for ticker in TICKERS:
            streamed = by_sequence(table, ticker)
            times = [int(r["ts"].timestamp() * 1000) for r in streamed.values()]
            expected = rest_events(market, channel, ticker, min(times), max(times))
            assert streamed.keys() == expected.keys(), (
                f"{channel} {ticker}: missing {sorted(expected.keys() - streamed.keys())[:5]}, extra {sorted(streamed.keys() - expected.keys())[:5]}"
            )
            assert streamed == expected
            compared += len(expected)
    return compared


def streaming_after(line: dict[str, Any], reconnects: int) -> bool:
    return bool(line["reconnects"] >= reconnects and line["state"] == "Streaming")


def checkpoint(lake: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((lake / "_state" / "market" / "streams" / "live.json").read_text())
    return body


def test_streamed_bronze_holds_every_event_the_rest_api_has(tmp_path: Path, market: Market) -> None:
    lake = tmp_path / "lake"
    stream = Stream(tmp_path, market, f"file://{lake}")
    stats = stream.flushed(200)
    assert stats["reconnects"] == 0
    assert stats["state"] == "Streaming"
    assert stats["connected"]
    assert stats["messagesPerSecond"] > 0
    assert 0 <= stats["flushLagSeconds"] < 5
    stream.terminate()
    assert assert_bronze_is_rest(market, lake) >= 200
    # The checkpoint is each ticker's last event in bronze.
    trades = bronze(lake, "trades")
    for ticker in TICKERS:
        last = max(by_sequence(trades, ticker))
        assert checkpoint(lake)["channels"]["trades"][ticker]["sequenceNumber"] == last


def test_sigterm_flushes_what_the_stream_holds(tmp_path: Path, market: Market) -> None:
    lake = tmp_path / "lake"
    stream = Stream(tmp_path, market, f"file://{lake}", flush={"intervalSeconds": 300, "maxRows": 100_000})
    subscribed = stream.wait_stats(lambda s: s["state"] == "Streaming", "streaming")["reportedAt"]
    since_ms = int(datetime.datetime.fromisoformat(subscribed.replace("Z", "+00:00")).timestamp() * 1000)
    # Ticks the server has sent since the subscription: REST serves the same ones as they pass.
    wait_for(lambda: len(rest_events(market, "trades", "AAPL", since_ms, int(time.time() * 1000))) >= 40, WAIT,
             "ticks sent to the stream")  # fmt: skip
    assert not lake.exists()  # nothing is due yet: every event is in the buffer
    stream.terminate()
    final = stream.stats()[-1]
    assert final["state"] == "Stopped"
    assert final["rowsFlushed"] >= 40
    assert sum(bronze(lake, c).num_rows for c in ("trades", "quotes")) == final["rowsFlushed"]
    assert set(checkpoint(lake)["channels"]) == {"trades", "quotes"}


def test_killed_then_restarted_the_gap_fill_leaves_nothing_lost_or_duplicated(
    tmp_path: Path, market: Market
) -> None:
    lake = tmp_path / "lake"
    first = Stream(tmp_path, market, f"file://{lake}")
    first.flushed(100)
    first.kill()  # SIGKILL: no last flush, the buffer is lost
    killed_at = checkpoint(lake)["channels"]["trades"]["AAPL"]["time"]
    # Let the market move on while nothing streams: ticks the restarted stream can only get from REST.
    wait_for(lambda: time.time() * 1000 > killed_at + 1500, WAIT, "the sandbox clock to pass the kill")

    second = Stream(tmp_path, market, f"file://{lake}")
    wait_for(lambda: any("gap fill wrote" in line.get("message", "") for line in second.lines()), WAIT,
             "the gap fill", on_timeout=lambda: second.log.read_text()[-2000:])  # fmt: skip
    (filled,) = [line["message"] for line in second.lines() if "gap fill wrote" in line.get("message", "")]
    assert int(filled.split()[3]) >= 60  # the ticks of the 1.5 s nothing streamed, at least, came from REST
    second.flushed(second.stats()[-1]["rowsFlushed"] + 100)
    second.terminate()
    assert assert_bronze_is_rest(market, lake) >= 200


def test_dropped_connections_reconnect_resubscribe_and_fill_what_they_missed(
    tmp_path: Path, market: Market
) -> None:
    lake = tmp_path / "lake"
    stream = Stream(tmp_path, market, f"file://{lake}")
    stream.flushed(100)
    for drop in (1, 2):
        market.stream.drop_connections()  # abnormal closes, as a network failure: no close frame
        stream.wait_stats(functools.partial(streaming_after, reconnects=drop), f"reconnect {drop}")

    def fills_done() -> bool:
        messages = [line.get("message", "") for line in stream.lines()]
        done = sum("gap fill wrote" in m for m in messages)
        return done >= 2 and done == sum(m.startswith("filling") for m in messages)

    wait_for(fills_done, WAIT, "the reconnects' gap fills")
    stream.flushed(stream.stats()[-1]["rowsFlushed"] + 50)  # events keep coming: it subscribed again
    assert market.stream.connects == 3
    stream.terminate()
    assert assert_bronze_is_rest(market, lake) >= 150  # nothing the drops cost is missing


def test_a_refused_key_is_reported_and_the_stream_stays_up(
    tmp_path: Path, market_factory: Callable[..., Market]
) -> None:
    market = market_factory(refuse_auth=True)
    stream = Stream(tmp_path, market, f"file://{tmp_path / 'lake'}", key="not-a-key-9f3")  # refused anyway
    stats = stream.wait_stats(lambda s: s["state"] == "AuthFailed", "AuthFailed")
    assert "authentication failed" in stats["reason"]
    assert not stats["connected"]
    assert stream.process.poll() is None  # a Deployment's pod that exited would only crash-loop
    stream.terminate()
    assert "not-a-key-9f3" not in stream.log.read_text()


def test_a_channel_outside_the_plan_is_reported_and_the_others_stream(
    tmp_path: Path, market_factory: Callable[..., Market]
) -> None:
    market = market_factory(channels=frozenset({"T"}))
    lake = tmp_path / "lake"
    stream = Stream(tmp_path, market, f"file://{lake}")
    stats = stream.wait_stats(lambda s: s["state"] == "ChannelNotAuthorized" and s["rowsFlushed"] >= 40,
                              "trades flushed while quotes are refused")  # fmt: skip
    assert "Q channel" in stats["reason"]
    assert stats["connected"]
    stream.terminate()
    assert bronze(lake, "trades").num_rows >= 40
    assert not (lake / "bronze" / "market" / "live" / "quotes").exists()


def test_a_spec_edit_subscribes_and_unsubscribes_without_a_restart(tmp_path: Path, market: Market) -> None:
    lake = tmp_path / "lake"
    stream = Stream(tmp_path, market, f"file://{lake}", channels=["trades"], tickers=["AAPL"])
    stream.flushed(20)
    stream.write_spec(f"file://{lake}", channels=["trades"], tickers=["MSFT"])
    trades = lake / "bronze" / "market" / "live" / "trades" / "stream"

    def msft_streamed() -> bool:
        table = pa.concat_tables([pq.read_table(f) for f in trades.rglob("*.parquet")])
        return "MSFT" in table["ticker"].to_pylist()

    wait_for(msft_streamed, WAIT, "MSFT trades in bronze after the edit")

    def aapl_stopped() -> bool:  # MSFT streams on for 2 s past AAPL's last trade
        latest = {r["ticker"]: r["ts"] for r in bronze(lake, "trades").sort_by("ts").to_pylist()}
        gap: float = (latest["MSFT"] - latest["AAPL"]).total_seconds()
        return gap >= 2

    wait_for(aapl_stopped, WAIT, "AAPL trades to stop while MSFT's go on")
    stream.terminate()


def test_streams_into_s3(tmp_path: Path, market: Market, bucket: str, moto_endpoint: str) -> None:
    env = {**S3_ENV, "AWS_ENDPOINT_URL": moto_endpoint}
    stream = Stream(tmp_path, market, f"s3://{bucket}/lake", env=env)
    stream.flushed(100)
    stream.terminate()
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert "lake/_state/market/streams/live.json" in keys
    parquet = [k for k in keys if k.endswith(".parquet")]
    assert {k.split("/")[4] for k in parquet} == {"trades", "quotes"}
    assert all(k.split("/")[5] == "stream" and k.split("/")[6].startswith("date=") for k in parquet)
