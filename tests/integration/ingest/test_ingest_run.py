"""`anthill ingest run` with the real massive client against the sandbox API, writing to S3 (moto) or files."""

from __future__ import annotations

import datetime
import io
import json
import math
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest

from anthill_ingest import runner
from anthill_ingest.client import MarketData
from anthill_ingest.datasets.aggregates import fetch_bars
from anthill_ingest.errors import RequestNotSentError
from anthill_ingest.sink import MULTIPART_THRESHOLD, S3Sink
from anthill_sandbox.data import INSTRUMENTS, daily_bar
from anthill_sandbox.server import SandboxServer
from tests.integration.ingest.conftest import feed_doc, run_ingest, s3_objects

pytestmark = pytest.mark.integration

CRYPTO = {"X:BTCUSD", "X:ETHUSD", "X:SOLUSD"}
FOREX = {"C:EURUSD", "C:GBPUSD", "C:USDJPY"}
STOCKS = {ticker for ticker, instrument in INSTRUMENTS.items() if instrument.market == "stocks"}


def _bronze(objects: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in objects.items() if k.startswith("market/bronze/")}


def test_backfill_pages_through_next_url_into_s3(tmp_path: Path, sandbox: SandboxServer, bucket: str) -> None:
    sandbox.state.page_size = 50
    doc = feed_doc("daily", f"s3://{bucket}/market", backfill={"from": "2024-01-02"})
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-12-31")

    assert outcome.exit_code == 0, outcome.output
    trading_days = 251  # 2024-01-02 .. 2024-12-30
    assert outcome.summary["rows"] == 2 * trading_days
    assert outcome.summary["files"] == trading_days
    assert outcome.summary["watermark"] == "2024-12-30"
    assert outcome.summary["requests"] == 2 * math.ceil(trading_days / 50)  # every page, nothing more
    objects = s3_objects(bucket)
    table = pq.read_table(
        io.BytesIO(objects["market/bronze/market/daily/aggregates/1day/date=2024-07-01/daily.parquet"])
    )
    assert table.column("ticker").to_pylist() == ["AAPL", "MSFT"]
    assert table.schema.field("ts").type.tz == "UTC"
    state = json.loads(objects["market/_state/market/daily.json"])
    assert state["watermark"] == "2024-12-30"
    manifest = json.loads(objects[f"market/{state['manifest']}"])
    assert len(manifest["files"]) == trading_days
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])


def test_same_named_feeds_of_two_namespaces_keep_their_own_partitions_and_watermark(
    tmp_path: Path, sandbox: SandboxServer, bucket: str
) -> None:
    """Tenants share a lake: `daily` in `team-a` and `daily` in `team-b` write different tickers into the same
    destination. Neither overwrites the other's partitions, and neither's watermark moves the other's."""
    team_a = feed_doc("daily", f"s3://{bucket}/market", tickers=["AAPL"], backfill={"from": "2024-06-03"})
    team_a["metadata"]["namespace"] = "team-a"
    team_b = feed_doc("daily", f"s3://{bucket}/market", tickers=["MSFT"], backfill={"from": "2024-06-24"})
    team_b["metadata"]["namespace"] = "team-b"
    assert run_ingest(tmp_path, team_a, sandbox, today="2024-07-09").summary["watermark"] == "2024-07-08"
    assert run_ingest(tmp_path, team_b, sandbox, today="2024-07-01").summary["watermark"] == "2024-06-28"

    objects = s3_objects(bucket)
    day = "aggregates/1day/date=2024-06-27/daily.parquet"
    for namespace, ticker in (("team-a", "AAPL"), ("team-b", "MSFT")):
        table = pq.read_table(io.BytesIO(objects[f"market/bronze/{namespace}/daily/{day}"]))
        assert table.column("ticker").to_pylist() == [ticker]
    a_days = {k for k in _bronze(objects) if k.startswith("market/bronze/team-a/daily/")}
    b_days = {k for k in _bronze(objects) if k.startswith("market/bronze/team-b/daily/")}
    assert (len(a_days), len(b_days)) == (24, 5)  # trading days of 2024-06-03..07-08 and of 06-24..06-28
    assert a_days | b_days == set(_bronze(objects))  # nothing outside the two feeds' own prefixes
    states = {ns: json.loads(objects[f"market/_state/{ns}/daily.json"]) for ns in ("team-a", "team-b")}
    assert {ns: (s["feed"], s["watermark"]) for ns, s in states.items()} == {
        "team-a": ("team-a/daily", "2024-07-08"),
        "team-b": ("team-b/daily", "2024-06-28"),
    }
    # team-b's next run continues from its own watermark, not from team-a's.
    again = run_ingest(tmp_path, team_b, sandbox, today="2024-07-09")
    assert again.summary["window"] == {"from": "2024-06-26", "to": "2024-07-08"}


def test_rerun_of_the_same_window_rewrites_identical_objects(tmp_path: Path, sandbox: SandboxServer,
                                                             bucket: str) -> None:  # fmt: skip
    doc = feed_doc("rerun", f"s3://{bucket}/market", backfill={"from": "2024-06-03"})
    assert run_ingest(tmp_path, doc, sandbox, today="2024-07-01").exit_code == 0
    first = _bronze(s3_objects(bucket))
    boto3.client("s3").delete_object(Bucket=bucket, Key="market/_state/market/rerun.json")  # forget progress
    assert run_ingest(tmp_path, doc, sandbox, today="2024-07-01").exit_code == 0
    assert _bronze(s3_objects(bucket)) == first


def test_incremental_run_continues_from_the_watermark_with_a_lookback(tmp_path: Path, sandbox: SandboxServer,
                                                                      bucket: str) -> None:  # fmt: skip
    doc = feed_doc("inc", f"s3://{bucket}/market", backfill={"from": "2024-06-03"})
    assert run_ingest(tmp_path, doc, sandbox, today="2024-07-01").summary["watermark"] == "2024-06-28"
    second = run_ingest(tmp_path, doc, sandbox, today="2024-07-09")
    assert second.summary["window"] == {"from": "2024-06-26", "to": "2024-07-08"}
    assert second.summary["watermark"] == "2024-07-08"
    assert run_ingest(tmp_path, doc, sandbox, today="2024-07-09").summary["message"] == "up to date"


def test_lookback_days_are_rewritten_only_when_their_bytes_changed(tmp_path: Path, sandbox: SandboxServer,
                                                                   bucket: str) -> None:  # fmt: skip
    """The days fetched again for late corrections are left alone when what is stored is what came back:
    their write time still says when their bars arrived, and silver has nothing to re-read."""
    doc = feed_doc("lookback", f"s3://{bucket}/market", backfill={"from": "2024-06-03"})
    assert run_ingest(tmp_path, doc, sandbox, today="2024-07-01").summary["watermark"] == "2024-06-28"
    s3 = boto3.client("s3")
    key = "market/bronze/market/lookback/aggregates/1day/date={}/lookback.parquet"
    original = s3.get_object(Bucket=bucket, Key=key.format("2024-06-27"))["Body"].read()
    # A stored copy that differs from what the API now says (as after a provider correction) ...
    s3.put_object(Bucket=bucket, Key=key.format("2024-06-27"), Body=b"stale")
    # ... and an unchanged one, marked so that a rewrite would show.
    unchanged = key.format("2024-06-28")
    sha = s3.head_object(Bucket=bucket, Key=unchanged)["Metadata"]["sha256"]
    s3.copy_object(Bucket=bucket, Key=unchanged, CopySource={"Bucket": bucket, "Key": unchanged},
                   Metadata={"sha256": sha, "marker": "kept"}, MetadataDirective="REPLACE")  # fmt: skip

    second = run_ingest(tmp_path, doc, sandbox, today="2024-07-09")
    assert second.summary["window"] == {"from": "2024-06-26", "to": "2024-07-08"}
    # 06-26 and 06-28 unchanged; 06-27 and the five new trading days (07-04 is a holiday) written.
    assert (second.summary["unchanged"], second.summary["files"]) == (2, 6)
    assert s3.get_object(Bucket=bucket, Key=key.format("2024-06-27"))["Body"].read() == original
    assert s3.head_object(Bucket=bucket, Key=unchanged)["Metadata"]["marker"] == "kept"
    manifest = json.loads(s3_objects(bucket)["market/_manifests/market/lookback/2024-06-26_2024-07-08.json"])
    assert len(manifest["files"]) == 8  # the manifest lists the whole window
    # The stored copy was no Parquet to merge with: replaced, and kept where nothing reads it as bronze.
    (kept,) = [k for k in s3_objects(bucket) if k.startswith("market/_quarantine/market/lookback/")]
    assert kept.endswith("/date=2024-06-27/lookback.parquet")
    assert s3.get_object(Bucket=bucket, Key=kept)["Body"].read() == b"stale"
    assert "date=2024-06-27/lookback.parquet was not readable" in second.summary["warnings"][0]


def test_crash_between_data_and_watermark_is_redone_without_duplicates(
    tmp_path: Path, sandbox: SandboxServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watermark write fails (the pod dies there): the next run redoes the window; nothing doubles."""
    doc = feed_doc("crash", f"s3://{bucket}/market", backfill={"from": "2024-06-03"})

    def die(self: runner.Run, *args: object) -> None:
        raise KeyboardInterrupt  # what SIGTERM/SIGKILL look like from inside: nothing after this line runs

    with monkeypatch.context() as patch:
        patch.setattr(runner.Run, "_write_state", die)
        crashed = run_ingest(tmp_path, doc, sandbox, today="2024-07-01")
    assert crashed.exit_code != 0
    assert crashed.summary == {}  # it died: no termination message either
    after_crash = s3_objects(bucket)
    assert "market/_state/market/crash.json" not in after_crash
    assert _bronze(after_crash)

    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-01")
    assert outcome.exit_code == 0
    assert outcome.summary["window"]["from"] == "2024-06-03"  # redone from the old (absent) watermark
    recovered = s3_objects(bucket)
    assert _bronze(recovered) == _bronze(after_crash)  # same objects, same bytes: no duplicates
    rows = sum(pq.read_table(io.BytesIO(v)).num_rows for v in _bronze(recovered).values())
    assert rows == outcome.summary["rows"]


def test_429_storm_is_ridden_out_within_the_budget(
    tmp_path: Path, sandbox: SandboxServer, bucket: str
) -> None:
    sandbox.state.faults.rate_limit_first = 4
    sandbox.state.faults.retry_after = 0.05
    outcome = run_ingest(tmp_path, feed_doc("storm", f"s3://{bucket}/market"), sandbox, today="2024-07-09")
    assert outcome.exit_code == 0, outcome.output
    assert outcome.summary["requests"] == 2 + 4  # two tickers, four 429s retried


def test_endless_429s_fail_clearly_without_moving_the_watermark(tmp_path: Path, sandbox: SandboxServer,
                                                                bucket: str) -> None:  # fmt: skip
    sandbox.state.faults.rate_limit_every = 1
    sandbox.state.faults.retry_after = 0.01
    outcome = run_ingest(tmp_path, feed_doc("endless", f"s3://{bucket}/market"), sandbox, today="2024-07-09")
    assert outcome.exit_code == 4
    assert "HTTP 429, still failing after 6 attempts" in outcome.summary["message"]
    assert "market/_state/market/endless.json" not in s3_objects(bucket)


def test_5xx_are_retried(
    tmp_path: Path, sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sandbox.state.faults.server_error_first = 2
    lake = tmp_path_factory.mktemp("lake")
    outcome = run_ingest(tmp_path, feed_doc("flaky", f"file://{lake}"), sandbox, today="2024-07-09")
    assert outcome.exit_code == 0, outcome.output
    assert (lake / "_state" / "market" / "flaky.json").exists()


def test_rejected_api_key_changes_nothing(tmp_path: Path, sandbox: SandboxServer, bucket: str) -> None:
    outcome = run_ingest(tmp_path, feed_doc("auth", f"s3://{bucket}/market"), sandbox, today="2024-07-09",
                         api_key="not-a-key")  # fmt: skip
    assert outcome.exit_code == 3
    assert outcome.summary["message"].startswith("API key rejected (401)")
    assert "not-a-key" not in outcome.output + json.dumps(outcome.summary)
    assert s3_objects(bucket) == {}


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        pytest.param("malformed_every", "not valid JSON", id="truncated body"),
        pytest.param("schema_surprise_every", "bar result without 'c'", id="bars without a close"),
    ],
)
def test_surprising_responses_are_quarantined_and_fail_the_run(
    tmp_path: Path, sandbox: SandboxServer, bucket: str, fault: str, reason: str
) -> None:
    setattr(sandbox.state.faults, fault, 1)
    outcome = run_ingest(tmp_path, feed_doc("odd", f"s3://{bucket}/market"), sandbox, today="2024-07-09")
    assert outcome.exit_code == 5
    assert reason in outcome.summary["message"]
    objects = s3_objects(bucket)
    (reason_key,) = [
        k for k in objects if k.startswith("market/_quarantine/market/odd/") and k.endswith("reason.json")
    ]
    assert reason in json.loads(objects[reason_key])["reason"]
    assert objects[reason_key.replace("reason.json", "response.body")]  # the raw body is kept
    assert "market/_state/market/odd.json" not in objects


def test_unknown_ticker_warns_and_the_others_continue(
    tmp_path: Path, sandbox: SandboxServer, bucket: str
) -> None:
    doc = feed_doc("mixed", f"s3://{bucket}/market", tickers=["AAPL", "ZZZZ"])
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-09")
    assert outcome.exit_code == 0
    assert outcome.summary["rows"] == 1
    assert "no data for ZZZZ" in outcome.summary["warnings"][0]


def test_grouped_daily_calls_once_per_trading_day(
    tmp_path: Path, sandbox: SandboxServer, bucket: str
) -> None:
    """July 4th and the weekend are skipped: no request is spent on a closed market."""
    doc = feed_doc("market", f"s3://{bucket}/market", dataset="groupedDaily", tickers=None, bars=None,
                   backfill={"from": "2024-07-01"})  # fmt: skip
    doc["spec"] = {k: v for k, v in doc["spec"].items() if v is not None}
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-09")
    assert outcome.exit_code == 0, outcome.output
    assert outcome.summary["requests"] == 5  # Jul 1, 2, 3, 5, 8
    days = sorted(k.split("date=")[1][:10] for k in _bronze(s3_objects(bucket)))
    assert days == ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08"]


def _grouped_feed(bucket: str, asset_class: str) -> dict[str, Any]:
    doc = feed_doc(f"{asset_class}-market", f"s3://{bucket}/market", dataset="groupedDaily",
                   assetClass=asset_class, backfill={"from": "2024-07-04"})  # fmt: skip
    doc["spec"] = {k: v for k, v in doc["spec"].items() if k not in ("tickers", "bars")}
    return doc


def _tickers_by_day(objects: dict[str, bytes]) -> dict[str, set[str]]:
    return {key.split("date=")[1][:10]: set(pq.read_table(io.BytesIO(body)).column("ticker").to_pylist())
            for key, body in _bronze(objects).items()}  # fmt: skip


@pytest.mark.parametrize(
    ("asset_class", "requests", "expected"),
    [
        pytest.param("stocks", 2, dict.fromkeys(("2024-07-05", "2024-07-08"), STOCKS),
                     id="stocks: NYSE days, stocks only (no indices, crypto or fx)"),
        pytest.param("crypto", 5, dict.fromkeys(("2024-07-04", "2024-07-05", "2024-07-06", "2024-07-07",
                                                 "2024-07-08"), CRYPTO),
                     id="crypto: every day, the weekend and July 4th included"),
        # The forex calendar asks for Sunday too (the week opens Sunday evening); the sandbox's fx has no
        # Sunday session, so that request comes back empty.
        pytest.param("forex", 4, dict.fromkeys(("2024-07-04", "2024-07-05", "2024-07-08"), FOREX),
                     id="forex: July 4th and Sunday asked for, Saturday not"),
    ],
)  # fmt: skip
def test_grouped_daily_fetches_the_feeds_market_on_its_days(
    tmp_path: Path, sandbox: SandboxServer, bucket: str, asset_class: str, requests: int,
    expected: dict[str, set[str]],
) -> None:  # fmt: skip
    outcome = run_ingest(tmp_path, _grouped_feed(bucket, asset_class), sandbox, today="2024-07-09")
    assert outcome.exit_code == 0, outcome.output
    assert outcome.summary["requests"] == requests
    assert outcome.summary["watermark"] == "2024-07-08"
    assert _tickers_by_day(s3_objects(bucket)) == expected


def _aggregates_feed(bucket: str) -> dict[str, Any]:
    return feed_doc(
        "refetch", f"s3://{bucket}/market", tickers=["AAPL", "MSFT"], backfill={"from": "2024-06-24"}
    )


def _drop_msft_from_the_spec(doc: dict[str, Any], sandbox: SandboxServer) -> None:
    doc["spec"]["tickers"] = ["AAPL"]


def _api_has_nothing_on_msft(doc: dict[str, Any], sandbox: SandboxServer) -> None:
    sandbox.state.faults.silent_tickers = frozenset({"MSFT"})


@pytest.mark.parametrize(
    ("feed", "change"),
    [
        pytest.param(_aggregates_feed, _drop_msft_from_the_spec,
                     id="aggregates: a ticker removed from the spec keeps its rows on the days fetched again"),
        pytest.param(_aggregates_feed, _api_has_nothing_on_msft,
                     id="aggregates: a ticker the API returns nothing for this time keeps its rows"),
        pytest.param(lambda bucket: _grouped_feed(bucket, "stocks"), _api_has_nothing_on_msft,
                     id="groupedDaily: a ticker missing from the day's market this time keeps its rows"),
    ],
)  # fmt: skip
def test_a_refetched_day_keeps_the_rows_it_does_not_replace(
    tmp_path: Path, sandbox: SandboxServer, bucket: str, feed: Callable[[str], dict[str, Any]],
    change: Callable[[dict[str, Any], SandboxServer], None],
) -> None:  # fmt: skip
    """One Parquet object holds all tickers of a day. The lookback fetches 06-26..06-28 again without MSFT:
    what it returns replaces AAPL's rows, and MSFT's stored rows stay; the new days have AAPL only."""
    doc = feed(bucket)
    doc["spec"]["backfill"] = {"from": "2024-06-24"}
    assert run_ingest(tmp_path, doc, sandbox, today="2024-07-01").summary["watermark"] == "2024-06-28"
    before = _bronze(s3_objects(bucket))

    change(doc, sandbox)
    again = run_ingest(tmp_path, doc, sandbox, today="2024-07-03")
    assert again.exit_code == 0, again.output
    assert again.summary["window"] == {"from": "2024-06-26", "to": "2024-07-02"}
    by_day = {day: tickers & {"AAPL", "MSFT"} for day, tickers in _tickers_by_day(s3_objects(bucket)).items()}
    assert by_day == {
        **dict.fromkeys(
            ("2024-06-24", "2024-06-25", "2024-06-26", "2024-06-27", "2024-06-28"),
            frozenset({"AAPL", "MSFT"}),
        ),
        **dict.fromkeys(("2024-07-01", "2024-07-02"), frozenset({"AAPL"})),
    }
    after = _bronze(s3_objects(bucket))
    assert {k: after[k] for k in before} == before  # the days fetched again hold the same bytes as before


def test_crypto_minute_bars_are_filed_under_their_utc_day(
    tmp_path: Path, sandbox: SandboxServer, bucket: str
) -> None:
    """A crypto day is the UTC day its daily bar covers: each day's object holds that day's 1,440 minutes,
    not the New York evening before (which would also leave the window's last day short of minutes)."""
    doc = feed_doc("btc", f"s3://{bucket}/market", assetClass="crypto", tickers=["X:BTCUSD"],
                   bars={"multiplier": 1, "timespan": "minute"}, backfill={"from": "2024-07-04"})  # fmt: skip
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-07")
    assert outcome.exit_code == 0, outcome.output
    filed = {}
    for key, body in _bronze(s3_objects(bucket)).items():
        stamps = pq.read_table(io.BytesIO(body)).column("ts").to_pylist()
        filed[key.split("date=")[1][:10]] = (len(stamps), {str(ts.date()) for ts in stamps})
    assert filed == {day: (1440, {day}) for day in ("2024-07-04", "2024-07-05", "2024-07-06")}


@pytest.mark.parametrize("asset_class", ["indices", "options"])
def test_grouped_daily_of_a_market_without_one_exits_2_naming_the_field(
    tmp_path: Path, sandbox: SandboxServer, bucket: str, asset_class: str
) -> None:
    outcome = run_ingest(tmp_path, _grouped_feed(bucket, asset_class), sandbox, today="2024-07-09")
    assert outcome.exit_code == 2
    assert "spec.assetClass" in outcome.output
    assert "stocks, crypto and forex" in outcome.output
    assert sum(sandbox.state.requests.values()) == 0
    assert _bronze(s3_objects(bucket)) == {}


@pytest.mark.parametrize(
    ("dataset", "tickers", "expected_dir"),
    [
        pytest.param("dividends", ["KO", "JPM"], "dividends/event", id="dividends"),
        pytest.param("splits", ["NVDA"], "splits/event", id="splits"),
        pytest.param("tickers", None, "tickers/snapshot", id="tickers"),
        pytest.param("marketHolidays", None, "marketHolidays/snapshot", id="holidays"),
    ],
)
def test_reference_datasets(tmp_path: Path, sandbox: SandboxServer, bucket: str, dataset: str,
                            tickers: list[str] | None, expected_dir: str) -> None:  # fmt: skip
    doc = feed_doc(f"ref-{dataset.lower()}", f"s3://{bucket}/market", dataset=dataset, tickers=tickers, bars=None,
                   backfill={"from": "2021-01-01"})  # fmt: skip
    doc["spec"] = {k: v for k, v in doc["spec"].items() if v is not None}
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-09")
    assert outcome.exit_code == 0, outcome.output
    assert outcome.summary["rows"] > 0
    assert all(
        k.startswith(f"market/bronze/market/ref-{dataset.lower()}/{expected_dir}/date=")
        for k in _bronze(s3_objects(bucket))
    )


def test_invalid_feed_exits_2_naming_the_field(tmp_path: Path, sandbox: SandboxServer) -> None:
    doc = feed_doc("bad", "file:///tmp/never", bars={"multiplier": 0, "timespan": "day"})
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-09")
    assert outcome.exit_code == 2
    assert "spec.bars.multiplier" in outcome.summary["message"]


def test_polygon_key_variable_works_and_keys_travel_only_in_the_header(
    tmp_path: Path, sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lake = tmp_path_factory.mktemp("lake")
    doc = feed_doc("legacy-key", f"file://{lake}", backfill={"from": "2024-07-01"})
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-09", key_variable="POLYGON_API_KEY")
    assert outcome.exit_code == 0, outcome.output
    assert dict(sandbox.state.credentials_in) == {"header": outcome.summary["requests"]}
    assert "sandbox" not in outcome.output  # the key is never logged
    assert "sandbox" not in (lake / "_state" / "market" / "legacy-key.json").read_text()


def test_no_api_key_is_a_config_error(tmp_path: Path, sandbox: SandboxServer) -> None:
    outcome = run_ingest(
        tmp_path, feed_doc("nokey", "file:///tmp/never"), sandbox, today="2024-07-09", api_key=""
    )
    assert outcome.exit_code == 2
    assert "MASSIVE_API_KEY or POLYGON_API_KEY" in outcome.summary["message"]


def test_large_parts_upload_in_several_parts(bucket: str) -> None:
    """Objects above the multipart threshold go up in parts (S3 gives them a '-<parts>' ETag)."""
    data = bytes(range(256)) * (MULTIPART_THRESHOLD * 2 // 256 + 1)
    sink = S3Sink(f"s3://{bucket}/market")
    sink.write("bronze/big.parquet", data)
    head = boto3.client("s3").head_object(Bucket=bucket, Key="market/bronze/big.parquet")
    assert head["ETag"].strip('"').endswith("-3")
    assert sink.read("bronze/big.parquet") == data
    assert sink.read("bronze/absent.parquet") is None


@pytest.mark.parametrize(
    "api_key",
    [
        pytest.param("sandbox-first-half\nsecond-half-of-it", id="line-feed"),
        pytest.param("sandbox-first-half\r\nX-Injected: second-half", id="carriage-return-line-feed"),
        pytest.param("sandbox-first-half\rsecond-half-of-it", id="carriage-return"),
    ],
)
def test_an_api_key_a_header_cannot_carry_is_refused_naming_the_variable(
    tmp_path: Path, sandbox: SandboxServer, api_key: str
) -> None:
    """The HTTP library would raise an error quoting the header, escaped; the redaction of the raw value
    misses that, and the pod's log tail became status.lastRun.message."""
    outcome = run_ingest(tmp_path, feed_doc("bad-key", "file:///tmp/never"), sandbox, today="2024-07-09",
                         api_key=api_key)  # fmt: skip
    assert outcome.exit_code == 2, outcome.output
    assert "MASSIVE_API_KEY" in outcome.summary["message"]
    shown = outcome.output + json.dumps(outcome.summary)
    for part in ("sandbox-first-half", "second-half", "X-Injected"):
        assert part not in shown
    assert sum(sandbox.state.credentials_in.values()) == 0  # nothing was sent


def test_a_trailing_line_break_of_a_key_from_a_file_is_dropped(
    tmp_path: Path, sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lake = tmp_path_factory.mktemp("lake")
    doc = feed_doc("file-key", f"file://{lake}", backfill={"from": "2024-07-01"})
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-09", api_key="sandbox\n")
    assert outcome.exit_code == 0, outcome.output


def test_a_request_that_cannot_be_sent_is_reported_without_its_headers(sandbox: SandboxServer) -> None:
    """Behind the CLI's check: whatever header http.client refuses, its quoted value stays out of the error."""
    api = MarketData("sandbox-first-half\nsecond-half", sandbox.url, None)
    with pytest.raises(RequestNotSentError) as caught:
        list(api.call(api.client.get_market_holidays))
    shown = "".join(traceback.format_exception(caught.value))
    assert "sandbox-first-half" not in shown
    assert "second-half" not in shown


def test_bounds_given_as_instants_return_the_bars_within_them(sandbox: SandboxServer) -> None:
    """Intraday chunks ask for exact instants (epoch milliseconds), as the API reads them: 14:30-14:34 UTC
    is the session's first five minutes, nothing of the rest of the day."""
    api = MarketData("sandbox", sandbox.url, None)
    start = datetime.datetime(2024, 7, 1, 14, 30, tzinfo=datetime.UTC)
    end = start + datetime.timedelta(minutes=4, seconds=59)
    pages = list(fetch_bars(api, "AAPL", 1, "minute", start, end, adjusted=True))
    times = [ts for page in pages for ts in page["ts"].to_pylist()]
    assert times == [start + datetime.timedelta(minutes=m) for m in range(5)]


def test_a_preliminary_newest_day_is_restated_by_the_next_runs_lookback(
    tmp_path: Path, sandbox: SandboxServer, bucket: str
) -> None:
    """With the sandbox's vendor quirks on, some of Monday's bars fetched on Tuesday are preliminary; the
    Wednesday run fetches Monday again (its lookback) and rewrites the day with the final bars."""
    fetched_on = {"day": datetime.date(2024, 7, 9)}
    sandbox.state.quirks = True
    sandbox.state.today = lambda: fetched_on["day"]
    tickers = sorted(STOCKS)
    doc = feed_doc("late", f"s3://{bucket}/market", tickers=tickers, backfill={"from": "2024-07-08"})
    key = "market/bronze/market/late/aggregates/1day/date=2024-07-08/late.parquet"

    assert run_ingest(tmp_path, doc, sandbox, today="2024-07-09").summary["watermark"] == "2024-07-08"
    first = pq.read_table(io.BytesIO(s3_objects(bucket)[key])).to_pylist()
    fetched_on["day"] = datetime.date(2024, 7, 10)
    second = run_ingest(tmp_path, doc, sandbox, today="2024-07-10")
    assert second.exit_code == 0, second.output
    final = pq.read_table(io.BytesIO(s3_objects(bucket)[key])).to_pylist()

    restated = [a["ticker"] for a, b in zip(first, final, strict=True) if a != b]
    assert 0 < len(restated) < len(tickers)
    for row in final:
        bar = daily_bar(row["ticker"], datetime.date(2024, 7, 8))
        assert bar is not None
        assert row["close"] == round(bar.close, 4)
