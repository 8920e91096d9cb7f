"""Deterministic trades and quotes: every tick is a pure function of (ticker, time, rate).

Each whole second ``S`` of a ticker holds exactly ``rate`` trades and ``rate`` quotes. Trade ``k`` of the
second sits at a nanosecond offset inside the ``k``-th of ``rate`` equal slots of that second, so ticks are
ordered, distinct in time, and never depend on when or how often they are asked for. Sequence numbers are
``2 * (S * rate + k)`` for the trade and that plus one for the quote: strictly increasing per ticker (for one
rate), unique across trades and quotes, and derivable from the time alone; a trade's id is its sequence
number as a string.

What agrees with what:

- The stream (:mod:`anthill_sandbox.stream`) and ``/v3/trades`` / ``/v3/quotes`` serve the very same ticks
  (ids, sequence numbers, timestamps, prices, sizes), so a client fills a gap from REST with the same keys.
- A second's or a minute's aggregate (the ``A``/``AM`` and ``XAS``/``XA`` events) is the aggregation of
  exactly that interval's trades: first price, highest, lowest, last, summed size, volume-weighted price.
- In a session minute (a minute ``data.minute_bars`` has a bar for: 09:30-16:00 on trading days for stocks,
  every minute for crypto) the minute's first trade prints the REST minute bar's open, its last the close,
  and its highest and lowest trades touch the bar's high and low, to the bar's four decimals. The minute's
  volume is the bar's volume too, unless ``60 * rate`` trades of one share (one millionth of a coin) each
  exceed it; the number of trades (``60 * rate``) never matches the bar's ``n``, and outside sessions there
  is no REST bar to agree with.
- Outside sessions (the stream runs around the clock so demos work any time) prices follow a smooth
  deterministic walk that starts at the instrument's last daily close, with a thin volume.
- ``av``, ``a`` and ``op`` of the stock aggregates describe the UTC day so far: ``av`` is the exact volume
  traded since midnight, ``op`` the day's official open (the daily bar's open; off trading days the day's
  first print), and ``a`` the day's VWAP with each complete minute weighted at its typical price.

Quotes sit around the trade of the same slot: bid below ask, a spread of a few basis points.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import random
import threading
from array import array
from collections import OrderedDict
from functools import cache, lru_cache
from itertools import pairwise
from typing import Any, NamedTuple

from anthill_ingest.calendar import is_trading_day, previous_trading_day
from anthill_sandbox import data

NS = 1_000_000_000
MS = 1_000_000
SECONDS = 60
MAX_RATE = 10_000
DEFAULT_RATE = 10
DECIMALS = 4  # the REST bars' rounding: trade prices carry as many, so extremes equal the bar's exactly
STOCK_EXCHANGES = (4, 4, 4, 12, 12, 11, 10, 8, 19, 15, 7, 21)  # FINRA's TRF most often, then the venues
CRYPTO_EXCHANGES = (1, 1, 2, 6, 23)
STOCK_TAPE = 3  # the sandbox's reference data lists every stock on Nasdaq
ODD_LOT = 37  # the trade condition of a size below 100 shares
ROUND_LOT = 100
REGULAR_QUOTE = 1
CRYPTO_LOTS = 1_000_000  # crypto sizes are whole millionths of a coin, so volumes add up exactly
OFF_HOURS_SHARE = 0.03  # an off-session minute's volume against an average session minute's
CACHE_EVENTS = 2_000_000  # ticks kept in generated minutes, however many minutes that is: memory stays flat
STREAMED_MARKETS = ("stocks", "crypto")


class Trade(NamedTuple):
    ticker: str
    sip_timestamp: int  # nanoseconds: the event's time, on the stream and in REST ranges
    participant_timestamp: int
    sequence: int
    price: float
    size: float  # shares (an int) for stocks, coins for crypto
    exchange: int
    conditions: tuple[int, ...]


class Quote(NamedTuple):
    ticker: str
    sip_timestamp: int
    participant_timestamp: int
    sequence: int
    bid_price: float
    bid_size: float
    bid_exchange: int
    ask_price: float
    ask_size: float
    ask_exchange: int


class Aggregate(NamedTuple):
    ticker: str
    start_ms: int
    end_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float
    trades: int


class _Minute(NamedTuple):
    """One minute's ticks in columns (index ``second_in_minute * rate + k``); sizes in lots. Arrays, not
    lists: about 75 bytes a tick instead of 400."""

    prices: array[float]
    sizes: array[int]
    trade_offsets: array[int]  # ns after the minute's start
    trade_latency: array[int]
    trade_exchange: array[int]
    quote_offsets: array[int]
    quote_latency: array[int]
    half_spread: array[float]
    bid_size: array[int]
    ask_size: array[int]
    bid_exchange: array[int]
    ask_exchange: array[int]


def check_rate(rate: int) -> int:
    if not 1 <= rate <= MAX_RATE:
        raise ValueError(f"rate: events per second per ticker must be 1 to {MAX_RATE}, not {rate}")
    return rate


def streamed(ticker: str) -> bool:
    instrument = data.INSTRUMENTS.get(ticker)
    return instrument is not None and instrument.market in STREAMED_MARKETS


def _lots(ticker: str) -> int:
    return CRYPTO_LOTS if data.INSTRUMENTS[ticker].market == "crypto" else 1


def _rng(*key: object) -> random.Random:
    """A generator that depends only on ``key``."""
    seed = int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "big")
    return random.Random(seed)  # noqa: S311 - synthetic prices, not secrets


@lru_cache(maxsize=64)  # a day of crypto minutes is about 400 KB
def _session_bars(ticker: str, day: datetime.date) -> dict[int, data.DailyBar]:
    """The day's REST minute bars by their start in epoch minutes."""
    return {ts // 60_000: bar for ts, bar in data.minute_bars(ticker, day)}


def _day(minute: int) -> datetime.date:
    return datetime.datetime.fromtimestamp(minute * SECONDS, tz=datetime.UTC).date()


def _minute_of(day: datetime.date, hour: int, minute: int) -> int:
    moment = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.UTC)
    return int(moment.timestamp()) // SECONDS


@cache
def _phases(ticker: str) -> tuple[float, ...]:
    rng = _rng(ticker, "walk")
    return tuple(rng.random() * 2 * math.pi for _ in range(4))


WALK_PERIODS = (41.0, 173.0, 617.0, 2411.0)  # minutes
WALK_WEIGHTS = (0.15, 0.3, 0.6, 1.0)


def _walk(ticker: str, minute: int) -> float:
    """A smooth deterministic log-price offset (a few slow waves of random phase); continuous in ``minute``."""
    return sum(w * math.sin(2 * math.pi * minute / p + f)
               for w, p, f in zip(WALK_WEIGHTS, WALK_PERIODS, _phases(ticker), strict=True))  # fmt: skip


def _close_minute(day: datetime.date) -> int:
    """The epoch minute a stock session of ``day`` closes (the first minute after it)."""
    return (
        _minute_of(day, data.SESSION_OPEN_UTC_HOUR, data.SESSION_OPEN_UTC_MINUTE) + data.MINUTES_PER_SESSION
    )


def _anchor(ticker: str, minute: int) -> tuple[float, int]:
    """The last daily close before an off-session minute of a stock, and the minute that session closed."""
    day = _day(minute)
    if not (is_trading_day(day) and minute >= _close_minute(day)):
        day = previous_trading_day(day)
    bar = data.daily_bar(ticker, day)
    close = data.INSTRUMENTS[ticker].start_price if bar is None else bar.close  # None: before the origin
    return close, _close_minute(day)


@lru_cache(maxsize=65_536)
def minute_bar(ticker: str, minute: int, rate: int) -> tuple[float, float, float, float, int]:
    """(open, high, low, close, volume in lots) the minute's trades have; ``minute`` in epoch minutes."""
    lots = _lots(ticker)
    floor = SECONDS * rate
    bar = _session_bars(ticker, _day(minute)).get(minute)
    if bar is not None:
        volume = max(int(bar.volume * lots), floor)
        return (
            round(bar.open, DECIMALS),
            round(bar.high, DECIMALS),
            round(bar.low, DECIMALS),
            round(bar.close, DECIMALS),
            volume,
        )
    instrument = data.INSTRUMENTS[ticker]
    close, since = _anchor(ticker, minute)
    scale = 0.5 * instrument.idio_vol
    base = _walk(ticker, since)
    o = close * math.exp(scale * (_walk(ticker, minute) - base))
    c = close * math.exp(scale * (_walk(ticker, minute + 1) - base))
    rng = _rng(ticker, minute, "off")
    wick = 0.1 * scale
    h, lo = max(o, c) * (1 + wick * rng.random()), min(o, c) * (1 - wick * rng.random())
    per_minute = instrument.base_volume / data.MINUTES_PER_SESSION * OFF_HOURS_SHARE
    volume = max(int(per_minute * (0.5 + rng.random()) * lots), floor)
    return round(o, DECIMALS), round(h, DECIMALS), round(lo, DECIMALS), round(c, DECIMALS), volume


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``parts`` whole numbers of at least 1 adding up to ``total``, skewed as trade sizes are."""
    weights = [rng.expovariate(1.0) + 0.01 for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    out = [1 + int(w * scale) for w in weights]
    out[-1] += total - sum(out)
    return out


def _path(o: float, h: float, lo: float, c: float, n: int, rng: random.Random) -> list[float]:
    """``n`` prices from ``o`` to ``c`` that touch ``h`` and ``lo`` and never leave them: a Brownian bridge
    through the four, clamped."""
    high_at, low_at = rng.sample(range(1, n - 1), 2)
    anchors = sorted([(0, o), (high_at, h), (low_at, lo), (n - 1, c)])
    sigma = (h - lo) / 3 / math.sqrt(n)
    gauss = rng.gauss
    prices = [0.0] * n
    for (i0, p0), (i1, p1) in pairwise(anchors):
        steps = i1 - i0
        walk = [0.0]
        for _ in range(steps):
            walk.append(walk[-1] + gauss(0.0, 1.0))
        end = walk[-1]
        for j in range(steps + 1):
            prices[i0 + j] = p0 + (p1 - p0) * j / steps + sigma * (walk[j] - end * j / steps)
    prices = [round(min(h, max(lo, p)), DECIMALS) for p in prices]
    prices[0], prices[high_at], prices[low_at], prices[-1] = o, h, lo, c
    return prices


def _generate(ticker: str, minute: int, rate: int) -> _Minute:
    o, h, lo, c, volume = minute_bar(ticker, minute, rate)
    n = SECONDS * rate
    rng = _rng(ticker, minute, rate)
    prices = _path(o, h, lo, c, n, rng)
    per_second = [v + rate - 1 for v in _split(volume - SECONDS * (rate - 1), SECONDS, rng)]
    sizes = [size for v in per_second for size in _split(v, rate, rng)]
    slot = NS // rate
    rand = rng.random
    stock = data.INSTRUMENTS[ticker].market == "stocks"
    exchanges = STOCK_EXCHANGES if stock else CRYPTO_EXCHANGES
    choices = len(exchanges)

    def offsets() -> array[int]:
        return array(
            "q", [s * NS + k * slot + int(rand() * slot) for s in range(SECONDS) for k in range(rate)]
        )

    def latencies() -> array[int]:
        return array("q", [20_000 + int(rand() * 980_000) for _ in range(n)])

    def venues() -> array[int]:
        return array("B", [exchanges[int(rand() * choices)] for _ in range(n)])

    def lot_sizes() -> array[int]:
        if stock:
            return array("q", [ROUND_LOT * (1 + int(rand() * 20)) for _ in range(n)])
        return array("q", [1 + int(rand() * 2 * CRYPTO_LOTS) for _ in range(n)])

    return _Minute(
        prices=array("d", prices),
        sizes=array("q", sizes),
        trade_offsets=offsets(),
        trade_latency=latencies(),
        trade_exchange=venues(),
        quote_offsets=offsets(),
        quote_latency=latencies(),
        half_spread=array("d", [(0.5 + 2.0 * rand()) / 10_000 for _ in range(n)]),
        bid_size=lot_sizes(),
        ask_size=lot_sizes(),
        bid_exchange=venues(),
        ask_exchange=venues(),
    )


_cache: OrderedDict[tuple[str, int, int], _Minute] = OrderedDict()
_cached_events = 0
_lock = threading.Lock()


def _minute(ticker: str, minute: int, rate: int) -> _Minute:
    """A generated minute, from a cache bounded by the number of ticks it holds."""
    global _cached_events  # noqa: PLW0603 - the cache's size, kept with it
    key = (ticker, minute, rate)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    made = _generate(ticker, minute, rate)
    with _lock:
        if key not in _cache:
            _cache[key] = made
            _cached_events += len(made.prices)
        while _cached_events > CACHE_EVENTS and len(_cache) > 1:
            _, dropped = _cache.popitem(last=False)
            _cached_events -= len(dropped.prices)
    return made


def warm(ticker: str, minute: int, rate: int) -> None:
    """Generate a minute (and its day's totals) ahead of its time, so that serving it later costs little."""
    _minute(ticker, minute, rate)
    _day_prefix(ticker, _day(minute), rate)


def second_trades(ticker: str, second: int, rate: int) -> list[Trade]:
    """The ``rate`` trades of one second (epoch seconds), oldest first."""
    minute, index = divmod(second, SECONDS)
    m = _minute(ticker, minute, rate)
    start, base, lots = index * rate, minute * SECONDS * NS, _lots(ticker)
    sequence = 2 * second * rate
    stock = lots == 1
    out = []
    for i in range(start, start + rate):
        sip = base + m.trade_offsets[i]
        size = m.sizes[i]
        conditions = ((ODD_LOT,) if size < ROUND_LOT else ()) if stock else ((1 + size % 2,))
        out.append(Trade(ticker, sip, sip - m.trade_latency[i], sequence, m.prices[i],
                         size if stock else size / lots, m.trade_exchange[i], conditions))  # fmt: skip
        sequence += 2
    return out


def second_quotes(ticker: str, second: int, rate: int) -> list[Quote]:
    """The ``rate`` quotes of one second, oldest first, each around the trade of its slot."""
    minute, index = divmod(second, SECONDS)
    m = _minute(ticker, minute, rate)
    start, base, lots = index * rate, minute * SECONDS * NS, _lots(ticker)
    sequence = 2 * second * rate + 1
    tick = 10.0**-DECIMALS
    out = []
    for i in range(start, start + rate):
        sip = base + m.quote_offsets[i]
        mid, half = m.prices[i], m.prices[i] * m.half_spread[i]
        bid, ask = round(mid - half, DECIMALS), round(mid + half, DECIMALS)
        if ask <= bid:
            ask = round(bid + tick, DECIMALS)
        bid_size, ask_size = m.bid_size[i], m.ask_size[i]
        out.append(Quote(ticker, sip, sip - m.quote_latency[i], sequence, bid,
                         bid_size if lots == 1 else bid_size / lots, m.bid_exchange[i], ask,
                         ask_size if lots == 1 else ask_size / lots, m.ask_exchange[i]))  # fmt: skip
        sequence += 2
    return out


def _check_range(ticker: str, rate: int) -> None:
    if not streamed(ticker):
        raise ValueError(f"ticker: the sandbox has ticks for stocks and crypto only, not {ticker!r}")
    check_rate(rate)


def trades(ticker: str, start_ns: int, end_ns: int, rate: int) -> list[Trade]:
    """The trades with ``start_ns <= sip_timestamp < end_ns``, oldest first."""
    _check_range(ticker, rate)
    out: list[Trade] = []
    for second in range(start_ns // NS, -(-end_ns // NS)):
        out.extend(t for t in second_trades(ticker, second, rate) if start_ns <= t.sip_timestamp < end_ns)
    return out


def quotes(ticker: str, start_ns: int, end_ns: int, rate: int) -> list[Quote]:
    """The quotes with ``start_ns <= sip_timestamp < end_ns``, oldest first."""
    _check_range(ticker, rate)
    out: list[Quote] = []
    for second in range(start_ns // NS, -(-end_ns // NS)):
        out.extend(q for q in second_quotes(ticker, second, rate) if start_ns <= q.sip_timestamp < end_ns)
    return out


def aggregate(ticker: str, trades_: list[Trade], start_ms: int, end_ms: int) -> Aggregate:
    """The aggregate of some trades (oldest first) over [start_ms, end_ms)."""
    volume = sum(t.size for t in trades_)
    notional = sum(t.price * t.size for t in trades_)
    lots = _lots(ticker)
    return Aggregate(ticker, start_ms, end_ms, trades_[0].price, max(t.price for t in trades_),
                     min(t.price for t in trades_), trades_[-1].price,
                     volume if lots == 1 else round(volume, 6), round(notional / volume, DECIMALS),
                     len(trades_))  # fmt: skip


def _aggregate(ticker: str, m: _Minute, start: int, stop: int, start_ms: int, end_ms: int) -> Aggregate:
    prices, sizes = m.prices[start:stop], m.sizes[start:stop]
    volume = sum(sizes)
    notional = sum(p * s for p, s in zip(prices, sizes, strict=True))
    lots = _lots(ticker)
    return Aggregate(ticker, start_ms, end_ms, prices[0], max(prices), min(prices), prices[-1],
                     volume if lots == 1 else round(volume / lots, 6), round(notional / volume, DECIMALS),
                     len(prices))  # fmt: skip


def second_aggregate(ticker: str, second: int, rate: int) -> Aggregate:
    """The aggregate of one second's trades, straight from the generated minute (no Trade objects)."""
    minute, index = divmod(second, SECONDS)
    m = _minute(ticker, minute, rate)
    return _aggregate(ticker, m, index * rate, (index + 1) * rate, second * 1000, (second + 1) * 1000)


def minute_aggregate(ticker: str, minute: int, rate: int) -> Aggregate:
    """The aggregate of one minute's trades (``minute`` in epoch minutes)."""
    m = _minute(ticker, minute, rate)
    return _aggregate(ticker, m, 0, len(m.prices), minute * 60_000, (minute + 1) * 60_000)


@lru_cache(maxsize=128)
def _day_prefix(ticker: str, day: datetime.date, rate: int) -> tuple[list[int], list[float]]:
    """Per minute of the UTC day: the volume (lots) and typical-price notional traded before it."""
    first = _minute_of(day, 0, 0)
    volumes, notionals = [0], [0.0]
    for minute in range(first, first + 24 * 60):
        o, h, lo, c, v = minute_bar(ticker, minute, rate)
        volumes.append(volumes[-1] + v)
        notionals.append(notionals[-1] + v * (o + h + lo + c) / 4)
    return volumes, notionals


def day_so_far(ticker: str, second: int, rate: int) -> tuple[float, float, float]:
    """(accumulated volume, VWAP, official open) of the UTC day up to the end of ``second``."""
    minute, index = divmod(second, SECONDS)
    day = _day(minute)
    volumes, notionals = _day_prefix(ticker, day, rate)
    before = minute - _minute_of(day, 0, 0)
    m = _minute(ticker, minute, rate)
    stop = (index + 1) * rate
    lots = _lots(ticker)
    volume = volumes[before] + sum(m.sizes[:stop])
    notional = notionals[before] + sum(p * s for p, s in zip(m.prices[:stop], m.sizes[:stop], strict=True))
    daily = data.daily_bar(ticker, day)
    official = (
        round(daily.open, DECIMALS) if daily is not None else minute_bar(ticker, minute - before, rate)[0]
    )
    return volume / lots if lots != 1 else volume, round(notional / volume, DECIMALS), official


def pair(ticker: str) -> str:
    """The stream's name of a crypto ticker: X:BTCUSD -> BTC-USD."""
    symbol = ticker.removeprefix("X:")
    return f"{symbol[:-3]}-{symbol[-3:]}"


def crypto_ticker(pair_: str) -> str:
    return f"X:{pair_.replace('-', '')}"


def trade_event(t: Trade) -> dict[str, Any]:
    """The WebSocket event of a trade: ``T`` for stocks, ``XT`` for crypto."""
    if data.INSTRUMENTS[t.ticker].market == "crypto":
        return {"ev": "XT", "pair": pair(t.ticker), "p": t.price, "t": t.sip_timestamp // MS, "s": t.size,
                "c": list(t.conditions), "i": str(t.sequence), "x": t.exchange,
                "r": t.participant_timestamp // MS}  # fmt: skip
    out = {"ev": "T", "sym": t.ticker, "i": str(t.sequence), "x": t.exchange, "p": t.price, "s": t.size,
           "t": t.sip_timestamp // MS, "q": t.sequence, "z": STOCK_TAPE}  # fmt: skip
    if t.conditions:
        out["c"] = list(t.conditions)
    return out


def quote_event(q: Quote) -> dict[str, Any]:
    """The WebSocket event of a quote: ``Q`` for stocks, ``XQ`` for crypto."""
    if data.INSTRUMENTS[q.ticker].market == "crypto":
        return {"ev": "XQ", "pair": pair(q.ticker), "bp": q.bid_price, "bs": q.bid_size, "ap": q.ask_price,
                "as": q.ask_size, "t": q.sip_timestamp // MS, "x": q.bid_exchange,
                "r": q.participant_timestamp // MS}  # fmt: skip
    return {"ev": "Q", "sym": q.ticker, "bx": q.bid_exchange, "bp": q.bid_price, "bs": q.bid_size,
            "ax": q.ask_exchange, "ap": q.ask_price, "as": q.ask_size, "c": REGULAR_QUOTE,
            "t": q.sip_timestamp // MS, "q": q.sequence, "z": STOCK_TAPE}  # fmt: skip


def aggregate_event(a: Aggregate, channel: str, rate: int) -> dict[str, Any]:
    """The WebSocket event of an aggregate on ``channel`` (A, AM, XAS or XA)."""
    if channel in ("XA", "XAS"):
        return {"ev": channel, "pair": pair(a.ticker), "o": a.open, "c": a.close, "h": a.high, "l": a.low,
                "v": a.volume, "vw": a.vwap, "s": a.start_ms, "e": a.end_ms,
                "z": round(a.volume / a.trades, 6)}  # fmt: skip
    accumulated, vwap, official = day_so_far(a.ticker, a.end_ms // 1000 - 1, rate)
    return {"ev": channel, "sym": a.ticker, "v": a.volume, "av": accumulated, "op": official, "vw": a.vwap,
            "o": a.open, "c": a.close, "h": a.high, "l": a.low, "a": vwap, "z": a.volume // a.trades,
            "s": a.start_ms, "e": a.end_ms}  # fmt: skip


def rest_trade(t: Trade) -> dict[str, Any]:
    """A trade as ``/v3/trades`` lists it."""
    out: dict[str, Any] = {"exchange": t.exchange, "id": str(t.sequence),
                           "participant_timestamp": t.participant_timestamp, "price": t.price,
                           "sequence_number": t.sequence, "sip_timestamp": t.sip_timestamp, "size": t.size}  # fmt: skip
    if t.conditions:
        out = {"conditions": list(t.conditions), **out}
    if data.INSTRUMENTS[t.ticker].market == "stocks":
        out["tape"] = STOCK_TAPE
    return out


def rest_quote(q: Quote) -> dict[str, Any]:
    """A quote as ``/v3/quotes`` lists it."""
    out: dict[str, Any] = {"ask_exchange": q.ask_exchange, "ask_price": q.ask_price, "ask_size": q.ask_size,
                           "bid_exchange": q.bid_exchange, "bid_price": q.bid_price, "bid_size": q.bid_size,
                           "conditions": [REGULAR_QUOTE], "participant_timestamp": q.participant_timestamp,
                           "sequence_number": q.sequence, "sip_timestamp": q.sip_timestamp}  # fmt: skip
    if data.INSTRUMENTS[q.ticker].market == "stocks":
        out["tape"] = STOCK_TAPE
    return out


def trade_json(t: Trade) -> str:
    """``json.dumps(trade_event(t))`` without the dictionary, for stocks: the stream's hot path."""
    conditions = f',"c":[{",".join(map(str, t.conditions))}]' if t.conditions else ""
    return (f'{{"ev":"T","sym":"{t.ticker}","i":"{t.sequence}","x":{t.exchange},"p":{t.price!r},'
            f'"s":{t.size!r},"t":{t.sip_timestamp // MS},"q":{t.sequence},"z":{STOCK_TAPE}{conditions}}}')  # fmt: skip


def quote_json(q: Quote) -> str:
    """``json.dumps(quote_event(q))`` without the dictionary, for stocks."""
    return (f'{{"ev":"Q","sym":"{q.ticker}","bx":{q.bid_exchange},"bp":{q.bid_price!r},"bs":{q.bid_size!r},'
            f'"ax":{q.ask_exchange},"ap":{q.ask_price!r},"as":{q.ask_size!r},"c":{REGULAR_QUOTE},'
            f'"t":{q.sip_timestamp // MS},"q":{q.sequence},"z":{STOCK_TAPE}}}')  # fmt: skip
