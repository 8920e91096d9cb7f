"""A re-fetched day merged with its stored object: what the re-fetch replaces, and what it must keep."""

from __future__ import annotations

import datetime
from typing import Any

import pyarrow as pa
import pytest

from anthill_ingest.datasets import dataset_for
from anthill_ingest.runner import merge_partition, parquet_bytes

AGGREGATES, TICKERS = dataset_for("aggregates"), dataset_for("tickers")

DAY = datetime.datetime(2024, 7, 1, 13, 30, tzinfo=datetime.UTC)


def _bar(ticker: str, minute: int, close: float = 10.0) -> dict[str, Any]:
    return {"ticker": ticker, "multiplier": 1, "timespan": "minute", "ts": DAY + datetime.timedelta(minutes=minute),
            "open": 10.0, "high": 11.0, "low": 9.0, "close": close, "volume": 100.0, "vwap": None,
            "transactions": None, "adjusted": True}  # fmt: skip


def _bars(*rows: dict[str, Any]) -> pa.Table:
    return AGGREGATES.to_table(list(rows))


def _keys(table: pa.Table) -> list[tuple[str, int, float]]:
    return [(r["ticker"], int((r["ts"] - DAY).total_seconds() // 60), r["close"]) for r in table.to_pylist()]


@pytest.mark.parametrize(
    ("stored", "fetched", "expected"),
    [
        pytest.param([_bar("AAPL", 0), _bar("MSFT", 0)], [_bar("AAPL", 0)],
                     [("AAPL", 0, 10.0), ("MSFT", 0, 10.0)],
                     id="a ticker the re-fetch lacks (dropped from the spec, or no answer) keeps its rows"),
        pytest.param([_bar("AAPL", 0), _bar("AAPL", 1)], [_bar("AAPL", 0, close=12.0)], [("AAPL", 0, 12.0)],
                     id="a ticker the re-fetch has is replaced whole: a correction, and a bar withdrawn, both land"),
        pytest.param([_bar("MSFT", 0)], [_bar("AAPL", 0), _bar("AAPL", 1)],
                     [("AAPL", 0, 10.0), ("AAPL", 1, 10.0), ("MSFT", 0, 10.0)],
                     id="a new ticker joins the stored ones, in ticker and time order"),
    ],
)  # fmt: skip
def test_merge_partition(stored: list[dict[str, Any]], fetched: list[dict[str, Any]],
                         expected: list[tuple[str, int, float]]) -> None:  # fmt: skip
    assert _keys(merge_partition(AGGREGATES, _bars(*stored), _bars(*fetched))) == expected


def test_a_merge_gives_the_bytes_a_fresh_write_of_the_same_rows_gives() -> None:
    """Unchanged days are recognised by their bytes: merged or fetched whole, the same rows, the same bytes."""
    merged = merge_partition(AGGREGATES, _bars(_bar("MSFT", 0)), _bars(_bar("AAPL", 0)))
    assert parquet_bytes(merged) == parquet_bytes(_bars(_bar("AAPL", 0), _bar("MSFT", 0)))


def test_a_reference_snapshot_is_replaced_whole() -> None:
    """A ticker listing is complete: a ticker missing from today's listing is no longer listed."""
    stored = TICKERS.to_table([{"ticker": "AAPL"}, {"ticker": "OLD"}])
    fetched = TICKERS.to_table([{"ticker": "AAPL"}])
    assert merge_partition(TICKERS, stored, fetched).column("ticker").to_pylist() == ["AAPL"]


def test_a_stored_object_of_another_schema_is_refused() -> None:
    with pytest.raises(KeyError):
        merge_partition(AGGREGATES, pa.table({"symbol": ["AAPL"]}), _bars(_bar("AAPL", 0)))
