"""Comparing desired and observed job settings: server defaults are adopted, keyed lists ignore order."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from databricks.sdk.service.jobs import JobSettings

from anthill.pipeline.compare import late_initialize, needs_update, settings_to_apply
from tests.unit.pipeline.test_desired import _settings

# What the Jobs API adds on create (the sandbox server fills the same), per job and per task.
SERVER_JOB_DEFAULTS = {"email_notifications": {}, "webhook_notifications": {}, "timeout_seconds": 0,
                       "format": "MULTI_TASK", "run_as": {"user_name": "ops@example.com"}}  # fmt: skip
SERVER_TASK_DEFAULTS = {"email_notifications": {}, "timeout_seconds": 0, "run_if": "ALL_SUCCESS"}


def _as_stored(desired: dict[str, Any]) -> dict[str, Any]:
    stored = {**SERVER_JOB_DEFAULTS, **copy.deepcopy(desired)}
    stored["tasks"] = [{**SERVER_TASK_DEFAULTS, **task} for task in stored["tasks"]]
    return stored


def _edit(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    observed = _as_stored(_settings())
    change(observed)
    return observed


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change at a dotted path; a number picks a list entry."""

    def apply(settings: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = settings
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value

    return apply


def _reverse(name: str) -> Callable[[dict[str, Any]], None]:
    def apply(settings: dict[str, Any]) -> None:
        settings[name].reverse()

    return apply


def _drop_task(settings: dict[str, Any]) -> None:
    settings["tasks"].pop()


def _add_task(settings: dict[str, Any]) -> None:
    settings["tasks"].append({"task_key": "extra", "notebook_task": {"notebook_path": "/x"}})


def _add_tag(settings: dict[str, Any]) -> None:
    settings["tags"]["team"] = "quant"


@pytest.mark.parametrize(
    ("change", "drift"),
    [
        pytest.param(lambda s: None, False, id="server-defaults-do-not-flap"),
        pytest.param(_reverse("tasks"), False, id="task-order-is-irrelevant"),
        pytest.param(_set("timeout_seconds", 3600), False, id="a-field-we-never-set-is-adopted"),
        pytest.param(_add_tag, False, id="an-extra-tag-is-adopted"),
        pytest.param(_set("job_clusters.0.new_cluster.node_type_id", "m5.large"), True, id="node-type-changed"),
        pytest.param(_set("schedule.pause_status", "PAUSED"), True, id="paused-in-the-ui"),
        pytest.param(_set("max_concurrent_runs", 5), True, id="a-field-we-set-changed"),
        pytest.param(_set("tasks.1.python_wheel_task.parameters", ["--lake", "s3://elsewhere"]), True,
                     id="wheel-parameters-changed"),
        pytest.param(_drop_task, True, id="a-task-removed"),
        pytest.param(_add_task, True, id="a-task-added"),
        pytest.param(_set("tags", {"managed-by": "anthill"}), True, id="our-tag-removed"),
    ],
)  # fmt: skip
def test_needs_update(change: Callable[[dict[str, Any]], None], drift: bool) -> None:
    desired = JobSettings.from_dict(_settings())
    assert needs_update(desired, JobSettings.from_dict(_edit(change))) is drift


def test_late_initialize_keeps_desired_values_and_adopts_the_rest() -> None:
    desired = {"max_concurrent_runs": 1, "tasks": [{"task_key": "a", "run_if": "ALL_DONE"}]}
    observed = {"max_concurrent_runs": 4, "timeout_seconds": 0,
                "tasks": [{"task_key": "b", "run_if": "ALL_SUCCESS"},
                          {"task_key": "a", "run_if": "ALL_SUCCESS", "timeout_seconds": 0}]}  # fmt: skip
    assert late_initialize(desired, observed) == {
        "max_concurrent_runs": 1,
        "timeout_seconds": 0,
        "tasks": [{"task_key": "a", "run_if": "ALL_DONE", "timeout_seconds": 0}],
    }


def test_settings_to_apply_are_up_to_date_after_a_reset() -> None:
    """What reset sends, stored again with the server's defaults, shows no drift: reconciling converges."""
    desired = JobSettings.from_dict(_settings())
    observed = JobSettings.from_dict(_edit(_set("job_clusters.0.new_cluster.node_type_id", "m5.large")))
    applied = settings_to_apply(desired, observed)
    assert (
        applied.as_dict()["job_clusters"][0]["new_cluster"]["node_type_id"] == "m6i.xlarge"
    )  # the spec's, not the UI's
    assert applied.timeout_seconds == 0
    assert not needs_update(desired, JobSettings.from_dict(_as_stored(applied.as_dict())))
