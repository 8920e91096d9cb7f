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
    ],
)  # fmt: skip
def test_plan_window(spec: dict[str, object], watermark: datetime.date | None, today: datetime.date,
                     expected: Window | None) -> None:  # fmt: skip
    assert plan_window(_feed(**spec), watermark, today) == expected
