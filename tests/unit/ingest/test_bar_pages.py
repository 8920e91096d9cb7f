"""A page of bars goes from its bytes into Arrow columns with the row parser's checks: the same rows, the same
Parquet bytes, and for a page the API never sends, the same error the transport or the row parser raised."""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

import pyarrow as pa
import pytest

from anthill_ingest.bodies import check_body
from anthill_ingest.datasets import bar_pages, bars, dataset_for
from anthill_ingest.datasets.bar_pages import Bars, parse_page
from anthill_ingest.datasets.base import DATE_COLUMN, Window
from anthill_ingest.errors import MalformedResponseError, SchemaSurpriseError
from anthill_ingest.runner import by_date, parquet_bytes

AGGS = Bars("list_aggs", "AAPL", 1, "minute", True)
GROUPED_DAY = datetime.date(2024, 7, 8)
GROUPED = Bars("get_grouped_daily_aggs", None, 1, "day", False, GROUPED_DAY)
PATH = "/v2/aggs/ticker/AAPL/range/1/minute/2024-07-08/2024-07-08"
BAR = '{"o":1.5,"h":2.0,"l":1.0,"c":1.75,"v":1000,"vw":1.6,"n":12,"t":1720411200000}'


def body(results: str, **extra: Any) -> bytes:
    fields = "".join(f',"{key}":{json.dumps(value)}' for key, value in extra.items())
    return f'{{"ticker":"AAPL","status":"OK","resultsCount":1,"results":{results}{fields}}}'.encode()


def one(result: str) -> bytes:
    return body(f"[{result}]")


def bar(field: str, raw: str) -> str:
    """``BAR`` with ``field``'s JSON text replaced by ``raw`` (valid JSON or not)."""
    fields = json.loads(BAR)
    fields[field] = "__RAW__"
    return json.dumps(fields, separators=(",", ":")).replace('"__RAW__"', raw)


def row_path(raw: bytes, shared: Bars) -> pa.Table:
    """The page as the rows the runner built before (the transport's check, the client's dicts, bar_row)."""
    check_body(raw, PATH)
    results = json.loads(raw)["results"]
    rows = [bars.bar_row(result, shared.ticker or result["T"], shared.multiplier, shared.timespan, shared.adjusted)
            for result in results]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=bars.SCHEMA)


def random_bars(count: int, seed: int, grouped: bool = False) -> list[dict[str, Any]]:
    """Bars with the values the API sends: prices of a few decimals, integers where doubles are allowed,
    vwap and transactions sometimes absent, extra fields the parser does not read."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    results = []
    for index in range(count):
        result: dict[str, Any] = {key: round(rng.uniform(0.0001, 5000), rng.choice([0, 2, 4, 6]))
                                  for key in ("o", "h", "l", "c")}  # fmt: skip
        result["v"] = rng.choice([rng.randint(0, 10**9), rng.uniform(0, 10**7)])
        result["t"] = 1_577_836_800_000 + index * 60_000 + rng.randint(0, 10**9) * 1000
        if rng.random() < 0.9:
            result["vw"] = rng.uniform(0.0001, 5000)
        if rng.random() < 0.9:
            result["n"] = rng.randint(0, 10**6)
        if rng.random() < 0.1:
            result["otc"] = True
        if grouped:
            result["T"] = rng.choice(["AAPL", "MSFT", "BRK.B", "Ä\u00e9", "X"])
        results.append(result)
    return results


@pytest.mark.parametrize(
    ("shared", "results", "separators"),
    [
        pytest.param(AGGS, random_bars(2000, 1), (",", ":"), id="minute bars, compact"),
        pytest.param(AGGS, random_bars(500, 2), (", ", ": "), id="spaced out, as Python's json writes"),
        pytest.param(GROUPED, random_bars(2000, 3, grouped=True), (",", ":"), id="grouped daily"),
        pytest.param(AGGS, [], (",", ":"), id="no bars"),
    ],
)
def test_documented_pages_become_the_rows_and_bytes_the_row_parser_made(
    shared: Bars, results: list[dict[str, Any]], separators: tuple[str, str]
) -> None:
    raw = body(json.dumps(results, separators=separators))
    assert bar_pages._columns(raw, shared) is not None  # the fast path took it
    page = parse_page(raw, PATH, shared)
    expected = row_path(raw, shared)
    assert page.table.equals(expected, check_metadata=True)
    assert parquet_bytes(page.table) == parquet_bytes(expected)
    assert page.next_path is None


def test_pretty_printed_pages_are_read_too() -> None:
    raw = json.dumps(json.loads(one(BAR)), indent=2).encode()
    assert parse_page(raw, PATH, AGGS).table.equals(row_path(raw, AGGS))


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        pytest.param("https://api.example/v2/aggs/ticker/AAPL/range/1/minute/a/b?cursor=5&limit=9",
                     "/v2/aggs/ticker/AAPL/range/1/minute/a/b?cursor=5&limit=9", id="path and query"),
        pytest.param("http://h/v2/aggs/x", "/v2/aggs/x", id="no query"),
    ],
)  # fmt: skip
def test_next_url_is_followed_as_the_client_follows_it(next_url: str, expected: str) -> None:
    assert parse_page(body("[" + BAR + "]", next_url=next_url), PATH, AGGS).next_path == expected


@pytest.mark.parametrize(
    ("raw", "shared"),
    [
        pytest.param(one(bar("t", "1720411200000.0")), AGGS, id="time written as a double"),
        pytest.param(one(bar("n", "12.0")), AGGS, id="transactions written as a double"),
        pytest.param(one(bar("t", "-86400000")), AGGS, id="a time before 1970"),
        pytest.param(one(bar("v", "1" + "0" * 25)), AGGS, id="volume beyond int64"),
        pytest.param(body('[{"o":1,"o":2,"h":2,"l":1,"c":1,"v":1,"t":0}]'), AGGS, id="a key twice: the last"),
        pytest.param(one(bar("vw", "null")), AGGS, id="vwap null"),
    ],
)
def test_pages_only_the_row_parser_reads_still_give_its_rows(raw: bytes, shared: Bars) -> None:
    assert parse_page(raw, PATH, shared).table.equals(row_path(raw, shared))


# fmt: off
REFUSED = [
    # Numbers JSON does not have, where the bars are and where nothing is read.
    pytest.param(one(bar('c', 'NaN')), MalformedResponseError, "NaN is not a number JSON has", id="NaN"),
    pytest.param(one(bar('c', 'Infinity')), MalformedResponseError, "Infinity is not a number JSON has",
                 id="Infinity"),
    pytest.param(one(bar('h', '1e999')), MalformedResponseError, "1e999 is beyond what a double holds",
                 id="overflow"),
    pytest.param(one(bar('otc', 'NaN')), MalformedResponseError, "NaN is not a number JSON has",
                 id="NaN in a field nobody reads"),
    pytest.param(b'{"x":-1e400,"results":[]}', MalformedResponseError, "-1e400 is beyond what a double holds",
                 id="overflow beside the results"),
    # Bodies of another shape.
    pytest.param(one(BAR) + b"\n" + body("[]"), MalformedResponseError, "not valid JSON",
                 id="two documents"),
    pytest.param(b"", MalformedResponseError, "not valid JSON", id="empty"),
    pytest.param(b"[]", MalformedResponseError, "the body is an array, not an object", id="body an array"),
    pytest.param(body('"oops"'), MalformedResponseError, "results is a string, not an array", id="results a string"),
    pytest.param(body(BAR), MalformedResponseError, "results is an object, not an array", id="results an object"),
    pytest.param(body("[[1,2,3]]"), MalformedResponseError, "results[0] is an array, not an object",
                 id="result an array"),
    pytest.param(body("[" + BAR + ",null]"), MalformedResponseError, "results[1] is null, not an object",
                 id="result null"),
    pytest.param(body("null"), MalformedResponseError, "results is null, not an array", id="results null"),
    # Bars of another shape.
    pytest.param(one(bar('c', 'null')), SchemaSurpriseError, "AAPL bar result without 'c'", id="close null"),
    pytest.param(body('[{"o":1,"h":2,"l":1,"v":1,"t":0}]'), SchemaSurpriseError, "AAPL bar result without 'c'",
                 id="close missing"),
    pytest.param(one(bar('c', '"123.45"')), SchemaSurpriseError, "'c' is a string, not a number",
                 id="numeric string"),
    pytest.param(one(bar('v', 'true')), SchemaSurpriseError, "'v' is a boolean, not a number",
                 id="volume a boolean"),
    pytest.param(one(bar('l', '{"x":1}')), SchemaSurpriseError, "'l' is an object, not a number",
                 id="low an object"),
    pytest.param(one(bar('t', '"2024-07-08"')), SchemaSurpriseError, "'t' is a string, not an integer",
                 id="time a string"),
    pytest.param(one(bar('t', '1' + '0' * 30)), SchemaSurpriseError, "'t' is not a time",
                 id="time out of range"),
    pytest.param(one(bar('n', '1.5')), SchemaSurpriseError, "'n' is 1.5, not an integer",
                 id="transactions a fraction"),
    pytest.param(body("[" + BAR + "]", next_url=5), SchemaSurpriseError,
                 "list_aggs: the client could not read the response (AttributeError", id="next_url a number"),
]
# fmt: on


@pytest.mark.parametrize(("raw", "error", "reason"), REFUSED)
def test_pages_the_api_never_sends_fail_as_they_always_did(
    raw: bytes, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error) as refused:
        parse_page(raw, PATH, AGGS)
    assert reason in str(refused.value)
    if isinstance(refused.value, MalformedResponseError):
        assert refused.value.raw == raw  # what the run quarantines
        assert refused.value.path == PATH


@pytest.mark.parametrize(
    ("ticker", "reason"),
    [
        pytest.param(
            "123", "grouped daily result on 2024-07-08: 'T' is a number, not a string", id="a number"
        ),
        pytest.param("null", "grouped daily result without 'T' on 2024-07-08", id="null"),
    ],
)
def test_a_grouped_bar_without_a_ticker_string_is_named(ticker: str, reason: str) -> None:
    with pytest.raises(SchemaSurpriseError, match=reason):
        parse_page(one(bar("T", ticker)), PATH, GROUPED)


def test_a_body_the_client_cannot_decode_is_no_bars_as_before() -> None:
    """JSON in UTF-16 passes the body check (Python's parser detects the encoding); the client decodes bodies
    as UTF-8, logs the failure and reads no results."""
    raw = one(BAR).decode().encode("utf-16")
    page = parse_page(raw, PATH, AGGS)
    assert page.table.num_rows == 0
    assert page.table.schema == bars.SCHEMA


@pytest.mark.parametrize(
    ("asset_class", "chunk"),
    [
        pytest.param(
            "stocks", Window(datetime.date(2024, 3, 8), datetime.date(2024, 3, 12)), id="spring forward"
        ),
        pytest.param(
            "stocks", Window(datetime.date(2024, 11, 1), datetime.date(2024, 11, 5)), id="fall back"
        ),
        pytest.param("stocks", Window(datetime.date(2024, 7, 8), datetime.date(2024, 7, 8)), id="one day"),
        pytest.param("crypto", Window(datetime.date(2024, 3, 8), datetime.date(2024, 3, 12)), id="utc days"),
        pytest.param(
            "stocks", Window(datetime.date(2023, 1, 1), datetime.date(2024, 12, 31)), id="two years"
        ),
    ],
)
def test_pages_are_dated_to_the_market_day_of_each_bar(asset_class: str, chunk: Window) -> None:
    """Every bar gets the day the row path filed it under (:func:`bars.market_day`); bars outside the chunk's
    days, an hour or a day off its edges, are dropped as the row path dropped them."""
    start = datetime.datetime.combine(chunk.start, datetime.time(), datetime.UTC) - datetime.timedelta(days=1)
    end = datetime.datetime.combine(chunk.end, datetime.time(), datetime.UTC) + datetime.timedelta(days=2)
    minutes = int((end - start).total_seconds() // 60)
    step = max(1, minutes // 20_000)
    times = [start + datetime.timedelta(minutes=m) for m in range(0, minutes, step)]
    rows = [{"ticker": "X", "multiplier": 1, "timespan": "minute", "ts": ts, "open": 1.0, "high": 1.0, "low": 1.0,
             "close": 1.0, "volume": 1.0, "vwap": None, "transactions": None, "adjusted": True}
            for ts in times]  # fmt: skip
    table = pa.Table.from_pylist(rows, schema=bars.SCHEMA)
    dated = bar_pages.dated(table, chunk, asset_class)
    expected = [(row["ts"], bars.market_day(row, asset_class)) for row in rows]
    expected = [(ts, day) for ts, day in expected if chunk.start <= day <= chunk.end]
    assert list(zip(dated["ts"].to_pylist(), dated[DATE_COLUMN].to_pylist(), strict=True)) == expected


def test_by_date_files_each_day_in_the_order_the_rows_made() -> None:
    """One table per date, sorted by ticker and time as ``to_table`` sorted rows: the same Parquet bytes."""
    results = random_bars(3000, 4, grouped=True)
    page = parse_page(body(json.dumps(results)), PATH, GROUPED).table
    chunk = Window(datetime.date(2020, 1, 1), datetime.date(2020, 5, 1))
    dated = bar_pages.dated(page, chunk, "stocks")
    rows = page.to_pylist()
    for day, table in by_date(pa.concat_tables([dated.slice(0, 1000), dated.slice(1000)]), bars.SORT_KEYS):
        expected = dataset_for("groupedDaily").to_table(
            [r for r in rows if bars.market_day(r, "stocks") == day]
        )
        assert parquet_bytes(table) == parquet_bytes(expected), day
