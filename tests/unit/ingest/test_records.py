"""The record parsers take the API's documented types only: no coercion, a reason naming the field."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from anthill_ingest.bodies import check_body
from anthill_ingest.datasets.bars import bar_row
from anthill_ingest.datasets.dividends import dividend_row
from anthill_ingest.errors import MalformedResponseError, SchemaSurpriseError

BAR = {"o": 1.5, "h": 2, "l": 1.0, "c": 1.75, "v": 1000, "t": 1720411200000}


def test_a_documented_bar_parses_with_integers_as_doubles() -> None:
    row = bar_row(BAR, "AAPL", 1, "day", True)
    assert row["high"] == 2.0
    assert isinstance(row["high"], float)
    assert row["ts"] == datetime.datetime(2024, 7, 8, 4, tzinfo=datetime.UTC)
    assert row["vwap"] is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"c": "1.75"}, "'c' is a string, not a number", id="numeric string is not coerced"),
        pytest.param({"c": float("nan")}, "'c' is nan, not a finite number", id="NaN from another parser"),
        pytest.param({"v": False}, "'v' is a boolean, not a number", id="bool is not a number"),
        pytest.param({"t": 1.7e12 + 0.5}, "'t' is 1700000000000.5, not an integer", id="fractional time"),
        pytest.param({"n": "12"}, "'n' is a string, not an integer", id="optional count a string"),
        pytest.param({"c": None}, "result without 'c'", id="missing close"),
    ],
)
def test_bar_fields_of_another_type_are_a_schema_surprise(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(SchemaSurpriseError, match=reason.replace("(", r"\(")):
        bar_row({**BAR, **change}, "AAPL", 1, "day", True)


def test_a_dividend_date_that_is_not_one_is_named() -> None:
    result = {"id": "E1", "ticker": "KO", "ex_dividend_date": "2024-13-01", "cash_amount": 0.485}
    with pytest.raises(SchemaSurpriseError, match="'ex_dividend_date' is '2024-13-01', not a date"):
        dividend_row(result)


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        pytest.param("/v2/aggs", b'{"results":[{"c":NaN}]}', "NaN is not a number JSON has", id="NaN"),
        pytest.param(
            "/v2/aggs", b'{"results":[{"c":-1e400}]}', "-1e400 is beyond what a double holds", id="overflow"
        ),
        pytest.param("/v2/aggs", b'{"results":{"c":1}}', "results is an object, not an array", id="results"),
        pytest.param("/v2/aggs", b"[]", "the body is an array, not an object", id="array body"),
        pytest.param(
            "/v1/marketstatus/upcoming",
            b"[1]",
            "the body[0] is a number, not an object",
            id="holiday a number",
        ),
    ],
)
def test_bodies_the_api_never_sends_are_refused(path: str, body: bytes, reason: str) -> None:
    with pytest.raises(MalformedResponseError, match=reason.replace("[", r"\[")) as refused:
        check_body(body, path)
    assert refused.value.raw == body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/v2/aggs", b'{"status":"OK","resultsCount":0}', id="no results key"),
        pytest.param("/v2/aggs", b'{"results":[]}', id="empty results"),
        pytest.param("/v1/marketstatus/upcoming", b'[{"date":"2024-07-04"}]', id="holidays"),
    ],
)
def test_documented_bodies_pass(path: str, body: bytes) -> None:
    check_body(body, path)
