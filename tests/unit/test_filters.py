"""The kopf ``when=`` filters, and which objects a drift pass checks."""

from __future__ import annotations

from typing import cast

import kopf
import pytest

from anthill.controller.filters import HANDLED_ANNOTATION, deleted, handled, landed, not_paused, paused
from anthill.owned import PAUSED_ANNOTATION


def meta(**annotations: str) -> kopf.Meta:
    body = cast("kopf.RawBody", {"metadata": {"name": "f", "namespace": "n", "annotations": annotations}})
    return kopf.Body(body).meta


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        pytest.param({HANDLED_ANNOTATION: "{}"}, True, id="handled-by-kopf"),
        # kopf's create handler has not finished: a drift check would only race it.
        pytest.param({}, False, id="not-yet-handled"),
        pytest.param({"kopf.anthill.io/reconcile": "{}"}, False, id="create-handler-retrying"),
    ],
)
def test_drift_checks_only_objects_kopf_has_handled(annotations: dict[str, str], expected: bool) -> None:
    assert handled(meta(**annotations)) is expected


def test_paused_and_not_paused_are_complements() -> None:
    for given in ({}, {PAUSED_ANNOTATION: "true"}, {PAUSED_ANNOTATION: "True"}, {PAUSED_ANNOTATION: "no"}):
        assert paused(meta(**given)) is not not_paused(meta(**given))


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param("DELETED", True, id="deleted"),
        pytest.param("MODIFIED", False, id="modified"),
        pytest.param(None, False, id="initial-listing"),
    ],
)
def test_deleted_passes_only_deletions(event: str | None, expected: bool) -> None:
    assert deleted(type=event) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param({"watermark": "2024-01-02"}, True, id="landed"),
        # A new feed's status, and every status write before its first run: no pipeline can be due.
        pytest.param({"conditions": []}, False, id="no-watermark"),
        pytest.param({}, False, id="no-status"),
    ],
)
def test_landed_passes_only_feeds_with_a_watermark(status: dict[str, str], expected: bool) -> None:
    assert landed(status=cast("kopf.Status", status)) is expected
