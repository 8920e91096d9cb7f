"""Bronze files of the stream: named from their content, split at midnight UTC, followed by a checkpoint."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anthill_ingest.sink import FileSink
from anthill_ingest.stream.bronze import (
    Checkpoint,
    Position,
    date_files,
    file_name,
    write_batch,
    write_rejected,
)
from anthill_ingest.stream.events import PARSERS, to_table

MIDNIGHT = int(datetime.datetime(2025, 3, 4, tzinfo=datetime.UTC).timestamp() * 1000)


def trade(ticker: str, ms: int, seq: int) -> tuple[object, ...]:
    return PARSERS["trades"]({"ev": "T", "sym": ticker, "x": 1, "p": 1.0, "s": 1, "t": ms, "q": seq})


def test_the_same_batch_gets_the_same_name_and_bytes_whatever_its_order(tmp_path: Path) -> None:
    rows = [trade("AAPL", MIDNIGHT + 5, 2), trade("MSFT", MIDNIGHT + 1, 1), trade("AAPL", MIDNIGHT + 9, 3)]
    first = write_batch(FileSink(f"file://{tmp_path}/a"), "market", "live", {"trades": rows})
    second = write_batch(FileSink(f"file://{tmp_path}/b"), "market", "live", {"trades": rows[::-1]})
    assert (
        first.files
        == second.files
        == [
            "bronze/market/live/trades/stream/date=2025-03-04/20250304T000000001Z-"
            + first.files[0].rsplit("-", 1)[1]
        ]
    )
    assert (tmp_path / "a" / first.files[0]).read_bytes() == (tmp_path / "b" / second.files[0]).read_bytes()


def test_another_batch_starting_at_the_same_millisecond_gets_another_name() -> None:
    one, _ = to_table("trades", [trade("AAPL", MIDNIGHT, 1)])
    two, _ = to_table("trades", [trade("AAPL", MIDNIGHT, 1), trade("AAPL", MIDNIGHT + 1, 2)])
    names = {key for table in (one, two) for key, _, _ in date_files("p", "trades", table)}
    assert len(names) == 2


def test_a_batch_spanning_midnight_utc_writes_one_file_per_date(tmp_path: Path) -> None:
    rows = [trade("AAPL", MIDNIGHT - 1, 1), trade("AAPL", MIDNIGHT, 2), trade("AAPL", MIDNIGHT + 1, 3)]
    flushed = write_batch(FileSink(f"file://{tmp_path}"), "market", "live", {"trades": rows})
    dates = [key.split("/")[-2] for key in flushed.files]
    assert dates == ["date=2025-03-03", "date=2025-03-04"]
    assert [pq.read_table(tmp_path / k).num_rows for k in flushed.files] == [1, 2]
    assert flushed.rows == 3


@pytest.mark.parametrize(
    ("ms", "name"),
    [
        pytest.param(MIDNIGHT, "20250304T000000000Z", id="midnight"),
        pytest.param(MIDNIGHT + 86_399_999, "20250304T235959999Z", id="last millisecond of the day"),
    ],
)
def test_file_names_start_with_the_first_event_time(ms: int, name: str) -> None:
    assert file_name(ms, b"x").startswith(name + "-")


def test_the_checkpoint_keeps_each_tickers_last_event_across_flushes() -> None:
    checkpoint = Checkpoint()
    first, _ = to_table("trades", [trade("AAPL", MIDNIGHT, 1), trade("MSFT", MIDNIGHT + 5, 7)])
    checkpoint.advance("trades", first)
    later, _ = to_table("trades", [trade("AAPL", MIDNIGHT + 9, 4)])
    checkpoint.advance("trades", later)
    assert checkpoint.positions["trades"] == {
        "AAPL": Position(MIDNIGHT + 9, 4),
        "MSFT": Position(MIDNIGHT + 5, 7),
    }
    assert checkpoint.earliest("trades") == MIDNIGHT + 5
    assert Checkpoint.from_json(checkpoint.to_json().encode()) == checkpoint


def test_aggregate_positions_have_no_sequence_number() -> None:
    bar = PARSERS["secondAggregates"]({"ev": "A", "sym": "AAPL", "s": MIDNIGHT, "e": MIDNIGHT + 1000, "o": 1,
                                       "h": 1, "l": 1, "c": 1, "v": 1})  # fmt: skip
    table, _ = to_table("secondAggregates", [bar])
    checkpoint = Checkpoint()
    checkpoint.advance("secondAggregates", table)
    assert checkpoint.positions == {"secondAggregates": {"AAPL": Position(MIDNIGHT, None)}}


def test_a_held_checkpoint_keeps_the_filled_channels_where_they_were() -> None:
    now = Checkpoint({"trades": {"AAPL": Position(9, 9)}, "minuteAggregates": {"AAPL": Position(8)}})
    held = Checkpoint({"trades": {"AAPL": Position(1, 1)}})
    assert now.merged(held, ("trades", "quotes")) == Checkpoint(
        {"trades": {"AAPL": Position(1, 1)}, "minuteAggregates": {"AAPL": Position(8)}}
    )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"version": 2, "channels": {}}', id="a newer version"),
        pytest.param(b"[]", id="not an object"),
    ],
)
def test_a_checkpoint_of_another_shape_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError, match="version 1"):
        Checkpoint.from_json(raw)


def test_rows_carry_no_wall_clock_value() -> None:
    table, _ = to_table("trades", [trade("AAPL", MIDNIGHT, 1)])
    assert table.to_pylist()[0]["ts"] == datetime.datetime(2025, 3, 4, tzinfo=datetime.UTC)
    assert all(not pa.types.is_timestamp(f.type) or f.name == "ts" for f in table.schema)


def test_events_set_aside_are_kept_with_their_reason(tmp_path: Path) -> None:
    sink = FileSink(f"file://{tmp_path}")
    good, bad = trade("AAPL", MIDNIGHT, 1), (*trade("AAPL", MIDNIGHT, 2)[:6], float("nan"), 1, None)
    flushed = write_batch(sink, "market", "live", {"trades": [good, bad]})
    assert flushed.rows == 1
    key = write_rejected(sink, "market", "live", flushed.rejected)
    assert key.startswith("_quarantine/market/live/stream/")
    (kept,) = json.loads((tmp_path / key).read_text())
    assert kept == {"channel": "trades", "values": ["AAPL", MIDNIGHT, 2, None, 1, None, "nan", 1, None],
                    "reason": "price is nan"}  # fmt: skip
