"""Which dates a run fetches, from the spec, the watermark and the calendar, and in which chunks."""

from __future__ import annotations

import datetime

import pytest

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.config import FeedConfig
from anthill_ingest.datasets import dataset_for
from anthill_ingest.datasets.aggregates import request_range
from anthill_ingest.datasets.base import Window
from anthill_ingest.datasets.grouped_daily import TICKERS as GROUPED_DAILY_TICKERS
from anthill_ingest.runner import CHUNK_ROWS, plan_chunks, plan_window

D = datetime.date


def _feed(**spec: object) -> FeedConfig:
    base = {"dataset": "aggregates", "tickers": ["AAPL"], "schedule": "@daily",
            "destination": {"uri": "file:///lake"}, "apiKeySecretRef": {"name": "k", "key": "k"}}  # fmt: skip
    return FeedConfig("f", "ns", MarketFeedSpec.model_validate({**base, **spec}))


@pytest.mark.parametrize(
    ("spec", "watermark", "today", "expected"),
    [
        pytest.param({"backfill": {"from": "2024-01-02"}}, None, D(2024, 7, 8), Window(D(2024, 1, 2), D(2024, 7, 5)),
                     id="first run starts at backfill.from and ends at the last complete trading day"),
        pytest.param({}, None, D(2024, 7, 8), Window(D(2024, 7, 5), D(2024, 7, 5)),
                     id="no backfill: just the last trading day"),
        pytest.param({}, D(2024, 7, 5), D(2024, 7, 8), None, id="watermark current: nothing to do"),
        pytest.param({}, D(2024, 7, 3), D(2024, 7, 9), Window(D(2024, 7, 1), D(2024, 7, 8)),
                     id="later runs re-fetch two trading days before the watermark"),
        pytest.param({"assetClass": "crypto", "tickers": ["X:BTCUSD"]}, None, D(2024, 7, 7),
                     Window(D(2024, 7, 6), D(2024, 7, 6)), id="crypto: yesterday even on a weekend"),
        pytest.param({"assetClass": "crypto", "tickers": ["X:BTCUSD"]}, D(2024, 7, 8), D(2024, 7, 10),
                     Window(D(2024, 7, 6), D(2024, 7, 9)),
                     id="crypto: the lookback is two calendar days, not two NYSE days (which reach July 3rd)"),
        pytest.param({"assetClass": "forex", "tickers": ["C:EURUSD"]}, None, D(2024, 7, 8),
                     Window(D(2024, 7, 7), D(2024, 7, 7)), id="forex: on a Monday, Sunday's bar is the last complete"),
        pytest.param({"assetClass": "forex", "tickers": ["C:EURUSD"]}, None, D(2024, 7, 5),
                     Window(D(2024, 7, 4), D(2024, 7, 4)), id="forex: trades on NYSE holidays"),
        pytest.param({"assetClass": "forex", "tickers": ["C:EURUSD"]}, D(2024, 7, 8), D(2024, 7, 10),
                     Window(D(2024, 7, 5), D(2024, 7, 9)), id="forex: the lookback skips only Saturday"),
        pytest.param({"assetClass": "indices", "tickers": ["I:NDX"]}, D(2024, 7, 5), D(2024, 7, 9),
                     Window(D(2024, 7, 2), D(2024, 7, 8)), id="indices: NYSE days, July 4th skipped"),
    ],
)  # fmt: skip
def test_plan_window(spec: dict[str, object], watermark: datetime.date | None, today: datetime.date,
                     expected: Window | None) -> None:  # fmt: skip
    assert plan_window(_feed(**spec), watermark, today) == expected


def _chunks(spec: dict[str, object], start: datetime.date, end: datetime.date, rows: int) -> list[Window]:
    return plan_chunks(_feed(**spec), Window(start, end), rows)


MINUTE = {"bars": {"multiplier": 1, "timespan": "minute"}}
TWENTY = [f"T{n}" for n in range(20)]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, 1, id="daily bars: one row per ticker and day"),
        pytest.param({**MINUTE, "tickers": TWENTY}, 20 * 960,
                     id="stock minute bars: the 04:00-20:00 extended session, per ticker"),
        pytest.param({"bars": {"multiplier": 5, "timespan": "minute"}}, 192, id="5-minute bars: a fifth"),
        pytest.param({"bars": {"multiplier": 1, "timespan": "hour"}, "assetClass": "crypto",
                      "tickers": ["X:BTCUSD"]}, 24, id="crypto hourly bars: around the clock"),
        pytest.param({**MINUTE, "assetClass": "forex", "tickers": ["C:EURUSD"]}, 1440,
                     id="forex minute bars: around the clock"),
        pytest.param({"dataset": "groupedDaily", "tickers": None}, GROUPED_DAILY_TICKERS,
                     id="grouped daily: a whole market a day"),
        pytest.param({"bars": {"multiplier": 1, "timespan": "week"}}, None,
                     id="weekly bars start where the range starts: not cut into days"),
        pytest.param({"bars": {"multiplier": 2, "timespan": "day"}}, None,
                     id="two-day bars start where the range starts: not cut into days"),
        pytest.param({"dataset": "dividends"}, None, id="events are few: not cut"),
    ],
)  # fmt: skip
def test_rows_per_day(spec: dict[str, object], expected: int | None) -> None:
    feed = _feed(**spec)
    assert dataset_for(feed.spec.dataset).rows_per_day(feed.spec) == expected


@pytest.mark.parametrize(
    ("spec", "start", "end", "rows", "expected"),
    [
        pytest.param({}, D(2024, 1, 2), D(2024, 12, 31), CHUNK_ROWS, [Window(D(2024, 1, 2), D(2024, 12, 31))],
                     id="a year of daily bars fits one chunk: no more requests than before"),
        pytest.param({"tickers": ["AAPL", "MSFT"]}, D(2024, 7, 1), D(2024, 7, 19), 10,
                     [Window(D(2024, 7, 1), D(2024, 7, 8)), Window(D(2024, 7, 9), D(2024, 7, 15)),
                      Window(D(2024, 7, 16), D(2024, 7, 19))],
                     id="five trading days a chunk; July 4th and weekends inside, none left out"),
        pytest.param({**MINUTE, "tickers": TWENTY}, D(2024, 1, 2), D(2024, 1, 31), CHUNK_ROWS,
                     [Window(D(2024, 1, 2), D(2024, 1, 16)), Window(D(2024, 1, 17), D(2024, 1, 30)),
                      Window(D(2024, 1, 31), D(2024, 1, 31))],
                     id="minute bars of 20 tickers: ten trading days a chunk (MLK day skipped)"),
        pytest.param({}, D(2024, 7, 6), D(2024, 7, 10), 1,
                     [Window(D(2024, 7, 6), D(2024, 7, 8)), Window(D(2024, 7, 9), D(2024, 7, 9)),
                      Window(D(2024, 7, 10), D(2024, 7, 10))],
                     id="a window starting on a weekend: its first chunk starts there"),
        pytest.param({**MINUTE, "tickers": TWENTY * 50}, D(2024, 7, 1), D(2024, 7, 2), CHUNK_ROWS,
                     [Window(D(2024, 7, 1), D(2024, 7, 1)), Window(D(2024, 7, 2), D(2024, 7, 2))],
                     id="a day over the budget is still one chunk: never less than a day"),
        pytest.param({"bars": {"multiplier": 1, "timespan": "month"}}, D(2020, 1, 1), D(2024, 7, 1), 1,
                     [Window(D(2020, 1, 1), D(2024, 7, 1))], id="monthly bars: the whole window"),
        pytest.param({"assetClass": "crypto", "tickers": ["X:BTCUSD"]}, D(2024, 7, 5), D(2024, 7, 8), 2,
                     [Window(D(2024, 7, 5), D(2024, 7, 6)), Window(D(2024, 7, 7), D(2024, 7, 8))],
                     id="crypto: weekend days count as market days"),
    ],
)  # fmt: skip
def test_plan_chunks(spec: dict[str, object], start: datetime.date, end: datetime.date, rows: int,
                     expected: list[Window]) -> None:  # fmt: skip
    assert _chunks(spec, start, end, rows) == expected


UTC = datetime.UTC
NY_EDT = datetime.timezone(datetime.timedelta(hours=-4))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, (D(2024, 7, 1), D(2024, 7, 2)), id="daily bars: the dates, as the API has always had them"),
        pytest.param(MINUTE, (datetime.datetime(2024, 7, 1, tzinfo=NY_EDT),
                              datetime.datetime(2024, 7, 2, 23, 59, 59, 999000, tzinfo=NY_EDT)),
                     id="stock minute bars: New York midnight to midnight, after-hours past 00:00 UTC included"),
        pytest.param({**MINUTE, "assetClass": "crypto", "tickers": ["X:BTCUSD"]},
                     (datetime.datetime(2024, 7, 1, tzinfo=UTC),
                      datetime.datetime(2024, 7, 2, 23, 59, 59, 999000, tzinfo=UTC)),
                     id="crypto minute bars: the UTC days, as the partitions are"),
    ],
)  # fmt: skip
def test_request_range(spec: dict[str, object], expected: tuple[datetime.date, datetime.date]) -> None:
    assert request_range(_feed(**spec).spec, Window(D(2024, 7, 1), D(2024, 7, 2))) == expected
