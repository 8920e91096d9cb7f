"""The sandbox stream speaks the Massive WebSocket protocol: the real client logs in, subscribes, parses the
events into its models, reconnects after drops, and fills a gap from REST with the very same ticks."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from massive import RESTClient, WebSocketClient
from massive.exceptions import AuthError
from massive.websocket.models import (
    CryptoQuote,
    CryptoTrade,
    CurrencyAgg,
    EquityAgg,
    EquityQuote,
    EquityTrade,
)

from anthill_devkit.controlplane import free_ports, wait_for
from anthill_sandbox import ticks
from anthill_sandbox.server import SandboxServer, SandboxState
from anthill_sandbox.stream import StreamServer, StreamSettings

pytestmark = pytest.mark.integration

RATE = 20
TIMEOUT = 10.0


class Servers:
    """Starts streams, and REST servers sharing a stream's state; stops them all after the test."""

    def __init__(self) -> None:
        self.started: list[SandboxServer | StreamServer] = []

    def stream(self, settings: StreamSettings | None = None, **state: Any) -> StreamServer:
        shared = SandboxState(tick_rate=state.pop("tick_rate", RATE), **state)
        stream = StreamServer(0, shared, settings or StreamSettings(interval=0.02)).start()
        self.started.append(stream)
        return stream

    def rest(self, stream: StreamServer) -> SandboxServer:
        rest = SandboxServer(0, stream.state).start()
        self.started.append(rest)
        return rest


@pytest.fixture
def servers() -> Iterator[Servers]:
    made = Servers()
    yield made
    for server in reversed(made.started):
        server.stop()


async def until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.01)


class Session:
    """A real WebSocketClient connected in the background, collecting what it receives."""

    def __init__(self, url: str, *subscriptions: str, raw: bool = False, **options: Any) -> None:
        self.client = WebSocketClient(api_key="sandbox", feed=url.removeprefix("ws://"), secure=False, raw=raw,
                                      subscriptions=list(subscriptions), **options)  # fmt: skip
        self.received: list[Any] = []
        self.task: asyncio.Task[None] | None = None

    async def _collect(self, messages: Any) -> None:
        if isinstance(messages, str | bytes):
            self.received.extend(json.loads(messages))
        else:
            self.received.extend(messages)

    async def __aenter__(self) -> Session:
        self.task = asyncio.create_task(self.client.connect(self._collect))
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.close()
        assert self.task is not None
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(self.task, 5)

    def of(self, kind: type[Any], symbol: str | None = None) -> list[Any]:
        return [m for m in self.received if isinstance(m, kind) and symbol in (None, m.symbol)]


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def test_a_known_key_streams_trades_quotes_and_seconds_in_the_clients_models(servers: Servers) -> None:
    stream = servers.stream()

    async def scenario() -> None:
        async with Session(stream.url, "T.AAPL", "Q.AAPL", "A.AAPL") as session:

            def covered() -> bool:
                # The aggregate of a second that began after the first trade received: the aggregates of the
                # seconds the subscription began in (or just before) do not count.
                received = session.of(EquityTrade, "AAPL")
                return bool(received) and any(
                    a.start_timestamp > received[0].timestamp for a in session.of(EquityAgg)
                )

            await until(covered, "the aggregate of a second wholly after the first trade")
        trades, quotes = session.of(EquityTrade, "AAPL"), session.of(EquityQuote, "AAPL")
        assert trades
        assert quotes
        assert all(
            t.id == str(t.sequence_number) and t.tape == ticks.STOCK_TAPE and t.size > 0 for t in trades
        )
        assert [t.sequence_number for t in trades] == sorted({t.sequence_number for t in trades})
        assert all(q.bid_price < q.ask_price and q.condition == ticks.REGULAR_QUOTE for q in quotes)
        # A second the subscription covered from its start: its aggregate is that of the trades received.
        first = trades[0].timestamp
        agg = next(a for a in session.of(EquityAgg) if a.start_timestamp > first)
        inside = [t for t in trades if agg.start_timestamp <= t.timestamp < agg.end_timestamp]
        assert len(inside) == RATE
        assert (agg.open, agg.close, agg.high, agg.low, agg.volume) == (
            inside[0].price, inside[-1].price, max(t.price for t in inside), min(t.price for t in inside),
            sum(t.size for t in inside))  # fmt: skip
        assert agg.end_timestamp - agg.start_timestamp == 1000
        assert agg.accumulated_volume >= agg.volume

    run(scenario())


def test_crypto_streams_pairs_in_the_clients_models(servers: Servers) -> None:
    stream = servers.stream()

    async def scenario() -> None:
        async with Session(stream.url, "XT.BTC-USD", "XQ.BTC-USD", "XAS.*", market="crypto") as session:
            await until(
                lambda: any(isinstance(m, CurrencyAgg) for m in session.received), "a second aggregate"
            )
        kinds = {type(m) for m in session.received}
        assert {CryptoTrade, CryptoQuote, CurrencyAgg} <= kinds
        trades = [m for m in session.received if isinstance(m, CryptoTrade)]
        assert {t.pair for t in trades} == {"BTC-USD"}
        assert all(t.price > 0 and 0 < t.size < 3 and t.id for t in trades)
        assert all(q.bid_price < q.ask_price for q in session.received if isinstance(q, CryptoQuote))
        aggs = {a.pair for a in session.received if isinstance(a, CurrencyAgg)}
        assert {"BTC-USD", "ETH-USD", "SOL-USD"} <= aggs

    run(scenario())


@pytest.mark.parametrize(
    ("settings", "key", "market", "message"),
    [
        pytest.param(StreamSettings(), "not-a-key", "stocks", "authentication failed", id="unknown key"),
        pytest.param(
            StreamSettings(refuse_auth=True),
            "sandbox",
            "stocks",
            "authentication failed",
            id="refusing every key",
        ),
        pytest.param(
            StreamSettings(), "sandbox", "forex", "no 'forex' feed", id="a market it does not stream"
        ),
    ],
)
def test_a_refused_login_raises_the_servers_message(
    servers: Servers, settings: StreamSettings, key: str, market: str, message: str
) -> None:
    stream = servers.stream(settings)
    client = WebSocketClient(api_key=key, feed=stream.url.removeprefix("ws://"), market=market, secure=False)

    async def ignore(_: Any) -> None:
        return None

    with pytest.raises(AuthError, match=message):
        run(client.connect(ignore))
    assert stream.clients == 0


def test_unsubscribing_stops_the_channel(servers: Servers) -> None:
    stream = servers.stream()

    async def scenario() -> None:
        async with Session(stream.url, "T.AAPL", "Q.MSFT") as session:
            await until(lambda: bool(session.of(EquityTrade)), "trades")
            session.client.unsubscribe("T.AAPL")
            await until(lambda: stream.subscriptions == [{"Q.MSFT"}], "the server to take the unsubscription")
            # Ticks are sent once their time has passed: none the server sends from now on is older than now.
            cut = time.time_ns() // ticks.MS
            await until(lambda: any(q.timestamp > cut + 200 for q in session.of(EquityQuote)), "later quotes")
        assert session.of(EquityTrade)
        assert [t for t in session.of(EquityTrade) if t.timestamp > cut] == []

    run(scenario())


def test_a_channel_outside_the_plan_gets_a_status_error_naming_it(servers: Servers) -> None:
    stream = servers.stream(StreamSettings(channels=frozenset({"T", "AM"}), interval=0.02))

    async def scenario() -> None:
        async with Session(stream.url, "Q.AAPL", "T.AAPL", raw=True) as session:
            await until(lambda: any(m.get("ev") == "T" for m in session.received), "trades")
        statuses = {m["message"]: m["status"] for m in session.received if m["ev"] == "status"}
        assert statuses["subscribed to: T.AAPL"] == "success"
        refused = [m for m, status in statuses.items() if status == "error"]
        assert len(refused) == 1
        assert "Q channel" in refused[0]
        assert "Q.AAPL" in refused[0]
        assert not any(m["ev"] == "Q" for m in session.received)
        assert {"ev", "sym", "i", "x", "p", "s", "t", "q", "z"} <= set(
            next(m for m in session.received if m["ev"] == "T")
        )

    run(scenario())


def test_dropped_connections_reconnect_and_subscribe_again(servers: Servers) -> None:
    """After every N events the server drops the connection without a close frame; the client reconnects,
    subscribes again and keeps receiving."""
    stream = servers.stream(StreamSettings(drop_after=150, interval=0.02))

    async def scenario() -> None:
        async with Session(stream.url, "T.*", max_reconnects=50) as session:
            await until(lambda: stream.connects >= 3, "two reconnections")
            seen = len(session.received)
            await until(lambda: len(session.received) > seen, "events after the reconnection")
            assert session.task is not None
            assert not session.task.done()

    run(scenario())
    assert stream.connects >= 3


def test_drop_connections_makes_clients_reconnect(servers: Servers) -> None:
    stream = servers.stream()

    async def scenario() -> None:
        async with Session(stream.url, "Q.MSFT") as session:
            await until(lambda: bool(session.received), "quotes")
            stream.drop_connections()
            await until(lambda: stream.connects == 2 and stream.clients == 1, "a reconnection")
            dropped_at = time.time_ns() // ticks.MS
            await until(lambda: session.received[-1].timestamp > dropped_at, "quotes after the reconnection")

    run(scenario())


def _minute_ends_soon() -> Callable[[], int]:
    """A clock that reads 2024-07-01 14:34:59 UTC now: a session minute of AAPL ends a second in."""
    target = datetime.datetime(2024, 7, 1, 14, 34, 59, tzinfo=datetime.UTC)
    offset = int(target.timestamp() * ticks.NS) - time.time_ns()
    return lambda: time.time_ns() + offset


def test_a_session_minutes_aggregate_is_its_rest_bar_and_its_trades(servers: Servers) -> None:
    stream = servers.stream(now_ns=_minute_ends_soon())
    rest = servers.rest(stream)

    async def scenario() -> None:
        async with Session(stream.url, "AM.AAPL", "T.AAPL") as session:
            await until(lambda: bool(session.of(EquityAgg)), "the minute aggregate")
        minute = session.of(EquityAgg)[0]
        assert (
            minute.start_timestamp
            == int(datetime.datetime(2024, 7, 1, 14, 34, tzinfo=datetime.UTC).timestamp()) * 1000
        )
        client = RESTClient(api_key="sandbox", base=rest.url, retries=0)
        bar = next(b for b in client.get_aggs("AAPL", 1, "minute", "2024-07-01", "2024-07-01")
                   if b.timestamp == minute.start_timestamp)  # fmt: skip
        assert (minute.open, minute.high, minute.low, minute.close, minute.volume) == (
            bar.open, bar.high, bar.low, bar.close, bar.volume)  # fmt: skip
        trades = list(client.list_trades("AAPL", timestamp_gte=minute.start_timestamp * ticks.MS,
                                         timestamp_lt=minute.end_timestamp * ticks.MS, order="asc", limit=50_000))  # fmt: skip
        assert len(trades) == 60 * RATE
        notional = sum(t.price * t.size for t in trades)
        assert (minute.open, minute.high, minute.low, minute.close, minute.volume) == (
            trades[0].price, max(t.price for t in trades), min(t.price for t in trades), trades[-1].price,
            sum(t.size for t in trades))  # fmt: skip
        assert minute.vwap == round(notional / minute.volume, ticks.DECIMALS)
        # The minute's trades the stream sent are REST's, key for key.
        streamed = {t.sequence_number: (t.id, t.price, t.size) for t in session.of(EquityTrade)
                    if t.timestamp < minute.end_timestamp}  # fmt: skip
        assert streamed
        assert streamed.items() <= {t.sequence_number: (t.id, t.price, t.size) for t in trades}.items()

    run(scenario())


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_rest_fills_a_gap_with_the_streamed_ticks(servers: Servers, order: str) -> None:
    """The ticks of a range the stream covered, paged from REST, are the streamed ones: ids, sequence numbers,
    prices and sizes."""
    stream = servers.stream()
    rest = servers.rest(stream)

    async def scenario() -> None:
        async with Session(stream.url, "T.AAPL", "Q.AAPL") as session:
            await until(lambda: len(session.of(EquityTrade)) >= RATE, "a second of trades")
        trades, quotes = session.of(EquityTrade), session.of(EquityQuote)
        # Whole milliseconds strictly inside what was received: the stream sent every tick of them.
        low, high = trades[0].timestamp + 1, trades[-1].timestamp - 1
        client = RESTClient(api_key="sandbox", base=rest.url, retries=0)
        bounds = {
            "timestamp_gte": low * ticks.MS,
            "timestamp_lt": (high + 1) * ticks.MS,
            "order": order,
            "limit": 7,
        }
        listed = list(client.list_trades("AAPL", **bounds))
        expected = [(t.id, t.sequence_number, t.price, t.size) for t in trades if low <= t.timestamp <= high]
        got = [(t.id, t.sequence_number, t.price, t.size) for t in listed]
        assert got == (expected if order == "asc" else expected[::-1])
        assert rest.state.requests["v3/trades/AAPL"] > len(expected) // 7  # it took pages
        listed_quotes = list(client.list_quotes("AAPL", **bounds))
        expected_quotes = [(q.sequence_number, q.bid_price, q.ask_price, q.bid_size, q.ask_size)
                           for q in quotes if low <= q.timestamp <= high]  # fmt: skip
        got_quotes = [
            (q.sequence_number, q.bid_price, q.ask_price, q.bid_size, q.ask_size) for q in listed_quotes
        ]
        assert got_quotes == (expected_quotes if order == "asc" else expected_quotes[::-1])

    run(scenario())


def test_the_command_serves_the_stream(tmp_path: Path) -> None:
    rest_port, stream_port = free_ports(2)
    log_path = tmp_path / "sandbox.log"
    command = [str(Path(sys.executable).parent / "anthill"), "sandbox", "market-data", "--port", str(rest_port),
               "--stream-port", str(stream_port), "--stream-rate", "5", "--stream-channels", "T"]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(
                lambda: f"ws://127.0.0.1:{stream_port}" in log_path.read_text(), TIMEOUT, "the stream's URL"
            )

            async def scenario() -> None:
                async with Session(f"ws://127.0.0.1:{stream_port}", "T.MSFT") as session:
                    await until(lambda: bool(session.of(EquityTrade, "MSFT")), "trades from the command")

            run(scenario())
            answer = requests.get(f"http://127.0.0.1:{rest_port}/v3/trades/MSFT", params={"limit": 1},
                                  headers={"Authorization": "Bearer sandbox"}, timeout=5)  # fmt: skip
            assert answer.json()["results"][0]["sequence_number"] % 2 == 0
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert f"ANTHILL_MARKET_STREAM_URL=ws://127.0.0.1:{stream_port}" in log_path.read_text()
