"""The flush policy: every flush.intervalSeconds or flush.maxRows, whichever comes first."""

from __future__ import annotations

import pytest

from anthill_ingest.stream.buffer import Buffer

MS = 1_796_200_633_806


def trades(count: int) -> list[dict[str, object]]:
    return [{"ev": "T", "sym": "AAPL", "x": 1, "p": 1.0, "s": 1, "t": MS + i, "q": i} for i in range(count)]


@pytest.mark.parametrize(
    ("held", "elapsed", "due"),
    [
        pytest.param(0, 60.0, False, id="nothing held: no flush however long it has been"),
        pytest.param(10, 4.9, False, id="few events, interval not reached"),
        pytest.param(10, 5.0, True, id="the oldest event has waited the interval"),
        pytest.param(1000, 0.0, True, id="maxRows reached before the interval"),
        pytest.param(999, 0.0, False, id="one short of maxRows"),
    ],
)
def test_a_flush_is_due_at_the_interval_or_at_max_rows(held: int, elapsed: float, due: bool) -> None:
    buffer = Buffer(frozenset({"trades"}), max_rows=1000, interval=5)
    buffer.add_frame(trades(held), now=100.0)
    assert buffer.due(100.0 + elapsed) is due


def test_the_interval_counts_from_the_oldest_event_held_not_the_latest() -> None:
    buffer = Buffer(frozenset({"trades"}), max_rows=1000, interval=5)
    buffer.add_frame([], now=0.0)  # a frame of statuses only starts no clock
    buffer.add_frame(trades(1), now=1.0)
    buffer.add_frame(trades(1), now=5.5)
    assert not buffer.due(5.9)
    assert buffer.due(6.0)


def test_take_empties_the_buffer_and_restarts_the_clock() -> None:
    buffer = Buffer(frozenset({"trades", "quotes"}), max_rows=1000, interval=5)
    buffer.add_frame(trades(3), now=0.0)
    batch = buffer.take()
    assert list(batch) == ["trades"]  # channels without events are left out
    assert len(batch["trades"]) == 3
    assert (buffer.size, buffer.received, buffer.due(100.0)) == (0, 3, False)


def test_rows_of_a_channel_dropped_by_a_spec_edit_are_still_flushed() -> None:
    buffer = Buffer(frozenset({"trades"}), max_rows=1000, interval=5)
    buffer.add_frame(trades(2), now=0.0)
    buffer.set_channels(frozenset({"quotes"}))
    buffer.add_frame(trades(2), now=0.1)  # trades arriving after the edit are no longer kept
    assert len(buffer.take()["trades"]) == 2
