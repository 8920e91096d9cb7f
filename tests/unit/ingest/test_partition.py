"""Which ``date=`` partition a bronze row is filed under: the day as its market names it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from anthill_ingest.datasets import dataset_for

D = datetime.date
RUN = D(2024, 7, 10)


def _at(iso: str) -> dict[str, Any]:
    return {"ts": datetime.datetime.fromisoformat(iso)}


@pytest.mark.parametrize(
    ("dataset", "asset_class", "row", "expected"),
    [
        pytest.param("aggregates", "stocks", _at("2024-07-03T04:00:00+00:00"), D(2024, 7, 3),
                     id="stocks: a daily bar stamped at midnight New York (EDT) is that New York date"),
        pytest.param("aggregates", "stocks", _at("2024-01-10T00:30:00+00:00"), D(2024, 1, 9),
                     id="stocks: an after-hours minute past midnight UTC belongs to the New York session"),
        pytest.param("aggregates", "indices", _at("2024-07-03T04:00:00+00:00"), D(2024, 7, 3),
                     id="indices follow New York like stocks"),
        pytest.param("aggregates", "crypto", _at("2024-07-04T00:00:00+00:00"), D(2024, 7, 4),
                     id="crypto: the API's daily bar starts at 00:00 UTC; New York would call it July 3rd"),
        pytest.param("aggregates", "crypto", _at("2024-07-04T02:15:00+00:00"), D(2024, 7, 4),
                     id="crypto: a minute bar is filed under its UTC day, the day its daily bar covers"),
        pytest.param("groupedDaily", "forex", _at("2024-07-07T00:00:00+00:00"), D(2024, 7, 7),
                     id="forex: the daily bars are UTC days, Sunday's included"),
        pytest.param("dividends", "stocks", {"ex_dividend_date": D(2024, 8, 9)}, D(2024, 8, 9),
                     id="dividends: the ex-dividend date"),
        pytest.param("splits", "stocks", {"execution_date": D(2024, 6, 10)}, D(2024, 6, 10),
                     id="splits: the execution date"),
        pytest.param("tickers", "crypto", {"ticker": "X:BTCUSD"}, RUN, id="reference snapshots: the run's date"),
    ],
)  # fmt: skip
def test_partition_date(dataset: str, asset_class: str, row: dict[str, Any], expected: datetime.date) -> None:
    assert dataset_for(dataset).partition_date(row, RUN, asset_class) == expected
