"""trigger.feedsLanded: when a run is due, what it waits for, and the run's idempotency token."""

from __future__ import annotations

import pytest

from anthill.pipeline.trigger import TOKEN_LENGTH, due, run_token, waiting_for

A, B = "us-equities-daily", "us-indices-daily"


@pytest.mark.parametrize(
    ("watermarks", "last", "expected"),
    [
        pytest.param({A: "2026-11-27", B: "2026-11-27"}, None, {A: "2026-11-27", B: "2026-11-27"},
                     id="first run once every feed has landed"),
        pytest.param({A: "2026-11-27", B: None}, None, None, id="one feed has landed nothing yet"),
        pytest.param({A: "2026-11-30", B: "2026-11-27"}, {A: "2026-11-27", B: "2026-11-27"}, None,
                     id="only one feed landed since the last run"),
        pytest.param({A: "2026-11-30", B: "2026-11-30"}, {A: "2026-11-27", B: "2026-11-27"},
                     {A: "2026-11-30", B: "2026-11-30"}, id="both landed since the last run"),
        pytest.param({A: "2026-11-27", B: "2026-11-27"}, {A: "2026-11-27", B: "2026-11-27"}, None,
                     id="the set the last run was for: not again"),
        pytest.param({A: "2026-11-20", B: "2026-11-30"}, {A: "2026-11-27", B: "2026-11-27"},
                     {A: "2026-11-20", B: "2026-11-30"}, id="a watermark moved back by a re-ingest is new data"),
        pytest.param({}, None, None, id="no feeds, nothing to wait for and nothing to run"),
    ],
)  # fmt: skip
def test_due(
    watermarks: dict[str, str | None], last: dict[str, str] | None, expected: dict[str, str] | None
) -> None:
    assert due(watermarks, last) == expected


def test_waiting_for_names_the_feeds_in_spec_order() -> None:
    assert waiting_for({B: None, A: "2026-11-27"}, {A: "2026-11-27"}) == [B, A]
    assert waiting_for({A: "2026-11-30", B: "2026-11-30"}, {A: "2026-11-27", B: "2026-11-27"}) == []


def test_the_token_is_one_per_pipeline_and_set_of_watermarks() -> None:
    one = run_token("uid-1", {A: "2026-11-27", B: "2026-11-27"})
    assert len(one) == TOKEN_LENGTH
    assert run_token("uid-1", {B: "2026-11-27", A: "2026-11-27"}) == one, "order does not matter"
    assert run_token("uid-1", {A: "2026-11-30", B: "2026-11-27"}) != one
    assert run_token("uid-2", {A: "2026-11-27", B: "2026-11-27"}) != one, "a re-created pipeline runs anew"
