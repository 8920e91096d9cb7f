"""Hostile vendor data, byte for byte through the real massive client: every malformed shape is kept under
_quarantine/ with the reason the run names, the run fails with exit code 5 and its summary, and nothing
reaches bronze or moves the watermark. No shape ends a run in a traceback or is coerced into a number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anthill_sandbox.server import SandboxServer
from tests.integration.ingest.conftest import feed_doc, run_ingest, s3_objects

TODAY = "2024-07-09"  # the window is Monday 2024-07-08
BAR = '{"o":1.5,"h":2.0,"l":1.0,"c":1.75,"v":1000,"vw":1.6,"n":12,"t":1720411200000}'
AGGS = "/v2/aggs/ticker/AAPL/"
DIVIDEND = '{"id":"E1","ticker":"KO","ex_dividend_date":"2024-06-14","cash_amount":0.485,"frequency":4}'
SPLIT = '{"id":"S1","ticker":"NVDA","execution_date":"2024-06-10","split_from":1,"split_to":10}'
TICKER = '{"ticker":"AAPL","name":"Apple Inc.","market":"stocks","locale":"us","active":true}'
GROUPED = "/v2/aggs/grouped/locale/us/market/stocks/"


def bar(field: str, raw: str) -> str:
    """One bar with ``field``'s JSON value replaced by ``raw`` (a JSON text, valid or not)."""
    return _replace(BAR, field, raw)


def _replace(obj: str, field: str, raw: str) -> str:
    fields = json.loads(obj)
    fields[field] = "__RAW__"
    return json.dumps(fields, separators=(",", ":")).replace('"__RAW__"', raw)


def one(result: str) -> str:
    return f"[{result}]"


def aggs(results: str) -> str:
    return f'{{"ticker":"AAPL","status":"OK","resultsCount":1,"results":{results}}}'


def reference(results: str) -> str:
    return f'{{"status":"OK","results":{results}}}'


AGGREGATES: dict[str, Any] = {"tickers": ["AAPL"]}
DIVIDENDS: dict[str, Any] = {"dataset": "dividends", "tickers": ["KO"], "bars": None,
                             "backfill": {"from": "2024-01-01"}}  # fmt: skip
SPLITS: dict[str, Any] = {"dataset": "splits", "tickers": ["NVDA"], "bars": None,
                          "backfill": {"from": "2024-01-01"}}  # fmt: skip
TICKERS: dict[str, Any] = {"dataset": "tickers", "tickers": None, "bars": None}
HOLIDAYS: dict[str, Any] = {"dataset": "marketHolidays", "tickers": None, "bars": None}
GROUPED_DAILY: dict[str, Any] = {"dataset": "groupedDaily", "tickers": None, "bars": None}

# fmt: off
CASES = [
    # Numbers JSON does not have: Python's parser accepts them, and Spark orders NaN above every price.
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('c', 'NaN'))), "NaN", id="close NaN"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('c', 'Infinity'))), "Infinity", id="close Infinity"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('o', '-Infinity'))), "-Infinity", id="open -Infinity"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('h', '1e999'))), "1e999", id="high overflows a double"),
    # Wrong types in a bar: never coerced, never a ValueError.
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('c', '"123.45"'))), "'c' is a string, not a number",
                 id="close a numeric string"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('c', '"abc"'))), "'c' is a string, not a number",
                 id="close a word"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('v', 'true'))), "'v' is a boolean, not a number",
                 id="volume a boolean"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('l', '{"x":1}'))), "'l' is an object, not a number",
                 id="low an object"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('t', '"2024-07-08"'))), "'t' is a string, not an integer",
                 id="timestamp a string"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('t', '1' + '0' * 30))), "'t' is not a time",
                 id="timestamp out of range"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('vw', '"x"'))), "'vw' is a string, not a number",
                 id="optional vwap a string"),
    pytest.param(AGGREGATES, AGGS, aggs(one(bar('n', '1.5'))), "'n' is 1.5, not an integer",
                 id="transactions a fraction"),
    # Results of the wrong shape: the client would raise AttributeError/TypeError or see nothing at all.
    pytest.param(AGGREGATES, AGGS, aggs('"oops"'), "results is a string, not an array", id="results a string"),
    pytest.param(AGGREGATES, AGGS, aggs(BAR), "results is an object, not an array", id="results an object"),
    pytest.param(AGGREGATES, AGGS, aggs("[[1,2,3]]"), "results[0] is an array, not an object",
                 id="result an array"),
    pytest.param(AGGREGATES, AGGS, aggs("[" + BAR + ",null]"), "results[1] is null, not an object",
                 id="result null"),
    pytest.param(AGGREGATES, AGGS, "[]", "the body is an array, not an object", id="body an array"),
    pytest.param(AGGREGATES, AGGS, '"OK"', "the body is a string, not an object", id="body a string"),
    # The other datasets' fields.
    pytest.param(DIVIDENDS, "/v3/reference/dividends", reference(one(_replace(DIVIDEND, 'ex_dividend_date',
                 '"soon"'))), "'ex_dividend_date' is 'soon', not a date", id="dividend date a word"),
    pytest.param(DIVIDENDS, "/v3/reference/dividends", reference(one(_replace(DIVIDEND, 'cash_amount',
                 '"0.485"'))), "'cash_amount' is a string, not a number", id="dividend amount a string"),
    pytest.param(SPLITS, "/v3/reference/splits", reference(one(_replace(SPLIT, 'split_to', 'NaN'))), "NaN",
                 id="split ratio NaN"),
    pytest.param(TICKERS, "/v3/reference/tickers", reference(one(_replace(TICKER, 'active', '"yes"'))),
                 "'active' is a string, not a boolean", id="ticker active a string"),
    pytest.param(TICKERS, "/v3/reference/tickers", reference(one(_replace(TICKER, 'name', '5'))),
                 "'name' is a number, not a string", id="ticker name a number"),
    pytest.param(HOLIDAYS, "/v1/marketstatus/upcoming", '{"date":"2024-07-04","exchange":"NYSE"}',
                 "the body is an object, not an array", id="holidays an object"),
    pytest.param(GROUPED_DAILY, GROUPED, aggs(one(_replace(BAR, 'T', '123'))), "'T' is a number, not a string",
                 id="grouped ticker a number"),
]
# fmt: on


@pytest.mark.parametrize(("spec", "path", "body", "reason"), CASES)
def test_hostile_responses_are_quarantined_with_their_reason(
    tmp_path: Path,
    sandbox: SandboxServer,
    bucket: str,
    spec: dict[str, Any],
    path: str,
    body: str,
    reason: str,
) -> None:
    sandbox.state.faults.bodies[path] = body.encode()
    doc = feed_doc("hostile", f"s3://{bucket}/market", **spec)
    doc["spec"] = {k: v for k, v in doc["spec"].items() if v is not None}
    outcome = run_ingest(tmp_path, doc, sandbox, today=TODAY)

    assert outcome.exit_code == 5, outcome.output
    assert outcome.summary["result"] == "Failed"
    assert reason in outcome.summary["message"]
    assert "Traceback" not in outcome.output
    objects = s3_objects(bucket)
    (reason_key,) = [k for k in objects if k.startswith("market/_quarantine/") and k.endswith("reason.json")]
    assert reason in json.loads(objects[reason_key])["reason"]
    assert objects[reason_key.replace("reason.json", "response.body")] == body.encode()  # kept byte for byte
    assert not [k for k in objects if k.startswith(("market/bronze/", "market/_state/"))]


def test_an_unforeseen_failure_still_ends_in_a_summary_not_a_traceback(
    tmp_path: Path, sandbox: SandboxServer, bucket: str
) -> None:
    doc = feed_doc("lost", f"s3://{bucket}-missing/market", tickers=["AAPL"])  # a bucket nobody made
    outcome = run_ingest(tmp_path, doc, sandbox, today=TODAY)
    assert outcome.exit_code == 1
    assert outcome.summary["result"] == "Failed"
    assert outcome.summary["message"].startswith("internal error: ")
    assert "NoSuchBucket" in outcome.summary["message"]
    assert all(line.startswith("{") for line in outcome.output.splitlines())  # JSON log lines only
