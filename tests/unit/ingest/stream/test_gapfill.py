"""Which ranges a restart fills from the REST API: trades and quotes only, from each ticker's position."""

from __future__ import annotations

import pytest

from anthill_ingest.stream.bronze import Checkpoint, Position
from anthill_ingest.stream.gapfill import Gap, gaps

CHECKPOINT = Checkpoint({
    "trades": {"AAPL": Position(1000, 5), "MSFT": Position(400, 2)},
    "quotes": {"AAPL": Position(900, 6)},
    "minuteAggregates": {"AAPL": Position(0)},
})  # fmt: skip


@pytest.mark.parametrize(
    ("channels", "tickers", "expected"),
    [
        pytest.param(["trades"], ["AAPL"], [Gap("trades", "AAPL", 1000, 5000)], id="from the ticker's position"),
        pytest.param(["trades"], ["AAPL", "NVDA"], [Gap("trades", "AAPL", 1000, 5000),
                     Gap("trades", "NVDA", 400, 5000)], id="a ticker the checkpoint lacks: the channel's oldest"),
        pytest.param(["trades"], None, [Gap("trades", "AAPL", 1000, 5000), Gap("trades", "MSFT", 400, 5000)],
                     id="'*': the tickers the checkpoint knows"),
        pytest.param(["minuteAggregates", "secondAggregates"], ["AAPL"], [], id="aggregates are never filled"),
        pytest.param(["quotes", "trades"], ["MSFT"], [Gap("quotes", "MSFT", 900, 5000),
                     Gap("trades", "MSFT", 400, 5000)], id="each filled channel"),
    ],
)  # fmt: skip
def test_gaps(channels: list[str], tickers: list[str] | None, expected: list[Gap]) -> None:
    assert gaps(CHECKPOINT, channels, tickers, 5000, "stocks") == expected


def test_no_checkpoint_no_gap() -> None:
    assert gaps(Checkpoint(), ["trades", "quotes"], ["AAPL"], 5000, "stocks") == []


def test_a_position_at_or_after_the_connect_time_has_no_gap() -> None:
    assert gaps(CHECKPOINT, ["trades"], ["AAPL"], 1000, "stocks") == []


def test_crypto_fills_trades_only() -> None:
    """A crypto quote fetched from REST would not be the row its streamed event gives (no sequence number,
    one exchange), so silver could not drop the overlap."""
    crypto = Checkpoint({"trades": {"X:BTCUSD": Position(10)}, "quotes": {"X:BTCUSD": Position(10)}})
    assert gaps(crypto, ["trades", "quotes"], None, 50, "crypto") == [Gap("trades", "X:BTCUSD", 10, 50)]
