"""The sandbox's synthetic data is deterministic and keeps the relations real bars keep."""

from __future__ import annotations

import datetime

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
