"""The RunFailed log line (its fields as kopf's JSON formatter writes them), reported once per run; run metrics."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kopf._core.actions.loggers import ObjectJsonFormatter  # what kopf.configure(log_format=JSON) installs
from prometheus_client import REGISTRY

from anthill.marketfeed.desired import Feed
from anthill.marketfeed.reconcile import failed_job
from anthill.marketfeed.reconcile import failed_run as failed_feed_run
from anthill.pipeline.desired import Pipeline
from anthill.pipeline.reconcile import failed_key
from anthill.pipeline.reconcile import failed_run as failed_pipeline_run
from anthill.runs import (
    EVENT_FIELD,
    FEED_KIND,
    HEARTBEAT,
    LOGGER,
    OBJECT_FIELD,
    PIPELINE_KIND,
    RUN_FAILED,
    RUN_FAILED_SEVERITY,
    SEVERITY_FIELD,
    FailedRun,
    RunReporter,
    heartbeat,
    record_feed_landing,
    timestamp,
)
from anthill_api.marketfeed import MarketFeedSpec
from anthill_api.pipeline import MedallionPipelineSpec
from anthill_devkit.controlplane import wait_for
from tests.helpers import REPO

FEED = Feed(
    "spy",
    "market",
    MarketFeedSpec.model_validate(
        yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())["spec"]
    ),
    uid="u-feed",
)
PIPELINE = Pipeline(
    "local",
    "market",
    MedallionPipelineSpec.model_validate(
        yaml.safe_load((REPO / "examples" / "medallion-kubernetes.yaml").read_text())["spec"]
    ),
    uid="u-pipe",
)


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the runs logger writes, formatted as the operator formats it in JSON mode."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ObjectJsonFormatter())
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)  # as kopf.configure leaves it
    try:
        yield stream
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _failures(kind: str, namespace: str, name: str) -> float:
    labels = {"kind": kind, "object_namespace": namespace, "object_name": name}
    return REGISTRY.get_sample_value("anthill_run_failures_total", labels) or 0.0


def test_the_line_carries_the_fields_the_metric_filters_match(lines: io.StringIO) -> None:
    before = _failures(FEED_KIND, "market", "spy")
    failed = FailedRun(
        FEED_KIND, "market", "spy", "u-1", "spy-29000000", "BackoffLimitExceeded", "401 from API"
    )
    assert RunReporter().report(failed, previous=None)
    (record,) = _records(lines)
    assert record[EVENT_FIELD] == RUN_FAILED
    assert record[SEVERITY_FIELD] == RUN_FAILED_SEVERITY
    assert record[OBJECT_FIELD] == {"apiVersion": "anthill.io/v1alpha1", "kind": FEED_KIND, "name": "spy",
                                    "uid": "u-1", "namespace": "market"}  # fmt: skip
    assert (record["run"], record["reason"]) == ("spy-29000000", "BackoffLimitExceeded")
    assert (
        record["message"]
        == "MarketFeed market/spy run spy-29000000 failed (BackoffLimitExceeded): 401 from API"
    )
    assert _failures(FEED_KIND, "market", "spy") == before + 1


@pytest.mark.parametrize(
    ("reported_before", "previous", "logged"),
    [
        pytest.param(None, None, True, id="a new failed run is reported"),
        pytest.param(None, "run-1", False, id="the status already showed it: reported before a restart"),
        pytest.param("run-1", None, False, id="reported by this process, the body predates that status"),
        pytest.param("run-0", "run-0", True, id="a later failed run is reported too"),
    ],
)
def test_a_failed_run_is_reported_once(
    lines: io.StringIO, reported_before: str | None, previous: str | None, logged: bool
) -> None:
    reporter = RunReporter()
    if reported_before is not None:
        reporter.report(FailedRun(PIPELINE_KIND, "m", "p", "u-2", reported_before, "FAILED"), None)
        lines.truncate(0)
        lines.seek(0)
    run = FailedRun(PIPELINE_KIND, "m", "p", "u-2", "run-1", "FAILED")
    assert reporter.report(run, previous) is logged
    assert reporter.report(run, None) is False, "never twice"
    assert len(_records(lines)) == int(logged)


def test_no_failed_run_reports_nothing(lines: io.StringIO) -> None:
    assert RunReporter().report(None, "run-1") is False
    assert _records(lines) == []


@pytest.mark.parametrize(
    ("run", "jobs", "expected"),
    [
        pytest.param(None, [], None, id="no run yet"),
        pytest.param({"job": "spy-1", "result": "Succeeded"}, [], None, id="succeeded"),
        pytest.param({"job": "spy-1", "result": "Running"}, [], None, id="still running"),
        pytest.param(
            {"job": "spy-1", "result": "Failed", "message": "Traceback"},
            [
                {
                    "metadata": {"name": "spy-1"},
                    "status": {
                        "conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]
                    },
                }
            ],
            ("spy-1", "DeadlineExceeded", "Traceback"),
            id="failed: the Job's reason",
        ),
        pytest.param(
            {"job": "spy-1", "result": "Failed"}, [], ("spy-1", "Failed", ""), id="failed, Job pruned"
        ),
    ],
)
def test_a_feed_run_failed_when_its_last_run_says_so(
    run: dict[str, Any] | None, jobs: list[dict[str, Any]], expected: tuple[str, str, str] | None
) -> None:
    failed = failed_feed_run(FEED, run, jobs)
    assert (None if failed is None else (failed.run, failed.reason, failed.message)) == expected
    if failed is not None:
        assert (failed.kind, failed.namespace, failed.name, failed.uid) == (
            FEED_KIND,
            "market",
            "spy",
            "u-feed",
        )
        assert failed.identity == failed_job({"lastRun": run}), "the status's key names the same run"


@pytest.mark.parametrize(
    ("last_run", "run", "expected"),
    [
        pytest.param(
            {"runId": 7, "state": "TERMINATED", "resultState": "SUCCESS"}, "7", None, id="succeeded"
        ),
        pytest.param({"runId": 7, "state": "RUNNING"}, "7", None, id="running"),
        pytest.param(
            {"runId": 7, "state": "TERMINATED", "resultState": "CANCELED"},
            "7",
            None,
            id="cancelled by a person: not a failure",
        ),
        pytest.param(
            {"runId": 7, "resultState": "FAILED", "message": "task silver: boom"},
            "7",
            ("7", "FAILED", "7"),
            id="databricks: keyed on the run id",
        ),
        pytest.param({"runId": 8, "resultState": "TIMEDOUT"}, "8", ("8", "TIMEDOUT", "8"), id="timed out"),
        pytest.param(
            {"state": "TERMINATED", "resultState": "FAILED", "startTime": "2026-11-28T03:00:00Z"},
            "local-29000000",
            ("local-29000000", "FAILED", "2026-11-28T03:00:00Z"),
            id="kubernetes: named by its Job, keyed on its start",
        ),
    ],
)
def test_a_pipeline_run_failed_when_its_result_is_a_failure(
    last_run: dict[str, Any], run: str, expected: tuple[str, str, str] | None
) -> None:
    failed = failed_pipeline_run(PIPELINE, last_run, run)
    assert (None if failed is None else (failed.run, failed.reason, failed.identity)) == expected
    if failed is not None:
        assert failed.identity == failed_key({"lastRun": last_run}), "the status's key names the same run"


def test_feed_gauges_follow_its_status_and_go_with_it() -> None:
    record_feed_landing("market", "gauged", "2026-11-28T03:02:00Z", "2026-11-27")
    labels = {"object_namespace": "market", "object_name": "gauged"}
    assert REGISTRY.get_sample_value("anthill_feed_last_success_timestamp_seconds", labels) == 1795834920.0
    assert REGISTRY.get_sample_value("anthill_feed_watermark_timestamp_seconds", labels) == 1795737600.0
    RunReporter().forget(FEED_KIND, "market", "gauged", "u")
    assert REGISTRY.get_sample_value("anthill_feed_watermark_timestamp_seconds", labels) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-11-27", 1795737600.0, id="a date is its midnight UTC"),
        pytest.param("2026-11-27T10:00:00Z", 1795773600.0, id="an RFC 3339 time"),
        pytest.param(None, None, id="nothing"),
        pytest.param("soon", None, id="nonsense is no sample"),
    ],
)
def test_timestamp(value: str | None, expected: float | None) -> None:
    assert timestamp(value) == expected


def test_a_suspended_feed_has_no_landing_gauges() -> None:
    """It lands nothing on purpose: a stale-feed alert must not fire for it."""
    labels = {"object_namespace": "market", "object_name": "paused"}
    record_feed_landing("market", "paused", "2026-11-28T03:02:00Z", "2026-11-27")
    record_feed_landing("market", "paused", "2026-11-28T03:02:00Z", "2026-11-27", suspended=True)
    assert REGISTRY.get_sample_value("anthill_feed_last_success_timestamp_seconds", labels) is None
    assert REGISTRY.get_sample_value("anthill_feed_watermark_timestamp_seconds", labels) is None


def test_a_tracked_object_has_a_failed_run_series_at_zero_before_its_first_failure() -> None:
    """`increase()` cannot see a series whose first sample is already 1: the first failure must count."""
    RunReporter().track(PIPELINE_KIND, "market", "fresh")
    labels = {"kind": PIPELINE_KIND, "object_namespace": "market", "object_name": "fresh"}
    assert REGISTRY.get_sample_value("anthill_run_failures_total", labels) == 0.0


def test_the_heartbeat_line_comes_at_once_and_stops_with_the_operator(lines: io.StringIO) -> None:
    """The log alarm counts these: the first comes at start, then one per interval until the operator stops."""
    stop = threading.Event()
    beating = threading.Thread(target=heartbeat, args=(3600, stop))
    beating.start()
    try:
        wait_for(lambda: bool(_records(lines)), 10, "the first heartbeat")
    finally:
        stop.set()
        beating.join(timeout=10)
    assert not beating.is_alive()
    (record,) = _records(lines)
    assert (record[EVENT_FIELD], record[SEVERITY_FIELD]) == (HEARTBEAT, "info")
