"""The trades and quotes datasets: a backfill of every tick, a ticker's day per object, paged from the real
massive client against the sandbox into Parquet row groups; the rows are those a stream writes for the same
ticks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from anthill_ingest.datasets.ticks import PAGE
from anthill_ingest.stream import events
from anthill_sandbox.server import SandboxServer, SandboxState
from tests.integration.ingest.conftest import feed_doc, run_ingest

pytestmark = pytest.mark.integration
SECONDS_PER_DAY = 24 * 3600


@pytest.fixture(scope="module")
def slow_ticks() -> Iterator[SandboxServer]:
    """A sandbox ticking once a second per ticker: 86,400 ticks a day, two pages of the API's most."""
    server = SandboxServer(0, SandboxState(tick_rate=1)).start()
    yield server
    server.stop()


@pytest.mark.parametrize("dataset", ["trades", "quotes"])
def test_a_backfill_of_ticks_lands_a_ticker_day_per_object_page_by_page(
    tmp_path: Path, slow_ticks: SandboxServer, dataset: str
) -> None:
    lake = tmp_path / "lake"
    doc = feed_doc(
        "ticks", f"file://{lake}", dataset=dataset, tickers=["AAPL"], backfill={"from": "2024-07-08"}
    )
    doc["spec"].pop("bars")
    outcome = run_ingest(tmp_path, doc, slow_ticks, today="2024-07-10")
    assert outcome.exit_code == 0, outcome.output
    assert outcome.summary["watermark"] == "2024-07-09"
    for day in ("2024-07-08", "2024-07-09"):
        path = lake / f"bronze/market/ticks/{dataset}/tick/date={day}/ticks-AAPL.parquet"
        parquet = pq.ParquetFile(path)
        assert parquet.schema_arrow.remove_metadata().equals(events.SCHEMAS[dataset])
        assert parquet.metadata.num_rows == SECONDS_PER_DAY  # New York's whole day, one tick a second
        assert parquet.metadata.num_row_groups == math.ceil(SECONDS_PER_DAY / PAGE)  # a row group per page
        table = parquet.read()
        sequences = table.column("sequence_number").to_pylist()
        assert len(set(sequences)) == len(sequences)
        assert sequences == sorted(sequences)
    assert outcome.summary["rows"] == 2 * SECONDS_PER_DAY
    again = run_ingest(tmp_path, doc, slow_ticks, today="2024-07-11")
    assert again.exit_code == 0, again.output
    # The lookback (two market days before the watermark: July 5th and 8th) and the days after it: the
    # days fetched before came back as the same bytes and were not rewritten; July 5th and 10th were new.
    assert again.summary["unchanged"] == 2
    assert again.summary["files"] == 2
