"""Which Databricks job is a pipeline's own, and how long another writer's "create pending" mark holds (pure)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from databricks.sdk.service.jobs import JobSettings

from anthill.pipeline.desired import PIPELINE_TAG
from anthill.pipeline.external import CREATE_LEASE, lease_left, not_owned_message, owns, recorded_job
from anthill.pipeline.jobs import ObservedJob

KEY = "market/equities"
NOW = datetime.datetime(2026, 11, 28, 9, 0, 0, tzinfo=datetime.UTC)


def _job(tags: dict[str, str] | None, job_id: int = 7) -> ObservedJob:
    return ObservedJob(job_id, JobSettings(name=KEY, tags=tags))


@pytest.mark.parametrize(
    ("job", "recorded", "expected"),
    [
        pytest.param(_job({PIPELINE_TAG: KEY}), None, True, id="tagged for this pipeline"),
        pytest.param(_job({PIPELINE_TAG: "other/equities"}), None, False, id="another namespace's job"),
        pytest.param(_job({PIPELINE_TAG: "market/other"}), None, False, id="another pipeline's job"),
        pytest.param(_job(None), None, False, id="made outside Anthill"),
        pytest.param(_job({"managed-by": "someone"}), 7, True, id="own job whose tag was removed in the UI"),
        pytest.param(_job({PIPELINE_TAG: "market/other"}), 7, False, id="own job retagged for another"),
        pytest.param(_job(None), 8, False, id="status records another job"),
        pytest.param(None, 7, False, id="gone"),
    ],
)
def test_owns(job: ObservedJob | None, recorded: int | None, expected: bool) -> None:
    assert owns(KEY, job, recorded) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param({"atProvider": {"jobId": 7, "owned": True}}, 7, id="own job"),
        pytest.param({"atProvider": {"jobId": 7, "owned": False}}, None, id="observed only"),
        pytest.param({"atProvider": {"jobId": 7}}, None, id="written before ownership was recorded"),
        pytest.param({}, None, id="no status (a new or copied manifest)"),
    ],
)
def test_recorded_job(status: dict[str, Any], expected: int | None) -> None:
    assert recorded_job(status) == expected


def test_not_owned_message_names_the_tag() -> None:
    assert "carries the tag anthill.io/pipeline='other/x', not 'market/equities'" in not_owned_message(
        KEY, _job({PIPELINE_TAG: "other/x"})
    )
    assert "carries no anthill.io/pipeline tag" in not_owned_message(KEY, _job(None))


@pytest.mark.parametrize(
    ("mark", "expected"),
    [
        pytest.param("2026-11-28T09:00:00Z", CREATE_LEASE.total_seconds(), id="just written"),
        pytest.param("2026-11-28T08:59:50Z", CREATE_LEASE.total_seconds() - 10, id="ten seconds old"),
        pytest.param("2026-11-28T08:00:00Z", 0.0, id="expired"),
        pytest.param("yesterday", 0.0, id="unreadable"),
        pytest.param("2026-11-28T09:00:00", 0.0, id="no time zone"),
    ],
)
def test_lease_left(mark: str, expected: float) -> None:
    assert lease_left(mark, NOW) == expected
