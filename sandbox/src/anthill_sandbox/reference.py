"""Deterministic news and options contracts for the sandbox's reference endpoints.

News follows the prices: on a trading day a stock that moved more than :data:`BIG_MOVE` gets an article
about the move (whose sentiment has the move's sign) besides its usual zero to two others, so a gold table
that counts news against returns has something to find. Options contracts are a weekly chain around the
underlying's last close as of the day asked: four Friday expirations, strikes within 20% on the usual
grid, a call and a put each. Everything is a pure function of its arguments.
"""

from __future__ import annotations

import datetime
import hashlib

from anthill_sandbox import data

BIG_MOVE = 0.03  # a daily return this large (either way) makes the news
DAYS = datetime.timedelta(days=1)
ARTICLE_HOST = "https://news.sandbox.invalid"  # a reserved name: never resolves, never fetched
WEEKLY_EXPIRATIONS = 4
STRIKE_RANGE = 0.2
FRIDAY = 4


def _digest(*key: object) -> str:
    return hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest()


def _share(*key: object) -> float:
    """A number in [0, 1) that depends only on ``key``."""
    return int(_digest(*key)[:8], 16) / 16**8


def _move(ticker: str, day: datetime.date) -> float | None:
    """The day's close-to-close return, or None when either close is missing."""
    bar = data.daily_bar(ticker, day)
    previous = _last_close(ticker, day - DAYS)
    return None if bar is None or previous is None else bar.close / previous - 1


def _article(ticker: str, day: datetime.date, index: int, title: str, sentiment: str) -> dict[str, object]:
    instrument = data.INSTRUMENTS[ticker]
    article_id = _digest("news", ticker, day, index)
    minute = int(_share("minute", ticker, day, index) * 24 * 60)
    published = datetime.datetime.combine(day, datetime.time(), datetime.UTC) + datetime.timedelta(
        minutes=minute
    )
    return {
        "id": article_id,
        "publisher": {"name": "Sandbox Wire", "homepage_url": ARTICLE_HOST},
        "title": title,
        "author": "Sandbox Newsroom",
        "published_utc": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "article_url": f"{ARTICLE_HOST}/{article_id}",
        "tickers": [ticker],
        "description": f"{title}. A synthetic article about {instrument.name}.",
        "keywords": [instrument.market, "sandbox"],
        "insights": [{"ticker": ticker, "sentiment": sentiment,
                      "sentiment_reasoning": f"{instrument.name}: {sentiment} by construction"}],
    }  # fmt: skip


def news(ticker: str, start: datetime.date, end: datetime.date) -> list[dict[str, object]]:
    """Articles about ``ticker`` published from ``start`` to ``end`` (inclusive), oldest first."""
    if ticker not in data.INSTRUMENTS:
        return []
    name = data.INSTRUMENTS[ticker].name
    out = []
    day = max(start, data.ORIGIN)
    while day <= end:
        move = _move(ticker, day)
        if move is not None and abs(move) >= BIG_MOVE:
            way, sentiment = ("jump", "positive") if move > 0 else ("slide", "negative")
            out.append(_article(ticker, day, 0, f"{name} shares {way} {abs(move):.1%}", sentiment))
        for index in range(1, 1 + int(_share("count", ticker, day) * 3)):
            out.append(
                _article(ticker, day, index, f"{name}: a note on the company, number {index}", "neutral")
            )
        day += DAYS
    return sorted(out, key=lambda article: (str(article["published_utc"]), str(article["id"])))


# The strike grid: $1 apart under $50, $5 under $500, $10 above.
STRIKE_STEPS = ((50.0, 1.0), (500.0, 5.0))
WIDE_STEP = 10.0


def _strike_step(price: float) -> float:
    return next((step for below, step in STRIKE_STEPS if price < below), WIDE_STEP)


def _last_close(ticker: str, day: datetime.date) -> float | None:
    """The close of ``ticker``'s last session on or before ``day``."""
    while day >= data.ORIGIN:
        if (bar := data.daily_bar(ticker, day)) is not None:
            return bar.close
        day -= DAYS
    return None


def options_contracts(underlying: str, as_of: datetime.date) -> list[dict[str, object]]:
    """The listed weekly chain of ``underlying`` (a stock) as of ``as_of``; empty for anything else."""
    instrument = data.INSTRUMENTS.get(underlying)
    if instrument is None or instrument.market != "stocks":
        return []
    close = _last_close(underlying, as_of)
    if close is None:
        return []
    step = _strike_step(close)
    low = int(close * (1 - STRIKE_RANGE) / step) + 1
    high = int(close * (1 + STRIKE_RANGE) / step)
    first_friday = as_of + datetime.timedelta(days=(FRIDAY - as_of.weekday()) % 7 or 7)
    out = []
    for week in range(WEEKLY_EXPIRATIONS):
        expiry = first_friday + datetime.timedelta(weeks=week)
        for strike in (n * step for n in range(low, high + 1)):
            for kind, letter in (("call", "C"), ("put", "P")):
                out.append({
                    "ticker": f"O:{underlying}{expiry:%y%m%d}{letter}{round(strike * 1000):08d}",
                    "underlying_ticker": underlying,
                    "contract_type": kind,
                    "exercise_style": "american",
                    "expiration_date": expiry.isoformat(),
                    "strike_price": strike,
                    "shares_per_contract": 100,
                    "primary_exchange": "BATO",
                    "cfi": f"O{letter}ASPS",
                })  # fmt: skip
    return sorted(out, key=lambda contract: str(contract["ticker"]))


QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))
FILING_LAG = datetime.timedelta(days=35)
SHARES_PER_VOLUME = 50.0  # shares outstanding per share of typical daily volume
ANNUAL_REVENUE_YIELD = 0.06  # a year's revenue per dollar of market value


def _statement(
    instrument: data.Instrument, period_end: datetime.date, quarter: int | None
) -> dict[str, object] | None:
    close = _last_close(instrument.ticker, period_end)
    if close is None:
        return None
    shares = instrument.base_volume * SHARES_PER_VOLUME
    quarters = 4 if quarter is None else 1
    noise = 1 + 0.1 * (_share("revenue", instrument.ticker, period_end) - 0.5)
    revenue = round(close * shares * ANNUAL_REVENUE_YIELD / 4 * quarters * noise, 2)
    gross = round(revenue * (0.35 + 0.2 * _share("margin", instrument.ticker, period_end)), 2)
    operating = round(gross * 0.5, 2)
    net = round(operating * 0.8, 2)
    return {
        "tickers": [instrument.ticker],
        "cik": f"{int(_digest('cik', instrument.ticker)[:6], 16) % 10**7:010d}",
        "period_end": period_end.isoformat(),
        "filing_date": (period_end + FILING_LAG).isoformat(),
        "fiscal_year": period_end.year,
        "fiscal_quarter": quarter,
        "timeframe": "annual" if quarter is None else "quarterly",
        "revenue": revenue,
        "gross_profit": gross,
        "operating_income": operating,
        "consolidated_net_income_loss": net,
        "diluted_shares_outstanding": shares,
        "diluted_earnings_per_share": round(net / shares, 4),
    }


def income_statements(ticker: str, start: datetime.date, end: datetime.date) -> list[dict[str, object]]:
    """``ticker``'s quarterly income statements (and, with the fourth, the year's) filed from ``start`` to
    ``end`` (inclusive), oldest filing first; none for anything but a stock."""
    instrument = data.INSTRUMENTS.get(ticker)
    if instrument is None or instrument.market != "stocks":
        return []
    out = []
    for year in range(max(start.year - 1, data.ORIGIN.year), end.year + 1):
        for quarter, (month, day) in enumerate(QUARTER_ENDS, start=1):
            period_end = datetime.date(year, month, day)
            if not start <= period_end + FILING_LAG <= end:
                continue
            for which in (quarter, None) if quarter == len(QUARTER_ENDS) else (quarter,):
                if (statement := _statement(instrument, period_end, which)) is not None:
                    out.append(statement)
    return out
