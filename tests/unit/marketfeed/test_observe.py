"""Run status from Jobs and their pods' termination messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from anthill.marketfeed.observe import (
    build_last_run,
    job_result,
    latest_job,
    rfc3339,
    termination_summary,
    watermark,
)
from anthill.marketfeed.reconcile import build_run_status


def _job(name: str, created: str, cond: str | None = None, **status: Any) -> dict[str, Any]:
    conditions = [{"type": cond, "status": "True", "reason": "BackoffLimitExceeded", "message": "too many",
                   "lastTransitionTime": "2026-11-27T22:35:00Z"}] if cond else []  # fmt: skip
    return {"metadata": {"name": name, "creationTimestamp": created},
            "status": {"conditions": conditions, **status}}  # fmt: skip


def _pod(job: str, message: str, created: str = "2026-11-27T22:30:00Z") -> dict[str, Any]:
    return {"metadata": {"creationTimestamp": created, "labels": {"job-name": job}},
            "status": {"containerStatuses": [{"name": "ingest", "state": {"terminated": {"message": message}}}]}}  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param("Complete", "Succeeded", id="complete"),
        pytest.param("Failed", "Failed", id="failed"),
        pytest.param(None, "Running", id="no terminal condition yet"),
    ],
)
def test_job_result(condition: str | None, expected: str) -> None:
    assert job_result(_job("j", "2026-11-27T22:30:00Z", condition)) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param('{"rows": 5, "files": 1}', {"rows": 5, "files": 1}, id="json summary"),
        pytest.param("Traceback ...\nValueError: boom", {"message": "Traceback ...\nValueError: boom"},
                     id="a crash keeps the log tail as text"),
        pytest.param("[1, 2]", {"message": "[1, 2]"}, id="json that is not an object is text"),
        pytest.param("", {}, id="no message"),
    ],
)  # fmt: skip
def test_termination_summary(message: str, expected: dict[str, Any]) -> None:
    assert termination_summary([_pod("j", message)]) == expected


def test_newest_pod_wins() -> None:
    pods = [
        _pod("j", '{"rows": 1}', "2026-11-27T22:30:00Z"),
        _pod("j", '{"rows": 2}', "2026-11-27T22:31:00Z"),
    ]
    assert termination_summary(pods) == {"rows": 2}


def test_last_run_of_a_failed_job_carries_the_reason() -> None:
    job = _job("feed-29400000", "2026-11-27T22:30:00Z", "Failed", startTime="2026-11-27T22:30:01Z")
    run = build_last_run(job, [])
    assert run == {"job": "feed-29400000", "result": "Failed", "startedAt": "2026-11-27T22:30:01Z",
                   "finishedAt": "2026-11-27T22:35:00Z", "message": "BackoffLimitExceeded: too many"}  # fmt: skip


def test_latest_job_and_watermark() -> None:
    old = _job("a", "2026-11-26T22:30:00Z", "Complete")
    new = _job("b", "2026-11-27T22:30:00Z", "Failed")
    assert latest_job([old, new]) == new
    assert latest_job([]) is None
    pods = {"a": [_pod("a", json.dumps({"watermark": "2026-11-26"}))], "b": [_pod("b", "crash")]}
    assert watermark([old, new], pods) == "2026-11-26"


def test_run_status_keeps_what_pruned_jobs_reported() -> None:
    previous = {"watermark": "2026-11-20", "lastRun": {"job": "x", "result": "Succeeded"},
                "lastScheduleTime": "2026-11-20T22:30:00Z"}  # fmt: skip
    assert build_run_status(None, [], [], previous) == previous


def test_run_status_from_cronjob_and_jobs() -> None:
    cronjob = {"status": {"lastScheduleTime": "2026-11-27T22:30:00+00:00",
                          "lastSuccessfulTime": "2026-11-27T22:31:40Z"}}  # fmt: skip
    job = _job("b", "2026-11-27T22:30:00Z", "Complete", startTime="2026-11-27T22:30:01Z",
               completionTime="2026-11-27T22:31:40Z")  # fmt: skip
    status = build_run_status(
        cronjob, [job], [_pod("b", '{"rows": 7, "files": 2, "watermark": "2026-11-27"}')], {}
    )
    assert status == {
        "lastScheduleTime": "2026-11-27T22:30:00Z",
        "lastSuccessfulTime": "2026-11-27T22:31:40Z",
        "lastRun": {"job": "b", "result": "Succeeded", "rows": 7, "files": 2,
                    "startedAt": "2026-11-27T22:30:01Z", "finishedAt": "2026-11-27T22:31:40Z"},
        "watermark": "2026-11-27",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-11-27T22:30:00+00:00", "2026-11-27T22:30:00Z", id="offset"),
        pytest.param("2026-11-27T22:30:00Z", "2026-11-27T22:30:00Z", id="zulu"),
        pytest.param("2026-11-27T17:30:00-05:00", "2026-11-27T22:30:00Z", id="converted to UTC"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_rfc3339(value: str | None, expected: str | None) -> None:
    assert rfc3339(value) == expected
