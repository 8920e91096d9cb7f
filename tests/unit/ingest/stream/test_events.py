"""WebSocket events and REST v3 results become the same bronze rows, so silver's dedupe on (ticker,
sequence_number) removes a gap fill's overlap with what was streamed."""

from __future__ import annotations

from typing import Any

import pytest
from massive.rest.models import Quote, Trade

from anthill_ingest.stream.events import (
    AGGREGATES,
    PARSERS,
    QUOTES,
    TRADES,
    check_row,
    parse_frame,
    rest_quote,
    rest_trade,
    to_table,
)

MS = 1_796_200_633_806  # an event time in ms; the REST API says it in ns


@pytest.mark.parametrize(
    ("event", "result", "ticker"),
    [
        pytest.param(
            {"ev": "T", "sym": "AAPL", "i": "71", "x": 4, "p": 190.25, "s": 100, "t": MS, "q": 71, "z": 3,
             "c": [12, 37]},
            {"exchange": 4, "id": "71", "price": 190.25, "sequence_number": 71, "sip_timestamp": MS * 10**6 + 123,
             "size": 100, "tape": 3, "conditions": [12, 37], "participant_timestamp": MS * 10**6 - 5},
            "AAPL", id="stock trade with conditions; REST nanoseconds truncate to the stream's ms",
        ),
        pytest.param(
            {"ev": "T", "sym": "MSFT", "i": "9", "x": 11, "p": 401.0, "s": 3, "t": MS, "q": 9, "z": 3},
            {"exchange": 11, "id": "9", "price": 401.0, "sequence_number": 9, "sip_timestamp": MS * 10**6,
             "size": 3.0, "tape": 3},
            "MSFT", id="no conditions on either side: None, not []",
        ),
        pytest.param(
            {"ev": "XT", "pair": "BTC-USD", "p": 97000.5, "t": MS, "s": 0.25, "c": [1], "i": "55", "x": 1,
             "r": MS - 2},
            {"exchange": 1, "id": "55", "price": 97000.5, "sequence_number": 55, "sip_timestamp": MS * 10**6,
             "size": 0.25, "conditions": [1]},
            "X:BTCUSD", id="crypto trade: the pair is the ticker, and neither side keeps a sequence number",
        ),
    ],
)  # fmt: skip
def test_a_streamed_trade_and_the_same_trade_from_rest_are_one_row(
    event: dict[str, Any], result: dict[str, Any], ticker: str
) -> None:
    streamed = PARSERS["trades"](event)
    fetched = rest_trade(ticker, Trade.from_dict(result))
    assert streamed == fetched
    assert check_row(TRADES, streamed) is None


def test_a_streamed_quote_and_the_same_quote_from_rest_are_one_row() -> None:
    event = {"ev": "Q", "sym": "AAPL", "bx": 12, "bp": 190.1, "bs": 2, "ax": 19, "ap": 190.2, "as": 5, "c": 1,
             "t": MS, "q": 72, "z": 3}  # fmt: skip
    result = {"ask_exchange": 19, "ask_price": 190.2, "ask_size": 5, "bid_exchange": 12, "bid_price": 190.1,
              "bid_size": 2, "conditions": [1], "participant_timestamp": 1, "sequence_number": 72,
              "sip_timestamp": MS * 10**6 + 999_999, "tape": 3}  # fmt: skip
    streamed = PARSERS["quotes"](event)
    assert streamed == rest_quote("AAPL", Quote.from_dict(result))
    assert check_row(QUOTES, streamed) is None


def test_an_aggregate_event_is_a_row_of_the_aggregate_schema() -> None:
    event = {"ev": "AM", "sym": "AAPL", "v": 900, "av": 12000, "op": 189.0, "vw": 190.01, "o": 190.0, "c": 190.3,
             "h": 190.5, "l": 189.9, "a": 189.7, "z": 100, "s": MS - 60_000, "e": MS}  # fmt: skip
    row = PARSERS["minuteAggregates"](event)
    assert row == ("AAPL", MS - 60_000, MS, 190.0, 190.5, 189.9, 190.3, 900, 190.01, 12000, 189.0, 189.7, 100)
    assert check_row(AGGREGATES, row) is None


def test_a_frame_sorts_events_by_channel_and_hands_back_statuses() -> None:
    rows: dict[str, list[Any]] = {"trades": [], "quotes": []}
    frame = [
        {"ev": "status", "status": "success", "message": "subscribed to: T.AAPL"},
        {"ev": "T", "sym": "AAPL", "x": 4, "p": 1.0, "s": 1, "t": MS, "q": 1},
        {"ev": "A", "sym": "AAPL", "s": MS, "e": MS + 1000, "o": 1, "h": 1, "l": 1, "c": 1, "v": 1},
        {"ev": "T", "sym": "AAPL", "x": 4, "s": 1, "t": MS, "q": 2},
        {"ev": "Z"},
        "not an event",
    ]
    statuses, malformed = parse_frame(frame, rows, frozenset(rows))
    assert statuses == [frame[0]]
    assert [r[2] for r in rows["trades"]] == [1]  # the second trade has no price
    assert rows["quotes"] == []
    assert malformed == 3  # no price, unknown ev, not an object; the aggregate is of a channel not streamed


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        pytest.param({"p": "190.25"}, "price is a string", id="price as a string"),
        pytest.param({"p": None}, "price is missing", id="price null"),
        pytest.param({"p": float("nan")}, "price is nan", id="NaN price"),
        pytest.param({"q": True}, "sequence_number is a boolean, not an integer", id="boolean sequence"),
        pytest.param({"q": 2**70}, "out of range", id="sequence beyond int64"),
        pytest.param({"c": ["12"]}, "not a list of integers", id="condition as a string"),
    ],
)
def test_a_value_of_another_type_costs_its_row_not_the_batch(bad: dict[str, Any], why: str) -> None:
    good = {"ev": "T", "sym": "AAPL", "x": 4, "p": 1.5, "s": 1, "t": MS, "q": 1}
    rows = [PARSERS["trades"](good), PARSERS["trades"]({**good, "q": 2, **bad})]
    table, rejected = to_table("trades", rows)
    assert table.num_rows == 1
    assert table["sequence_number"].to_pylist() == [1]
    assert [row for row, _ in rejected] == [rows[1]]
    assert why in rejected[0][1]


def test_tables_are_sorted_so_the_same_events_in_another_order_give_the_same_table() -> None:
    events = [{"ev": "T", "sym": s, "x": 1, "p": 1.0, "s": 1, "t": MS + i, "q": i} for i, s in
              enumerate(["MSFT", "AAPL", "AAPL"])]  # fmt: skip
    rows = [PARSERS["trades"](e) for e in events]
    forward, _ = to_table("trades", rows)
    backward, _ = to_table("trades", rows[::-1])
    assert forward.equals(backward)
    assert forward.schema == TRADES
    assert forward["ticker"].to_pylist() == ["AAPL", "AAPL", "MSFT"]
