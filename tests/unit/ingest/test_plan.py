"""Which dates a run fetches, from the spec, the watermark and the calendar."""

from __future__ import annotations

import datetime

import pytest

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.config import FeedConfig
from anthill_ingest.runner import Window, plan_window

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
