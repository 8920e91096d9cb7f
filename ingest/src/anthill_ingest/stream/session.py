"""The stream's process: one WebSocket connection through the massive client, the buffer, flushes and fills.

One asyncio loop runs the connection (the massive client calls :meth:`Session.on_frame` with each raw frame),
a tick that flushes when due, reports and polls the mounted spec, and the flushes themselves (in a worker
thread, so the connection keeps receiving). At most one flush is in flight: when the buffer fills while one
is, receiving waits, so memory holds two batches at most and a slow sink slows the connection down instead
of growing the process (the server then drops a consumer too slow for it, and the gap fill catches up).

The stream never exits on its own: a refused key or channel is reported and retried with a long backoff
(a Deployment that exits only crash-loops). SIGTERM stops receiving, flushes and writes the checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from massive import WebSocketClient
from massive.exceptions import AuthError
from websockets.exceptions import ConnectionClosedError

from anthill_api.lake import stream_state_key
from anthill_ingest.client import MarketData
from anthill_ingest.config import ConfigError
from anthill_ingest.sink import Sink
from anthill_ingest.stream import gapfill
from anthill_ingest.stream.bronze import (
    Checkpoint,
    Flushed,
    Position,
    event_times,
    read_checkpoint,
    write_batch,
    write_rejected,
)
from anthill_ingest.stream.buffer import Batch, Buffer
from anthill_ingest.stream.config import StreamConfig, parse_stream
from anthill_ingest.stream.events import FILLED_CHANNELS
from anthill_ingest.stream.protocol import Backoff, Feed, channel_of, classify, redact
from anthill_ingest.stream.stats import Stats, flush_lag_p99

log = logging.getLogger("anthill_ingest.stream")
T = TypeVar("T")

TICK_SECONDS = 0.1
CONFIG_POLL_SECONDS = 2.0
RECONNECT = Backoff(initial=0.5, cap=60.0)
REFUSED = Backoff(initial=15.0, cap=300.0)  # a refused key or channel waits for someone to fix the plan
WRITE_RETRY = Backoff(initial=1.0, cap=30.0)
FILL_RETRY = Backoff(initial=5.0, cap=300.0)
FILL_MARGIN_MS = 1000  # the fill reaches past the connect time: clocks differ; silver drops the overlap
STOP_WRITE_ATTEMPTS = 3  # on SIGTERM, a sink that keeps failing is given up on after this many tries
MAX_FRAME_BYTES = 16 * 2**20


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso_ms(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat(timespec="milliseconds")


class Session:
    """One stream pod's work, from start to SIGTERM."""

    def __init__(self, path: Path, text: str, config: StreamConfig, api_key: str, feed: Feed,
                 api: MarketData | None, sink: Sink, rng: random.Random | None = None) -> None:  # fmt: skip
        self.path, self.text, self.config = path, text, config
        self.api_key, self.feed, self.api, self.sink = api_key, feed, api, sink
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        spec = config.spec
        self.buffer = Buffer(frozenset(spec.channels), spec.flush.max_rows, spec.flush.interval_seconds)
        self.stats = Stats()
        self.checkpoint = Checkpoint()  # what bronze holds, per channel and ticker
        self.held: Checkpoint | None = None  # the filled channels' positions while a fill is pending
        self.start_unrecorded = False  # a first start's positions, to be in the checkpoint before any file
        self.fills_pending = 0
        self.refusals: dict[str, int] = {}  # channel -> refusals in a row
        self.retries: dict[str, asyncio.TimerHandle] = {}  # channel -> its scheduled resubscription
        self.client: WebSocketClient | None = None
        self.subscribed_at: int | None = None  # ms, per connection
        self.frames = 0  # of this connection
        self.flushing: asyncio.Task[None] | None = None
        self.stop_fill = threading.Event()
        self.last_report = 0.0
        self.last_poll = 0.0
        self.malformed_reported = 0

    # The process

    async def run(self) -> None:
        """Stream until SIGTERM (or SIGINT), then flush and write the checkpoint."""
        loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        self.flush_lock = asyncio.Lock()
        self.fill_lock = asyncio.Lock()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        self.checkpoint = await asyncio.to_thread(self._read_checkpoint)
        self.report()
        tasks = [asyncio.create_task(self._connection_loop()), asyncio.create_task(self._tick_loop())]
        await self.stopping.wait()
        self.stop_fill.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for handle in self.retries.values():
            handle.cancel()
        await self.flush()
        if self.flushing is not None:
            await self.flushing
        self.stats.state, self.stats.connected, self.stats.reason = "Stopped", False, "stopped by a signal"
        self.report()

    def _read_checkpoint(self) -> Checkpoint:
        try:
            found = read_checkpoint(self.sink, self.config.namespace, self.config.name)
        except ValueError as exc:
            log.warning("checkpoint %s is unreadable (%s): streaming without a gap fill",
                        stream_state_key(self.config.namespace, self.config.name), exc)  # fmt: skip
            return Checkpoint()
        return found or Checkpoint()

    # The connection

    def desired(self) -> list[str]:
        """The subscriptions to hold now: the spec's, less those of channels waiting after a refusal."""
        asset_class = self.config.spec.asset_class
        return sorted(
            s for s in self.config.subscriptions() if channel_of(s, asset_class) not in self.retries
        )

    async def _connection_loop(self) -> None:
        attempt = 0
        while True:
            self.client = WebSocketClient(api_key=self.api_key, feed=self.feed.host, secure=self.feed.secure,
                                          market=self.config.spec.asset_class, raw=True,
                                          subscriptions=self.desired(), max_reconnects=0)  # fmt: skip
            self.subscribed_at, self.frames = None, 0
            backoff = RECONNECT
            try:
                await self.client.connect(self.on_frame, reconnect_delays=self._connect_delays,
                                          max_size=MAX_FRAME_BYTES)  # fmt: skip
                reason = "the server closed the connection"
            except AuthError as exc:
                self.stats.state = "AuthFailed"
                reason = f"the server refused the API key: {redact(str(exc), self.api_key)}"
                backoff = REFUSED
            except ConnectionClosedError as exc:
                reason = f"connection lost ({redact(str(exc), self.api_key)[:200]})"
            except (OSError, TimeoutError) as exc:
                reason = f"connection failed ({type(exc).__name__})"
            except Exception as exc:  # a reply the client could not read, a defect: reconnect, never stop
                log.error("the connection failed unexpectedly", exc_info=exc)
                reason = f"unexpected {type(exc).__name__}: {redact(str(exc), self.api_key)[:200]}"
            attempt = 0 if self.frames and backoff is RECONNECT else attempt + 1
            if self.stats.state != "AuthFailed":
                self.stats.state = "Connecting"
            self.stats.connected, self.stats.reason = False, reason
            self.stats.reconnects += 1
            self.report()
            await asyncio.sleep(backoff.delay(attempt - 1 if attempt else 0, self.rng))
            if self.stats.state == "AuthFailed":
                self.stats.state = "Connecting"

    def _connect_delays(self) -> Iterator[float]:
        """The client's waits between failed connection attempts (server unreachable): our backoff, counted."""
        attempt = 0
        while True:
            self.stats.state, self.stats.connected = "Connecting", False
            self.stats.reason = f"cannot reach the stream at {self.feed.host}"
            self.stats.reconnects += 1
            self.report()
            yield RECONNECT.delay(attempt, self.rng)
            attempt += 1

    async def on_frame(self, raw: str | bytes) -> None:
        """One frame from the server: events into the buffer, statuses into the stream's state."""
        self.frames += 1
        if not self.stats.connected:
            self.stats.connected = True
            self.stats.state, self.stats.reason = "Connecting", "subscribing"
        try:
            events = json.loads(raw)
        except ValueError:
            self.buffer.malformed += 1
            return
        statuses = self.buffer.add_frame(events, time.monotonic())
        if statuses:
            self._on_statuses(statuses)
        if self.buffer.full():
            await (
                self.flush()
            )  # waits for the flush in flight: the connection slows down, memory does not grow

    def _on_statuses(self, statuses: list[dict[str, Any]]) -> None:
        asset_class = self.config.spec.asset_class
        refused: set[str] = set()
        reasons: list[str] = []
        for status in statuses:
            kind, channels = classify(status, asset_class)
            message = redact(str(status.get("message", ""))[:300], self.api_key)
            if kind == "subscribed":
                for channel in channels:
                    self.refusals.pop(channel, None)
                if self.subscribed_at is None:
                    self.subscribed_at = _ms(_now())
                    self._start_fill(self.subscribed_at + FILL_MARGIN_MS)
                    self._mark_start(self.subscribed_at - FILL_MARGIN_MS)
            elif kind == "refused":
                refused |= channels or set(self.config.spec.channels)
                reasons.append(message)
            elif kind == "notice":
                log.warning("the stream server says %s: %s", status.get("status"), message)
        newly = [channel for channel in sorted(refused) if self._refuse(channel)]
        self._settle(reasons[0] if newly else None)

    def _refuse(self, channel: str) -> bool:
        """Drop the channel's subscriptions and ask again later: the other channels keep streaming. False
        when a retry of the channel is already scheduled (the server refuses each of its tickers)."""
        if channel in self.retries:
            return False
        attempt = self.refusals.get(channel, 0)
        self.refusals[channel] = attempt + 1
        params = [
            s for s in self.config.subscriptions() if channel_of(s, self.config.spec.asset_class) == channel
        ]
        if self.client is not None:
            self.client.unsubscribe(*params)
        delay = REFUSED.delay(attempt, self.rng)
        self.retries[channel] = asyncio.get_running_loop().call_later(delay, self._retry_channel, channel)
        return True

    def _retry_channel(self, channel: str) -> None:
        self.retries.pop(channel, None)
        params = [
            s for s in self.config.subscriptions() if channel_of(s, self.config.spec.asset_class) == channel
        ]
        if self.client is not None and params:
            self.client.subscribe(*params)

    def _settle(self, refusal: str | None) -> None:
        """The state once statuses are in: Streaming, or ChannelNotAuthorized while a channel is refused."""
        if not self.stats.connected:
            return
        before = (self.stats.state, self.stats.reason)
        if self.retries:
            self.stats.state = "ChannelNotAuthorized"
            self.stats.reason = refusal or self.stats.reason
        elif self.subscribed_at is not None:
            self.stats.state, self.stats.reason = "Streaming", None
        if (self.stats.state, self.stats.reason) != before and self.stats.state != "Connecting":
            self.report()

    # Flushing

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            if self.buffer.due(now):
                await self.flush()
            if now - self.last_report >= self.config.spec.flush.interval_seconds:
                self.report()
                if self.buffer.malformed > self.malformed_reported:
                    log.warning("set aside %d messages that were no events of a known shape",
                                self.buffer.malformed - self.malformed_reported)  # fmt: skip
                    self.malformed_reported = self.buffer.malformed
            if now - self.last_poll >= CONFIG_POLL_SECONDS:
                self.last_poll = now
                self.poll_config()

    async def flush(self) -> None:
        """Hand what the buffer holds to a writer, once the previous flush is done."""
        async with self.flush_lock:
            if self.flushing is not None:
                await asyncio.shield(self.flushing)  # a cancelled caller must not cancel the write
            batch = self.buffer.take()
            self.flushing = asyncio.create_task(self._write(batch)) if batch else None

    def _mark_start(self, start_ms: int) -> None:
        """A filled channel that bronze holds nothing of starts here: its tickers' positions go into the
        checkpoint before the first flush's files do (:meth:`_write`), so a process killed after writing
        files but before recording them leaves a checkpoint its successor fills the gap from."""
        tickers = [] if self.config.all_tickers else list(self.config.spec.tickers)
        for channel in sorted(set(self.config.spec.channels) & set(FILLED_CHANNELS)):
            if self.checkpoint.earliest(channel) is None and tickers:
                self.checkpoint.positions[channel] = {ticker: Position(start_ms) for ticker in tickers}
                self.start_unrecorded = True

    async def _write(self, batch: Batch) -> None:
        if self.start_unrecorded:
            text = self.durable_checkpoint().to_json().encode()
            key = stream_state_key(self.config.namespace, self.config.name)
            await self._persist(lambda: self.sink.write(key, text))
            self.start_unrecorded = False
        flushed = await self._persist(
            lambda: write_batch(self.sink, self.config.namespace, self.config.name, batch)
        )
        if flushed is None:
            return
        flushed_at = _now()
        for channel, table in flushed.tables.items():
            self.checkpoint.advance(channel, table)
        text = self.durable_checkpoint().to_json().encode()
        key = stream_state_key(self.config.namespace, self.config.name)
        await self._persist(lambda: self.sink.write(key, text))
        await self._quarantine(flushed)
        self.stats.rows_flushed += flushed.rows
        self.stats.last_flush_time = flushed_at
        self.stats.flush_lag_seconds = flush_lag_p99(_ms(flushed_at), event_times(flushed))
        self.report()

    async def _persist(self, write: Callable[[], T]) -> T | None:
        """Run a sink write in a worker thread, retrying with backoff while the sink fails (on SIGTERM,
        a few times only); None when it was given up."""
        attempt = 0
        while True:
            try:
                return await asyncio.to_thread(write)
            except Exception as exc:  # any sink failure: S3 errors come in many classes
                attempt += 1
                if self.stopping.is_set() and attempt >= STOP_WRITE_ATTEMPTS:
                    log.error("writing bronze failed %d times while stopping (%s: %s); giving up",
                              attempt, type(exc).__name__, str(exc)[:200])  # fmt: skip
                    return None
                delay = WRITE_RETRY.delay(attempt - 1, self.rng)
                log.warning("writing bronze failed (%s: %s); retrying in %.1fs",
                            type(exc).__name__, str(exc)[:200], delay)  # fmt: skip
                await asyncio.sleep(delay)

    def durable_checkpoint(self) -> Checkpoint:
        """The checkpoint to write: while a fill is pending, its channels stay where they were, so a restart
        fills the same gap again rather than skipping it."""
        return self.checkpoint if self.held is None else self.checkpoint.merged(self.held, FILLED_CHANNELS)

    async def _quarantine(self, flushed: Flushed) -> None:
        if not flushed.rejected:
            return
        rejected = flushed.rejected
        key = await self._persist(
            lambda: write_rejected(self.sink, self.config.namespace, self.config.name, rejected)
        )
        channel, _, why = rejected[0]
        log.warning("set aside %d events of unexpected shape, kept at %s (first: %s, %s)",
                    len(rejected), key, channel, why)  # fmt: skip

    def report(self) -> None:
        self.last_report = time.monotonic()
        line = self.stats.line(_now(), self.last_report, self.buffer.received)
        log.info("StreamStats: %s", self.stats.state, extra={"fields": line})

    # Gap fill

    def _start_fill(self, end_ms: int) -> None:
        if not self.config.spec.gap_fill or self.api is None:
            return
        base = self.durable_checkpoint()
        tickers = None if self.config.all_tickers else list(self.config.spec.tickers)
        gap_list = gapfill.gaps(
            base, self.config.spec.channels, tickers, end_ms, self.config.spec.asset_class
        )
        if not gap_list:
            return
        if self.held is None:
            self.held = Checkpoint({c: dict(p) for c, p in base.positions.items() if c in FILLED_CHANNELS})
        self.fills_pending += 1
        asyncio.get_running_loop().create_task(self._fill(gap_list))

    async def _fill(self, gap_list: list[gapfill.Gap]) -> None:
        async with self.fill_lock:  # one fill at a time: a reconnect during a fill queues its own
            await self._fill_now(gap_list)

    async def _fill_now(self, gap_list: list[gapfill.Gap]) -> None:
        api = self.api
        assert api is not None  # noqa: S101 - _start_fill checked
        attempt = 0
        log.info("filling %d gaps from the REST API, %s to %s", len(gap_list),
                 _iso_ms(min(g.start_ms for g in gap_list)), _iso_ms(gap_list[0].end_ms))  # fmt: skip
        while True:
            try:
                flushed = await _in_daemon_thread(lambda: gapfill.fill(
                    api, self.sink, self.config.namespace, self.config.name, gap_list,
                    self.config.spec.flush.max_rows, self.stop_fill))  # fmt: skip
                break
            except Exception as exc:  # an outage or a refused key: the checkpoint stays held, try later
                delay = FILL_RETRY.delay(attempt, self.rng)
                attempt += 1
                log.warning("gap fill failed (%s: %s); retrying in %.0fs", type(exc).__name__,
                            redact(str(exc), self.api_key)[:300], delay)  # fmt: skip
                await asyncio.sleep(delay)
        if self.stop_fill.is_set():
            return  # stopped part way: the checkpoint still holds the gap for the next start
        await self._quarantine(flushed)
        log.info("gap fill wrote %d rows in %d files", flushed.rows, len(flushed.files))
        self.fills_pending -= 1
        if self.fills_pending == 0:
            self.held = None
            text = self.checkpoint.to_json().encode()
            key = stream_state_key(self.config.namespace, self.config.name)
            await self._persist(lambda: self.sink.write(key, text))

    # Spec edits

    def poll_config(self) -> None:
        """Follow the mounted spec: subscribe to what it adds and unsubscribe what it drops, live."""
        try:
            text = self.path.read_text()
        except OSError as exc:
            log.warning("cannot read %s (%s); keeping the running spec", self.path, type(exc).__name__)
            return
        if text == self.text:
            return
        self.text = text
        try:
            new = parse_stream(text, str(self.path))
        except ConfigError as exc:
            log.error("%s; keeping the running spec", exc)
            return
        old = self.config
        if (new.name, new.namespace, new.spec.asset_class, new.spec.destination) != (
            old.name, old.namespace, old.spec.asset_class, old.spec.destination
        ):  # fmt: skip
            log.warning("the spec's name, asset class or destination changed: that takes a new pod; "
                        "following its channels and tickers until then")  # fmt: skip
            new = StreamConfig(old.name, old.namespace, new.spec.model_copy(
                update={"asset_class": old.spec.asset_class, "destination": old.spec.destination}))  # fmt: skip
        added, removed = new.subscriptions() - old.subscriptions(), old.subscriptions() - new.subscriptions()
        self.config = new
        self.buffer.set_channels(frozenset(new.spec.channels))
        self.buffer.max_rows, self.buffer.interval = new.spec.flush.max_rows, new.spec.flush.interval_seconds
        for channel in [c for c in self.retries if c not in new.spec.channels]:
            self.retries.pop(channel).cancel()
        if self.client is not None:
            if removed:
                self.client.unsubscribe(*sorted(removed))
            if wanted := sorted(s for s in added if channel_of(s, new.spec.asset_class) not in self.retries):
                self.client.subscribe(*wanted)
        log.info("spec changed: subscribing to %d and unsubscribing from %d subscriptions",
                 len(added), len(removed))  # fmt: skip


async def _in_daemon_thread(work: Callable[[], T]) -> T:
    """``work()`` in a daemon thread: unlike the default executor, the process may exit while it runs (a
    fill stopped by SIGTERM is redone from the checkpoint)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            loop.call_soon_threadsafe(outcome)

    def target() -> None:
        try:
            result = work()
        except BaseException as exc:
            error = exc  # bound here: `exc` is unset once the except clause ends
            settle(lambda: None if future.done() else future.set_exception(error))
        else:
            settle(lambda: None if future.done() else future.set_result(result))

    threading.Thread(target=target, name="gap-fill", daemon=True).start()
    return await future
