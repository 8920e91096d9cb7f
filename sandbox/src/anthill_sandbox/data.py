"""Deterministic synthetic market data with the statistical shape gold tables care about.

Every price is a pure function of (ticker, date): a market factor shared by all stocks plus each stock's
beta and idiosyncratic noise, so returns correlate with the index composite, volatility clusters a little,
volume rises on big moves, and OHLC/VWAP relations always hold (low <= open, close, vwap <= high).

Levels are calibrated: each instrument starts at its real raw price of January 2015 and grows at its real
order of magnitude (``growth``, a yearly log drift), so today's prices look like the market's. Daily shocks
have real volatilities and a near-zero mean; the log price leans back towards the calibrated trend a little
each session (``REVERSION``), so a seed cannot wander off by orders of magnitude and drawdowns stay in the
range real ones do. Raw (unadjusted) prices jump at splits; adjusted prices divide history by the split
ratio. Dividends are quarterly for the payers. Nothing here depends on the clock or on the order of requests.

Real vendors are not this clean; :func:`vendor_bar` is the bar as the sandbox serves it with vendor quirks
on: a few bad prints that break silver's rules, and a preliminary version of the newest day that a later
fetch corrects.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from dataclasses import dataclass, replace
from functools import cache

from anthill_ingest.calendar import SATURDAY, is_trading_day, previous_market_day, trading_days

ORIGIN = datetime.date(2015, 1, 2)
MINUTES_PER_SESSION = 390  # 09:30-16:00 New York
SESSION_OPEN_UTC_HOUR = 14  # 09:30 EST = 14:30 UTC; the sandbox ignores daylight saving for simplicity
SESSION_OPEN_UTC_MINUTE = 30
MARKET_VOL = 0.011
REVERSION = 0.01  # per session: the deviation from the trend halves in about 70 sessions
SESSIONS_PER_YEAR = {"crypto": 365, "fx": 260}  # stocks and indices: 252
BAD_PRINT_RATE = 0.004  # about one bar a year per instrument breaks a rule (vendor quirks on)
PRELIMINARY_RATE = 0.35  # the share of newest-day bars first served in a preliminary version


@dataclass(frozen=True)
class Instrument:
    ticker: str
    name: str
    market: str  # stocks, indices, crypto, fx
    start_price: float  # the raw (unadjusted) price on ORIGIN
    growth: float  # the trend's yearly log drift
    beta: float
    idio_vol: float
    base_volume: float
    dividend_yield: float = 0.0
    splits: tuple[tuple[datetime.date, int, int], ...] = ()  # (execution date, split_from, split_to)

    @property
    def trades_every_day(self) -> bool:
        return self.market == "crypto"


INSTRUMENTS: dict[str, Instrument] = {
    i.ticker: i
    for i in (
        Instrument("AAPL", "Apple Inc.", "stocks", 109.3, 0.22, 1.15, 0.012, 9.0e7, 0.006,
                   ((datetime.date(2020, 8, 31), 1, 4),)),
        Instrument("MSFT", "Microsoft Corporation", "stocks", 46.8, 0.22, 1.05, 0.011, 3.0e7, 0.009),
        Instrument("NVDA", "NVIDIA Corporation", "stocks", 20.1, 0.55, 1.7, 0.024, 4.0e8, 0.0005,
                   ((datetime.date(2021, 7, 20), 1, 4), (datetime.date(2024, 6, 10), 1, 10))),
        Instrument("AMZN", "Amazon.com, Inc.", "stocks", 308.5, 0.26, 1.25, 0.016, 8.0e7, 0.0,
                   ((datetime.date(2022, 6, 6), 1, 20),)),
        Instrument("GOOGL", "Alphabet Inc. Class A", "stocks", 529.5, 0.2, 1.1, 0.014, 3.5e7, 0.004,
                   ((datetime.date(2022, 7, 18), 1, 20),)),
        Instrument("META", "Meta Platforms, Inc.", "stocks", 78.5, 0.2, 1.3, 0.02, 2.0e7, 0.003),
        Instrument("JPM", "JPMorgan Chase & Co.", "stocks", 62.5, 0.13, 1.0, 0.012, 1.2e7, 0.024),
        Instrument("XOM", "Exxon Mobil Corporation", "stocks", 92.8, 0.02, 0.7, 0.014, 1.8e7, 0.034),
        Instrument("JNJ", "Johnson & Johnson", "stocks", 104.5, 0.04, 0.55, 0.009, 7.0e6, 0.029),
        Instrument("KO", "The Coca-Cola Company", "stocks", 42.1, 0.04, 0.6, 0.008, 1.3e7, 0.03),
        Instrument("PG", "The Procter & Gamble Company", "stocks", 90.4, 0.06, 0.5, 0.008, 7.5e6, 0.025),
        Instrument("WMT", "Walmart Inc.", "stocks", 85.9, 0.12, 0.55, 0.01, 2.0e7, 0.014,
                   ((datetime.date(2024, 2, 26), 1, 3),)),
        Instrument("V", "Visa Inc.", "stocks", 65.2, 0.16, 0.95, 0.01, 7.0e6, 0.007),
        Instrument("UNH", "UnitedHealth Group Incorporated", "stocks", 101.0, 0.16, 0.75, 0.013, 3.5e6, 0.015),
        Instrument("HD", "The Home Depot, Inc.", "stocks", 104.0, 0.13, 1.0, 0.011, 4.0e6, 0.022),
        Instrument("BAC", "Bank of America Corporation", "stocks", 17.9, 0.09, 1.3, 0.015, 4.5e7, 0.022),
        Instrument("PFE", "Pfizer Inc.", "stocks", 31.0, -0.02, 0.65, 0.012, 3.0e7, 0.04),
        Instrument("DIS", "The Walt Disney Company", "stocks", 93.0, 0.02, 1.1, 0.013, 1.0e7, 0.005),
        Instrument("INTC", "Intel Corporation", "stocks", 36.0, -0.06, 1.0, 0.017, 4.0e7, 0.015),
        Instrument("CSCO", "Cisco Systems, Inc.", "stocks", 27.6, 0.07, 0.9, 0.011, 2.0e7, 0.03),
        Instrument("SPY", "SPDR S&P 500 ETF Trust", "stocks", 205.0, 0.11, 1.0, 0.001, 8.0e7, 0.013),
        Instrument("I:NDX", "Nasdaq-100", "indices", 4230.0, 0.16, 1.15, 0.002, 0.0),
        Instrument("I:COMP", "Nasdaq Composite", "indices", 4726.0, 0.14, 1.05, 0.002, 0.0),
        Instrument("I:SPX", "S&P 500", "indices", 2058.0, 0.105, 1.0, 0.001, 0.0),
        Instrument("X:BTCUSD", "Bitcoin - United States dollar", "crypto", 315.0, 0.55, 0.4, 0.035, 2.5e4),
        Instrument("X:ETHUSD", "Ethereum - United States dollar", "crypto", 1.2, 0.75, 0.5, 0.038, 4.0e5),
        Instrument("X:SOLUSD", "Solana - United States dollar", "crypto", 0.8, 0.5, 0.6, 0.045, 1.0e6),
        Instrument("C:EURUSD", "Euro - United States dollar", "fx", 1.2, -0.014, 0.05, 0.005, 1.0e5),
        Instrument("C:GBPUSD", "British pound - United States dollar", "fx", 1.55, -0.02, 0.05, 0.005, 8.0e4),
        Instrument("C:USDJPY", "United States dollar - Japanese yen", "fx", 119.0, 0.026, 0.05, 0.005, 9.0e4),
    )
}  # fmt: skip


def _uniform(*key: object) -> float:
    """A uniform number in (0, 1) that depends only on ``key``."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2**64


def _normal(*key: object) -> float:
    """A standard normal number that depends only on ``key`` (Box-Muller)."""
    u1, u2 = _uniform(*key, "u1"), _uniform(*key, "u2")
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _sessions(instrument: Instrument, until: datetime.date) -> list[datetime.date]:
    if instrument.trades_every_day:
        return [ORIGIN + datetime.timedelta(days=n) for n in range((until - ORIGIN).days + 1)]
    if instrument.market == "fx":
        return [d for d in (ORIGIN + datetime.timedelta(days=n) for n in range((until - ORIGIN).days + 1))
                if d.weekday() < SATURDAY]  # fmt: skip
    return list(trading_days(ORIGIN, until))


def trades_on(instrument: Instrument, day: datetime.date) -> bool:
    if instrument.trades_every_day:
        return True
    if instrument.market == "fx":
        return day.weekday() < SATURDAY
    return is_trading_day(day)


@dataclass(frozen=True)
class DailyBar:
    day: datetime.date
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float
    transactions: int


@cache
def _raw_closes(ticker: str, year: int) -> dict[datetime.date, tuple[float, float, float]]:
    """(raw close, |daily return|, previous raw close) per session from ORIGIN through the end of ``year``."""
    instrument = INSTRUMENTS[ticker]
    drift = instrument.growth / SESSIONS_PER_YEAR.get(instrument.market, 252)
    trend = math.log(instrument.start_price)
    deviation = 0.0
    split_ratio = 1.0  # raw prices after a split are the trend's divided by every split so far
    price = instrument.start_price
    out: dict[datetime.date, tuple[float, float, float]] = {}
    previous_vol = instrument.idio_vol
    for day in _sessions(instrument, datetime.date(year, 12, 31)):
        market = MARKET_VOL * _normal("market", day)
        # A little volatility clustering: today's idiosyncratic scale leans on yesterday's.
        scale = 0.7 * instrument.idio_vol + 0.3 * previous_vol
        shock = instrument.beta * market + scale * _normal(ticker, day)
        previous_vol = instrument.idio_vol * (0.5 + abs(_normal(ticker, day, "vol")))
        trend += drift
        deviation = (1 - REVERSION) * deviation + shock
        for when, split_from, split_to in instrument.splits:
            if when == day:
                split_ratio *= split_from / split_to  # the raw price drops by the ratio on the execution date
        previous_close = price
        price = math.exp(trend + deviation) * split_ratio
        out[day] = (price, abs(shock), previous_close)
    return out


def split_factor(instrument: Instrument, day: datetime.date) -> float:
    """Divide a raw price on ``day`` by this to get today's split-adjusted price."""
    factor = 1.0
    for when, split_from, split_to in instrument.splits:
        if day < when:
            factor *= split_to / split_from
    return factor


def daily_bar(ticker: str, day: datetime.date, adjusted: bool = True) -> DailyBar | None:
    """The day's bar, or None when the instrument does not trade that day (or before the sandbox's origin)."""
    instrument = INSTRUMENTS[ticker]
    if day < ORIGIN or not trades_on(instrument, day):
        return None
    closes = _raw_closes(ticker, day.year)
    close, move, previous_close = closes[day]
    for when, split_from, split_to in instrument.splits:
        if when == day:
            previous_close *= split_from / split_to
    gap = 0.002 * _normal(ticker, day, "gap")
    open_ = previous_close * math.exp(gap)
    high = max(open_, close) * (1 + abs(0.006 * _normal(ticker, day, "high")))
    low = min(open_, close) * (1 - abs(0.006 * _normal(ticker, day, "low")))
    volume = instrument.base_volume * math.exp(0.25 * _normal(ticker, day, "volume")) * (1 + 20 * move)
    weight = _uniform(ticker, day, "vwap")
    vwap = low + (high - low) * (0.25 + 0.5 * weight)
    if adjusted:
        factor = split_factor(instrument, day)
        open_, high, low, close, vwap = (x / factor for x in (open_, high, low, close, vwap))
        volume *= factor
    transactions = int(volume / 120) if volume else 0
    return DailyBar(day, open_, high, low, close, round(volume), vwap, transactions)


def asset_class(instrument: Instrument) -> str:
    """The MarketFeed asset class an instrument belongs to (the calendar it trades on)."""
    return {"fx": "forex"}.get(instrument.market, instrument.market)


def vendor_bar(ticker: str, day: datetime.date, adjusted: bool, today: datetime.date) -> DailyBar | None:
    """The day's bar as a real vendor serves it on ``today``: a few bad prints (the high below the close,
    never corrected), and, for the market's newest complete day, a preliminary version for some instruments
    (late trades missing: another close, less volume) that the next day's fetch corrects."""
    bar = daily_bar(ticker, day, adjusted)
    if bar is None:
        return None
    if _uniform(ticker, day, "bad print") < BAD_PRINT_RATE:
        return replace(bar, high=max(bar.open, bar.close) * 0.995)
    newest = previous_market_day(asset_class(INSTRUMENTS[ticker]), today)
    if day == newest and _uniform(ticker, day, "preliminary") < PRELIMINARY_RATE:
        close = bar.close * (1 + 0.004 * _normal(ticker, day, "preliminary"))
        return replace(bar, close=close, high=max(bar.high, close), low=min(bar.low, close),
                       volume=round(bar.volume * 0.92), transactions=int(bar.transactions * 0.92))  # fmt: skip
    return bar


def minute_bars(ticker: str, day: datetime.date, adjusted: bool = True) -> list[tuple[int, DailyBar]]:
    """The session's minute bars as (epoch ms, bar): a Brownian bridge from the day's open to its close."""
    bar = daily_bar(ticker, day, adjusted)
    if bar is None:
        return []
    instrument = INSTRUMENTS[ticker]
    minutes = 24 * 60 if instrument.trades_every_day or instrument.market == "fx" else MINUTES_PER_SESSION
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
    if minutes == MINUTES_PER_SESSION:
        start = start.replace(hour=SESSION_OPEN_UTC_HOUR, minute=SESSION_OPEN_UTC_MINUTE)
    walk = [0.0]
    for m in range(1, minutes + 1):
        walk.append(walk[-1] + _normal(ticker, day, m, "minute"))
    span = math.log(bar.close / bar.open)
    sigma = max(math.log(bar.high / bar.low) / 4, 1e-6) / math.sqrt(minutes)
    path = [bar.open * math.exp(span * m / minutes + sigma * (walk[m] - walk[-1] * m / minutes))
            for m in range(minutes + 1)]  # fmt: skip
    out = []
    for m in range(minutes):
        o, c = path[m], path[m + 1]
        h = max(o, c) * (1 + abs(sigma * _normal(ticker, day, m, "h")) / 4)
        lo = min(o, c) * (1 - abs(sigma * _normal(ticker, day, m, "l")) / 4)
        share = bar.volume / minutes * (0.5 + _uniform(ticker, day, m, "v"))
        ts = int((start + datetime.timedelta(minutes=m)).timestamp() * 1000)
        out.append(
            (ts, DailyBar(day, o, h, lo, c, round(share), (o + c + h + lo) / 4, max(1, int(share / 120))))
        )
    return out


def dividends(ticker: str, start: datetime.date, end: datetime.date) -> list[dict[str, object]]:
    """Quarterly cash dividends with ex-dates in [start, end], Polygon's v3 reference shape."""
    instrument = INSTRUMENTS.get(ticker)
    if instrument is None or instrument.dividend_yield <= 0:
        return []
    out = []
    for year in range(max(start.year, ORIGIN.year), end.year + 1):
        for month in (2, 5, 8, 11):
            ex = _first_session_on_or_after(datetime.date(year, month, 10))
            if not start <= ex <= end:
                continue
            bar = daily_bar(ticker, ex, adjusted=True)
            if bar is None:
                continue
            amount = round(bar.close * instrument.dividend_yield / 4, 4)
            out.append({
                "id": f"E{hashlib.blake2b(f'{ticker}{ex}'.encode(), digest_size=6).hexdigest()}",
                "cash_amount": amount, "currency": "USD", "dividend_type": "CD", "frequency": 4,
                "declaration_date": str(ex - datetime.timedelta(days=28)), "ex_dividend_date": str(ex),
                "record_date": str(ex + datetime.timedelta(days=1)), "pay_date": str(ex + datetime.timedelta(days=14)),
                "ticker": ticker,
            })  # fmt: skip
    return out


def splits(ticker: str, start: datetime.date, end: datetime.date) -> list[dict[str, object]]:
    instrument = INSTRUMENTS.get(ticker)
    if instrument is None:
        return []
    return [
        {"id": f"S{hashlib.blake2b(f'{ticker}{when}'.encode(), digest_size=6).hexdigest()}",
         "execution_date": str(when), "split_from": split_from, "split_to": split_to, "ticker": ticker}
        for when, split_from, split_to in instrument.splits
        if start <= when <= end
    ]  # fmt: skip


def _first_session_on_or_after(day: datetime.date) -> datetime.date:
    while not is_trading_day(day):
        day += datetime.timedelta(days=1)
    return day
