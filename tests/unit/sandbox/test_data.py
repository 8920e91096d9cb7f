"""The sandbox's synthetic data is deterministic and keeps the relations real bars keep."""

from __future__ import annotations

import datetime
import itertools
import math
import statistics

import pytest

from anthill_sandbox import data
from anthill_sandbox.server import aggregate_bars

D = datetime.date


@pytest.mark.parametrize("ticker", ["AAPL", "NVDA", "I:NDX", "X:BTCUSD", "C:EURUSD"])
def test_ohlc_relations_hold(ticker: str) -> None:
    for n in range(0, 400, 3):
        bar = data.daily_bar(ticker, D(2023, 1, 1) + datetime.timedelta(days=n))
        if bar is None:
            continue
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.low <= bar.vwap <= bar.high
        assert bar.low > 0
        assert bar.volume >= 0


def test_same_request_same_data() -> None:
    assert data.daily_bar("MSFT", D(2024, 3, 1)) == data.daily_bar("MSFT", D(2024, 3, 1))


def test_no_bars_on_holidays_and_weekends_except_crypto() -> None:
    assert data.daily_bar("AAPL", D(2024, 7, 4)) is None
    assert data.daily_bar("AAPL", D(2024, 7, 6)) is None
    assert data.daily_bar("X:BTCUSD", D(2024, 7, 6)) is not None


def test_split_adjustment() -> None:
    """Before NVDA's 10:1 split, adjusted prices are the raw ones divided by 10; after it they agree."""
    before, after = D(2024, 6, 7), D(2024, 6, 11)
    raw, adjusted = (
        data.daily_bar("NVDA", before, adjusted=False),
        data.daily_bar("NVDA", before, adjusted=True),
    )
    assert raw is not None
    assert adjusted is not None
    assert adjusted.close == pytest.approx(raw.close / 10)
    assert data.daily_bar("NVDA", after, adjusted=False) == data.daily_bar("NVDA", after, adjusted=True)


def test_minute_bars_rebuild_the_day() -> None:
    day = data.daily_bar("AAPL", D(2024, 7, 1))
    minutes = aggregate_bars("AAPL", 1, "minute", D(2024, 7, 1), D(2024, 7, 1), adjusted=True)
    assert len(minutes) == data.MINUTES_PER_SESSION
    assert day is not None
    assert minutes[0]["o"] == pytest.approx(day.open, abs=1e-3)
    assert minutes[-1]["c"] == pytest.approx(day.close, abs=1e-3)


def test_weekly_bars_aggregate_their_days() -> None:
    (week,) = aggregate_bars("MSFT", 1, "week", D(2024, 7, 8), D(2024, 7, 12), adjusted=True)
    days = aggregate_bars("MSFT", 1, "day", D(2024, 7, 8), D(2024, 7, 12), adjusted=True)
    assert week["o"] == days[0]["o"]
    assert week["c"] == days[-1]["c"]
    assert week["h"] == max(d["h"] for d in days)
    assert week["v"] == sum(d["v"] for d in days)


def test_dividends_are_quarterly_for_payers_only() -> None:
    assert len(data.dividends("KO", D(2024, 1, 1), D(2024, 12, 31))) == 4
    assert data.dividends("AMZN", D(2024, 1, 1), D(2024, 12, 31)) == []


def _closes(ticker: str, start: datetime.date, end: datetime.date) -> list[float]:
    days = (start + datetime.timedelta(days=n) for n in range((end - start).days + 1))
    return [bar.close for day in days if (bar := data.daily_bar(ticker, day)) is not None]


# Real split-adjusted closes of 31 December 2024, rounded: the sandbox must be of the same order.
REAL_CLOSES_2024 = {"AAPL": 250.0, "MSFT": 420.0, "NVDA": 134.0, "AMZN": 219.0, "GOOGL": 190.0, "KO": 62.0,
                    "WMT": 90.0, "SPY": 586.0, "I:NDX": 21000.0, "I:SPX": 5880.0, "X:BTCUSD": 93000.0,
                    "X:ETHUSD": 3300.0, "C:EURUSD": 1.04, "C:USDJPY": 157.0}  # fmt: skip


@pytest.mark.parametrize(("ticker", "real"), REAL_CLOSES_2024.items(), ids=list(REAL_CLOSES_2024))
def test_levels_are_of_the_real_order_of_magnitude(ticker: str, real: float) -> None:
    """The demo charts these: AAPL at 7 or NVDA at 0.04 makes a report look broken."""
    (close,) = _closes(ticker, D(2024, 12, 31), D(2024, 12, 31))
    assert real / 3 <= close <= real * 3


# (market, lowest and highest yearly volatility): what real instruments of the kind show.
VOLATILITY = {"stocks": (0.10, 0.60), "indices": (0.10, 0.30), "crypto": (0.40, 1.10), "fx": (0.03, 0.15)}
WORST_DRAWDOWN = {"stocks": -0.75, "indices": -0.40, "crypto": -0.85, "fx": -0.35}


@pytest.mark.parametrize("ticker", list(data.INSTRUMENTS))
def test_returns_are_realistic(ticker: str) -> None:
    """Near-zero daily drift, a real volatility for the kind of instrument, and drawdowns of the range real
    ones have: the trend's pull keeps a seed from wandering off by orders of magnitude."""
    instrument = data.INSTRUMENTS[ticker]
    closes = _closes(ticker, D(2015, 1, 2), D(2026, 11, 27))
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    mean = statistics.fmean(returns)
    yearly_vol = statistics.pstdev(returns) * math.sqrt(data.SESSIONS_PER_YEAR.get(instrument.market, 252))
    peak, worst = 0.0, 0.0
    for close in closes:
        peak = max(peak, close)
        worst = min(worst, close / peak - 1)
    assert abs(mean) < 0.003  # 0.3% a day would be 110% a year
    low, high = VOLATILITY[instrument.market]
    assert low <= yearly_vol <= high
    assert worst >= WORST_DRAWDOWN[instrument.market]


def test_vendor_quirks_are_off_the_clean_bar_only_where_meant() -> None:
    """Bad prints break silver's high >= max(open, close) rule and stay; everything else is the clean bar."""
    today = D(2024, 7, 9)
    bad = clean = 0
    for ticker in ("AAPL", "MSFT", "KO", "JPM"):
        for day in (D(2024, 1, 2) + datetime.timedelta(days=n) for n in range(180)):
            served, true = data.vendor_bar(ticker, day, True, today), data.daily_bar(ticker, day)
            if true is None:
                assert served is None
                continue
            assert served is not None
            if served.high < max(served.open, served.close):
                bad += 1
            else:
                assert served == true
                clean += 1
    assert 0 < bad < clean / 50


def test_the_newest_day_is_preliminary_for_some_and_corrected_the_next_day() -> None:
    monday, tuesday, wednesday = D(2024, 7, 8), D(2024, 7, 9), D(2024, 7, 10)
    stocks = [t for t, i in data.INSTRUMENTS.items() if i.market == "stocks"]
    first = {t: data.vendor_bar(t, monday, True, tuesday) for t in stocks}
    later = {t: data.vendor_bar(t, monday, True, wednesday) for t in stocks}
    restated = [t for t in stocks if first[t] != later[t]]
    assert 0 < len(restated) < len(stocks)
    assert all(later[t] == data.daily_bar(t, monday) for t in restated)
    for ticker in restated:
        bar = first[ticker]
        assert bar is not None
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high  # still valid
