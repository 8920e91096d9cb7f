"""The kopf ``when=`` filters: which objects a drift timer runs for."""

from __future__ import annotations

from typing import cast

import kopf
import pytest

from anthill.controller.filters import HANDLED_ANNOTATION, drifts, not_paused, paused
from anthill.owned import PAUSED_ANNOTATION


def meta(**annotations: str) -> kopf.Meta:
    body = cast("kopf.RawBody", {"metadata": {"name": "f", "namespace": "n", "annotations": annotations}})
    return kopf.Body(body).meta


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        pytest.param({HANDLED_ANNOTATION: "{}"}, True, id="handled-by-kopf"),
        # kopf's create handler has not finished: the timer would only race it for the workers.
        pytest.param({}, False, id="not-yet-handled"),
        pytest.param({HANDLED_ANNOTATION: "{}", PAUSED_ANNOTATION: "true"}, False, id="paused"),
        pytest.param({HANDLED_ANNOTATION: "{}", PAUSED_ANNOTATION: "false"}, True, id="paused-false"),
    ],
)
def test_drift_timer_runs_only_for_handled_unpaused_objects(
    annotations: dict[str, str], expected: bool
) -> None:
    assert drifts(meta(**annotations)) is expected


def test_paused_and_not_paused_are_complements() -> None:
    for given in ({}, {PAUSED_ANNOTATION: "true"}, {PAUSED_ANNOTATION: "True"}, {PAUSED_ANNOTATION: "no"}):
        assert paused(meta(**given)) is not not_paused(meta(**given))
