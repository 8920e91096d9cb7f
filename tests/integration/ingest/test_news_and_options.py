"""The news and optionsContracts datasets end to end: the real massive client against the sandbox, into
bronze with their schemas and layout, a second run rewriting nothing."""

from __future__ import annotations

import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from anthill_ingest.datasets import dataset_for
from anthill_sandbox import reference
from anthill_sandbox.server import SandboxServer
from tests.integration.ingest.conftest import feed_doc, run_ingest

pytestmark = pytest.mark.integration


def _table(lake: Path, dataset: str, span: str) -> list[dict[str, object]]:
    files = sorted((lake / "bronze/market/feed" / dataset / span).rglob("*.parquet"))
    assert files, f"no {dataset} bronze"
    rows = []
    for path in files:
        table = pq.read_table(path)
        assert table.schema.remove_metadata().equals(dataset_for(dataset).schema), path
        rows += table.to_pylist()
    return rows


def test_news_lands_per_ticker_and_day_with_the_vendors_sentiment(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    lake = tmp_path / "lake"
    doc = feed_doc("feed", f"file://{lake}", dataset="news", backfill={"from": "2024-07-01"})
    doc["spec"].pop("bars")
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-10")
    assert outcome.exit_code == 0, outcome.output
    rows = _table(lake, "news", "event")
    expected = [(a["id"], t) for t in ("AAPL", "MSFT")
                for a in reference.news(t, datetime.date(2024, 7, 1), datetime.date(2024, 7, 9))]  # fmt: skip
    assert sorted((str(r["id"]), str(r["ticker"])) for r in rows) == sorted(expected)
    assert all(r["sentiment"] in ("positive", "negative", "neutral") for r in rows)
    # Each article is filed under the UTC date it was published.
    for path in (lake / "bronze/market/feed/news/event").rglob("*.parquet"):
        day = path.parent.name.removeprefix("date=")
        assert {str(r["published_utc"].date()) for r in pq.read_table(path).to_pylist()} == {day}
    again = run_ingest(tmp_path, doc, sandbox, today="2024-07-10")
    assert again.summary["message"] == "up to date"


def test_options_contracts_snapshot_each_underlyings_chain(tmp_path: Path, sandbox: SandboxServer) -> None:
    lake = tmp_path / "lake"
    doc = feed_doc("feed", f"file://{lake}", dataset="optionsContracts", tickers=["AAPL", "KO"])
    doc["spec"].pop("bars")
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-07-10")
    assert outcome.exit_code == 0, outcome.output
    rows = _table(lake, "optionsContracts", "snapshot")
    expected = [
        str(c["ticker"])
        for u in ("AAPL", "KO")
        for c in reference.options_contracts(u, datetime.date(2024, 7, 10))
    ]
    assert sorted(str(r["ticker"]) for r in rows) == sorted(expected)
    assert {r["contract_type"] for r in rows} == {"call", "put"}
    assert (lake / "bronze/market/feed/optionsContracts/snapshot/date=2024-07-10/feed.parquet").exists()
    second = run_ingest(tmp_path, doc, sandbox, today="2024-07-10")
    assert second.exit_code == 0, second.output
    assert second.summary.get("unchanged") == 1
    assert second.summary["files"] == 0


def test_financials_land_each_filing_once_under_its_filing_date(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    lake = tmp_path / "lake"
    doc = feed_doc("feed", f"file://{lake}", dataset="financials", tickers=["AAPL", "KO"],
                   backfill={"from": "2024-01-02"})  # fmt: skip
    doc["spec"].pop("bars")
    outcome = run_ingest(tmp_path, doc, sandbox, today="2024-12-02")
    assert outcome.exit_code == 0, outcome.output
    rows = _table(lake, "financials", "event")
    expected = [(t, str(s["period_end"]), str(s["timeframe"])) for t in ("AAPL", "KO")
                for s in reference.income_statements(t, datetime.date(2024, 1, 2), datetime.date(2024, 11, 29))]  # fmt: skip
    assert sorted((str(r["ticker"]), str(r["period_end"]), str(r["timeframe"])) for r in rows) == sorted(
        expected
    )
    assert {r["timeframe"] for r in rows} == {"quarterly", "annual"}
    for path in (lake / "bronze/market/feed/financials/event").rglob("*.parquet"):
        day = path.parent.name.removeprefix("date=")
        assert {str(r["filing_date"]) for r in pq.read_table(path).to_pylist()} == {day}
