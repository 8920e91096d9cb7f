"""Which days each market has a daily bar: the US equity calendar (NYSE/Nasdaq full-day closures, from the
exchanges' published rules), and the 24/7 and 24/5 markets.

Used to plan which dates a run fetches (closed days are skipped) and by the sandbox server to generate bars
only on trading days. Where a feed has fetched `marketHolidays`, those dates are honoured too.

Daily bars are UTC days. Crypto trades every day. The forex week runs from Sunday 17:00 to Friday 17:00 New
York time, so Sunday evening's session makes a (short) Sunday bar and only Saturday has none; the interbank
market keeps no exchange holidays. Stocks, indices and options follow NYSE.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from functools import cache

SATURDAY = 5
EVERY_DAY = frozenset({"crypto"})
SUNDAY_TO_FRIDAY = frozenset({"forex"})
JUNETEENTH_FIRST_YEAR = 2022


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> datetime.date:
    """The ``n``-th ``weekday`` (0=Monday) of the month; ``n=-1`` for the last."""
    if n > 0:
        first = datetime.date(year, month, 1)
        return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)
    return last - datetime.timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> datetime.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


def _observed(day: datetime.date) -> datetime.date | None:
    """Saturday holidays close the Friday before, Sunday ones the Monday after (NYSE Rule 7.2)."""
    if day.weekday() == SATURDAY:
        friday = day - datetime.timedelta(days=1)
        # A Saturday New Year's Day is not observed on the Friday: that is the year-end trading day.
        return None if (day.month, day.day) == (1, 1) else friday
    if day.weekday() == SATURDAY + 1:
        return day + datetime.timedelta(days=1)
    return day


@cache
def holidays(year: int) -> frozenset[datetime.date]:
    """Full-day market closures in ``year``."""
    fixed = [datetime.date(year, 1, 1), datetime.date(year, 7, 4), datetime.date(year, 12, 25)]
    if year >= JUNETEENTH_FIRST_YEAR:
        fixed.append(datetime.date(year, 6, 19))
    observed = {_observed(day) for day in fixed}
    rules = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - datetime.timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    }
    return frozenset(day for day in observed | rules if day is not None)


def is_trading_day(day: datetime.date, extra_closures: frozenset[datetime.date] = frozenset()) -> bool:
    return day.weekday() < SATURDAY and day not in holidays(day.year) and day not in extra_closures


def trading_days(
    start: datetime.date, end: datetime.date, extra_closures: Iterable[datetime.date] = ()
) -> Iterator[datetime.date]:
    """Trading days from ``start`` to ``end``, both inclusive."""
    closures = frozenset(extra_closures)
    day = start
    while day <= end:
        if is_trading_day(day, closures):
            yield day
        day += datetime.timedelta(days=1)


def previous_trading_day(day: datetime.date) -> datetime.date:
    """The last trading day strictly before ``day``."""
    day -= datetime.timedelta(days=1)
    while not is_trading_day(day):
        day -= datetime.timedelta(days=1)
    return day


def is_market_day(asset_class: str, day: datetime.date) -> bool:
    """Whether ``asset_class`` has a daily bar for ``day``: crypto always, forex but on Saturdays, else NYSE."""
    if asset_class in EVERY_DAY:
        return True
    if asset_class in SUNDAY_TO_FRIDAY:
        return day.weekday() != SATURDAY
    return is_trading_day(day)


def market_days(asset_class: str, start: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
    """The days from ``start`` to ``end`` (both inclusive) on which ``asset_class`` has a daily bar."""
    day = start
    while day <= end:
        if is_market_day(asset_class, day):
            yield day
        day += datetime.timedelta(days=1)


def previous_market_day(asset_class: str, day: datetime.date) -> datetime.date:
    """The last day strictly before ``day`` on which ``asset_class`` has a daily bar."""
    day -= datetime.timedelta(days=1)
    while not is_market_day(asset_class, day):
        day -= datetime.timedelta(days=1)
    return day
