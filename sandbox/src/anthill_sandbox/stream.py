"""A local market-data stream speaking the Massive (Polygon.io) WebSocket protocol, over :mod:`ticks`.

``ws://127.0.0.1:<port>/stocks`` (and ``/crypto``) answers as the real feed does: a ``connected`` status, then
``{"action":"auth","params":KEY}`` gets ``auth_success``/``authenticated`` (a key the REST server accepts) or
``auth_failed``/``authentication failed`` and a close; ``subscribe``/``unsubscribe`` take comma-separated
``CHANNEL.SYMBOL`` params (``*``: every sandbox instrument of the market) and confirm each one. Events arrive
as JSON arrays of many events per frame: every ``interval`` the server sends the ticks whose time fell in the
interval just elapsed, stamped with the wall clock (the state's), plus the per-second and per-minute
aggregates of the seconds and minutes that ended in it. The ticks are those ``/v3/trades`` and ``/v3/quotes``
serve for the same range, at the state's ``tick_rate``.

Faults for clients' tests: channels outside the plan (a status error naming the channel), refusing every key,
dropping each connection after some number of events, and :meth:`StreamServer.drop_connections`; both drops
are abnormal closes (no close frame), so clients reconnect and subscribe again.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from anthill_sandbox import data, ticks
from anthill_sandbox.server import SandboxState

NS = ticks.NS
MINUTE_NS = 60 * NS
CHANNELS = {"stocks": ("T", "Q", "A", "AM"), "crypto": ("XT", "XQ", "XAS", "XA")}
TRADES, QUOTES, SECOND_AGGS, MINUTE_AGGS = {"T", "XT"}, {"Q", "XQ"}, {"A", "XAS"}, {"AM", "XA"}
MAX_CATCH_UP_NS = 10 * NS  # after a stall (a laptop's sleep), older ticks are skipped, as a real feed would
FRAME_EVENTS = 2_000  # events per frame at most: a client's default message limit (1 MiB) stays far away
QUEUED_FRAMES = 200  # a client this many frames behind is dropped, so the server's memory stays flat
AUTH_TIMEOUT = 10.0
# The WebSocket library's own notes on each connection (opened, closed) are noise at a test's or a demo's
# volume: only its warnings and errors are kept.
CONNECTIONS_LOG = logging.getLogger("anthill_sandbox.stream.connections")
CONNECTIONS_LOG.setLevel(logging.WARNING)
PREFETCH_AFTER = 30  # seconds into a minute: from then on the next minute is generated in the background
MIN_INTERVAL, MAX_INTERVAL = 0.005, 1.0


@dataclass(frozen=True)
class StreamSettings:
    """What the stream allows and what it does wrong, on purpose."""

    channels: frozenset[str] | None = None  # the plan's channels (None: all of them)
    refuse_auth: bool = False  # answer every key auth_failed
    drop_after: int = 0  # drop each connection once it has been sent this many events (0: never)
    interval: float = 0.05  # seconds between frames

    def __post_init__(self) -> None:
        known = {c for channels in CHANNELS.values() for c in channels}
        if self.channels is not None and (unknown := sorted(self.channels - known)):
            raise ValueError(
                f"channels: unknown {', '.join(unknown)}; the stream knows {', '.join(sorted(known))}"
            )
        if self.drop_after < 0:
            raise ValueError(f"drop_after: must be 0 (never) or more, not {self.drop_after}")
        if not MIN_INTERVAL <= self.interval <= MAX_INTERVAL:
            raise ValueError(
                f"interval: must be {MIN_INTERVAL} to {MAX_INTERVAL} seconds, not {self.interval}"
            )


def _status(status: str, message: str) -> dict[str, str]:
    return {"ev": "status", "status": status, "message": message}


def _frame(*messages: dict[str, Any]) -> str:
    return json.dumps(list(messages), separators=(",", ":"))


@dataclass(eq=False)  # each connection is its own client
class _Client:
    ws: ServerConnection
    market: str
    subscriptions: dict[str, frozenset[str]] = field(default_factory=dict)  # channel -> symbols ("*": all)
    # Frames the writer sends in order; None: drop the connection once those before it are out.
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUED_FRAMES))
    sent: int = 0


@dataclass
class _Second:
    """One channel's encoded ticks of one second of one ticker, to slice by time."""

    second: int
    times: list[int]
    encoded: list[str]


class StreamServer:
    """The stream on ``host:port`` (loopback by default; 0 picks a free port), serving in a background thread.
    It shares ``state`` (API keys, clock, tick rate) with the REST server."""

    def __init__(self, port: int = 0, state: SandboxState | None = None,
                 settings: StreamSettings | None = None, host: str = "127.0.0.1") -> None:  # fmt: skip
        self.state = state or SandboxState()
        self.settings = settings or StreamSettings()
        self.rate = ticks.check_rate(self.state.tick_rate)
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._clients: set[_Client] = set()
        self._seconds: dict[tuple[str, str], _Second] = {}
        self._warming: set[tuple[str, int]] = set()
        self._warmer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-stream-warm")
        self.connects = 0  # WebSocket handshakes, reconnections included

    @property
    def url(self) -> str:
        return f"ws://{self._host}:{self._port}"

    @property
    def clients(self) -> int:
        """Authenticated connections open now."""
        return len(self._clients)

    @property
    def subscriptions(self) -> list[set[str]]:
        """Each authenticated connection's subscriptions, as ``CHANNEL.SYMBOL``."""
        return [{f"{channel}.{symbol}" for channel, symbols in client.subscriptions.items() for symbol in symbols}
                for client in list(self._clients)]  # fmt: skip

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="sandbox-stream", daemon=True)
        self._thread.start()
        started = self._ready.wait(timeout=10)
        if self._error is not None:
            raise self._error
        if not started:
            raise RuntimeError(f"the stream did not start on {self._host}:{self._port} within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._warmer.shutdown(wait=False, cancel_futures=True)

    def drop_connections(self) -> None:
        """Drop every connection abnormally (no close frame), as a network failure does."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._drop_all)

    def _drop_all(self) -> None:
        for client in list(self._clients):
            client.ws.transport.abort()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with serve(self._handle, self._host, self._port, logger=CONNECTIONS_LOG) as server:
            self._port = _port(server)
            self._ready.set()
            pump = asyncio.create_task(self._pump())
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({pump, stopping}, return_when=asyncio.FIRST_COMPLETED)
            pump.cancel()
            stopping.cancel()
            self._drop_all()
            if pump.done() and not pump.cancelled() and (failure := pump.exception()) is not None:
                raise failure  # a pump that failed fails the server loudly, not its clients silently

    async def _handle(self, ws: ServerConnection) -> None:
        self.connects += 1
        market = ws.request.path.strip("/") if ws.request is not None else ""
        await ws.send(_frame(_status("connected", "Connected Successfully")))
        client: _Client | None = None
        writer: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(AUTH_TIMEOUT):
                client = await self._authenticate(ws, market)
            if client is None:
                return
            writer = asyncio.create_task(self._write(client))
            self._clients.add(client)
            async for raw in ws:
                await self._command(client, raw)
        except TimeoutError:
            await ws.send(_frame(_status("auth_timeout", "No authentication request received.")))
            await ws.close(1008)
        except ConnectionClosed:
            pass
        finally:
            if client is not None:
                self._clients.discard(client)
            if writer is not None:
                writer.cancel()

    async def _authenticate(self, ws: ServerConnection, market: str) -> _Client | None:
        async for raw in ws:
            message = _parse(raw)
            if message is None:
                await ws.send(_frame(_status("error", "Invalid JSON")))
                continue
            if message.get("action") != "auth":
                await ws.send(_frame(_status("error", "You must authenticate first")))
                continue
            key = message.get("params")
            if market not in CHANNELS:
                reason = f"The sandbox streams {' and '.join(CHANNELS)}; it has no {market!r} feed."
                await ws.send(_frame(_status("auth_failed", reason)))
            elif self.settings.refuse_auth or key not in self.state.api_keys:
                await ws.send(_frame(_status("auth_failed", "authentication failed")))
            else:
                await ws.send(_frame(_status("auth_success", "authenticated")))
                return _Client(ws, market)
            await ws.close(1008)
            return None
        return None

    async def _command(self, client: _Client, raw: str | bytes) -> None:
        message = _parse(raw)
        if message is None:
            await client.ws.send(_frame(_status("error", "Invalid JSON")))
            return
        action, params = message.get("action"), message.get("params")
        if action not in ("subscribe", "unsubscribe") or not isinstance(params, str):
            await client.ws.send(_frame(_status("error", f"Unknown action: {action!r}")))
            return
        replies = [
            self._subscription(client, action, param.strip()) for param in params.split(",") if param.strip()
        ]
        if replies:
            await client.ws.send(_frame(*replies))

    def _subscription(self, client: _Client, action: str, param: str) -> dict[str, str]:
        channel, _, symbol = param.partition(".")
        if not symbol:
            return _status("error", f"Invalid subscription: {param!r} (want CHANNEL.SYMBOL)")
        if channel not in CHANNELS[client.market]:
            return _status(
                "error", f"Unknown channel {channel!r} for the {client.market} feed (subscription {param})"
            )
        if self.settings.channels is not None and channel not in self.settings.channels:
            return _status("error", f"Your plan doesn't include websocket access to the {channel} channel "
                           f"(subscription {param}).")  # fmt: skip
        # Replaced, never changed in place: other threads (tests, through ``subscriptions``) read them.
        symbols = client.subscriptions.get(channel, frozenset())
        if action == "subscribe":
            client.subscriptions = {**client.subscriptions, channel: symbols | {symbol}}
            return _status("success", f"subscribed to: {param}")
        client.subscriptions = {**client.subscriptions, channel: symbols - {symbol}}
        return _status("success", f"unsubscribed to: {param}")

    async def _write(self, client: _Client) -> None:
        """Send the client's frames in order; at the drop marker, drop it once they are on the wire."""
        with contextlib.suppress(ConnectionClosed):
            while (frame := await client.queue.get()) is not None:
                await client.ws.send(frame)
            transport = client.ws.transport
            for _ in range(1000):
                if not transport.get_write_buffer_size():
                    break
                await asyncio.sleep(0.001)
            transport.abort()

    async def _pump(self) -> None:
        """Every interval, send each client the events of the interval just elapsed."""
        last = self.state.now_ns()
        while True:
            await asyncio.sleep(self.settings.interval)
            now = self.state.now_ns()
            last = max(last, now - MAX_CATCH_UP_NS)
            if now > last:
                self._emit(last, now)
                last = now

    def _emit(self, last: int, now: int) -> None:
        wanted = {(channel, ticker) for client in self._clients for channel, ticker in self._wants(client)}
        self._prefetch({ticker for _, ticker in wanted}, now)
        chunks = {key: self._events(*key, last, now) for key in wanted}
        for client in list(self._clients):
            events = [e for key in self._wants(client) for e in chunks[key]]
            self._deliver(client, events)

    def _prefetch(self, tickers: set[str], now: int) -> None:
        """Generate the next minute of the tickers streamed in another thread, before it starts: a minute at a
        high rate takes long enough to generate to stall every client if the pump did it on time."""
        minute, into = divmod(now // NS, 60)
        if into < PREFETCH_AFTER or self._loop is None:
            return
        self._warming = {key for key in self._warming if key[1] > minute}
        for ticker in tickers - {t for t, m in self._warming}:
            self._warming.add((ticker, minute + 1))
            self._loop.run_in_executor(self._warmer, ticks.warm, ticker, minute + 1, self.rate)

    def _wants(self, client: _Client) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        universe = [t for t, i in data.INSTRUMENTS.items() if i.market == client.market]
        for channel, symbols in client.subscriptions.items():
            if "*" in symbols:
                out.update((channel, t) for t in universe)
            elif client.market == "crypto":
                out.update((channel, t) for s in symbols if (t := ticks.crypto_ticker(s)) in universe)
            else:
                out.update((channel, s) for s in symbols if s in universe)
        return out

    def _deliver(self, client: _Client, events: list[str]) -> None:
        for start in range(0, len(events), FRAME_EVENTS):
            batch = events[start : start + FRAME_EVENTS]
            try:
                client.queue.put_nowait(f"[{','.join(batch)}]")
            except asyncio.QueueFull:  # a slow consumer: dropped, as the real feed drops one
                client.ws.transport.abort()
                self._clients.discard(client)
                return
            client.sent += len(batch)
            if self.settings.drop_after and client.sent >= self.settings.drop_after:
                self._clients.discard(client)
                try:
                    client.queue.put_nowait(None)  # the frames queued so far go out first
                except asyncio.QueueFull:
                    client.ws.transport.abort()
                return

    def _events(self, channel: str, ticker: str, last: int, now: int) -> list[str]:
        """The encoded events of ``channel`` for ``ticker`` with times in (last, now]."""
        if channel in SECOND_AGGS:
            return [self._encode_aggregate(channel, ticks.second_aggregate(ticker, s, self.rate))
                    for s in range(last // NS, now // NS)]  # fmt: skip
        if channel in MINUTE_AGGS:
            return [self._encode_aggregate(channel, ticks.minute_aggregate(ticker, m, self.rate))
                    for m in range(last // MINUTE_NS, now // MINUTE_NS)]  # fmt: skip
        out: list[str] = []
        for second in range((last + 1) // NS, now // NS + 1):
            cached = self._second(channel, ticker, second)
            out.extend(
                cached.encoded[
                    bisect.bisect_right(cached.times, last) : bisect.bisect_right(cached.times, now)
                ]
            )
        return out

    def _encode_aggregate(self, channel: str, aggregate: ticks.Aggregate) -> str:
        return json.dumps(ticks.aggregate_event(aggregate, channel, self.rate), separators=(",", ":"))

    def _second(self, channel: str, ticker: str, second: int) -> _Second:
        cached = self._seconds.get((channel, ticker))
        if cached is not None and cached.second == second:
            return cached
        stock = channel in ("T", "Q")
        if channel in TRADES:
            trades = ticks.second_trades(ticker, second, self.rate)
            times = [t.sip_timestamp for t in trades]
            encoded = [ticks.trade_json(t) if stock else _dumps(ticks.trade_event(t)) for t in trades]
        else:
            quotes = ticks.second_quotes(ticker, second, self.rate)
            times = [q.sip_timestamp for q in quotes]
            encoded = [ticks.quote_json(q) if stock else _dumps(ticks.quote_event(q)) for q in quotes]
        made = _Second(second, times, encoded)
        self._seconds[(channel, ticker)] = made  # one second per channel and ticker: memory stays flat
        return made


def _dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


def _parse(raw: str | bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _port(server: Server) -> int:
    return int(next(iter(server.sockets)).getsockname()[1])
