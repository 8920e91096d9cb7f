"""The exchange calendar against the closures NYSE published."""

from __future__ import annotations

import datetime

import pytest

from anthill_ingest.calendar import (
    holidays,
    is_trading_day,
    market_days,
    previous_market_day,
    previous_trading_day,
    trading_days,
)

D = datetime.date

NYSE_2024 = {D(2024, 1, 1), D(2024, 1, 15), D(2024, 2, 19), D(2024, 3, 29), D(2024, 5, 27), D(2024, 6, 19),
             D(2024, 7, 4), D(2024, 9, 2), D(2024, 11, 28), D(2024, 12, 25)}  # fmt: skip
NYSE_2025 = {D(2025, 1, 1), D(2025, 1, 20), D(2025, 2, 17), D(2025, 4, 18), D(2025, 5, 26), D(2025, 6, 19),
             D(2025, 7, 4), D(2025, 9, 1), D(2025, 11, 27), D(2025, 12, 25)}  # fmt: skip


@pytest.mark.parametrize(("year", "expected"), [(2024, NYSE_2024), (2025, NYSE_2025)], ids=["2024", "2025"])
def test_published_holidays(year: int, expected: set[datetime.date]) -> None:
    # 2025-01-09 (a national day of mourning) was an unscheduled closure; rules cannot know it.
    assert holidays(year) == expected


@pytest.mark.parametrize(
    ("day", "trading"),
    [
        pytest.param(D(2026, 7, 3), False, id="Saturday July 4th is observed on Friday"),
        pytest.param(D(2021, 12, 31), True, id="Saturday New Year is not observed the Friday before"),
        pytest.param(D(2022, 12, 26), False, id="Sunday Christmas is observed on Monday"),
        pytest.param(D(2021, 6, 18), True, id="Juneteenth only from 2022"),
        pytest.param(D(2024, 11, 30), False, id="weekend"),
        pytest.param(D(2024, 11, 29), True, id="the day after Thanksgiving trades (half day)"),
    ],
)
def test_is_trading_day(day: datetime.date, trading: bool) -> None:
    assert is_trading_day(day) is trading


def test_trading_days_in_2024() -> None:
    assert len(list(trading_days(D(2024, 1, 1), D(2024, 12, 31)))) == 252


def test_previous_trading_day_skips_weekends_and_holidays() -> None:
    assert previous_trading_day(D(2024, 7, 5)) == D(2024, 7, 3)
    assert previous_trading_day(D(2024, 12, 2)) == D(2024, 11, 29)
    assert previous_trading_day(D(2024, 1, 16)) == D(2024, 1, 12)


# Thursday 2024-07-04 (Independence Day) to Monday 2024-07-08: a holiday and a weekend in five days.
HOLIDAY_WEEK = (D(2024, 7, 4), D(2024, 7, 8))


@pytest.mark.parametrize(
    ("asset_class", "expected"),
    [
        pytest.param("stocks", [D(2024, 7, 5), D(2024, 7, 8)], id="stocks: NYSE days"),
        pytest.param("indices", [D(2024, 7, 5), D(2024, 7, 8)], id="indices: NYSE days"),
        pytest.param("options", [D(2024, 7, 5), D(2024, 7, 8)], id="options: NYSE days"),
        pytest.param("crypto", [D(2024, 7, 4), D(2024, 7, 5), D(2024, 7, 6), D(2024, 7, 7), D(2024, 7, 8)],
                     id="crypto: every calendar day"),
        pytest.param("forex", [D(2024, 7, 4), D(2024, 7, 5), D(2024, 7, 7), D(2024, 7, 8)],
                     id="forex: no NYSE holidays; the Sunday-evening open makes a Sunday bar, Saturday has none"),
    ],
)  # fmt: skip
def test_market_days_per_asset_class(asset_class: str, expected: list[datetime.date]) -> None:
    assert list(market_days(asset_class, *HOLIDAY_WEEK)) == expected


@pytest.mark.parametrize(
    ("asset_class", "day", "expected"),
    [
        pytest.param("stocks", D(2024, 7, 8), D(2024, 7, 5), id="stocks: Monday -> Friday"),
        pytest.param("stocks", D(2024, 7, 5), D(2024, 7, 3), id="stocks: skips July 4th"),
        pytest.param("crypto", D(2024, 7, 8), D(2024, 7, 7), id="crypto: Monday -> Sunday"),
        pytest.param("crypto", D(2024, 7, 7), D(2024, 7, 6), id="crypto: Sunday -> Saturday"),
        pytest.param("forex", D(2024, 7, 8), D(2024, 7, 7), id="forex: Monday -> Sunday"),
        pytest.param("forex", D(2024, 7, 7), D(2024, 7, 5), id="forex: Sunday -> Friday"),
        pytest.param("forex", D(2024, 7, 5), D(2024, 7, 4), id="forex: trades on July 4th"),
    ],
)
def test_previous_market_day_per_asset_class(
    asset_class: str, day: datetime.date, expected: datetime.date
) -> None:
    assert previous_market_day(asset_class, day) == expected


def test_a_crypto_year_has_every_day_and_a_forex_year_every_day_but_saturdays() -> None:
    assert len(list(market_days("crypto", D(2024, 1, 1), D(2024, 12, 31)))) == 366
    assert len(list(market_days("forex", D(2024, 1, 1), D(2024, 12, 31)))) == 366 - 52
    assert list(market_days("stocks", D(2024, 1, 1), D(2024, 12, 31))) == list(
        trading_days(D(2024, 1, 1), D(2024, 12, 31))
    )
