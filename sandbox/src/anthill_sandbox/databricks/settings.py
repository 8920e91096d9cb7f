"""Job settings as Databricks keeps them: the checks beyond types, the server-side defaults, jobs/update's merge."""

from __future__ import annotations

import copy
import zoneinfo
from typing import Any

from databricks.sdk.service import jobs

from anthill_sandbox.databricks.errors import invalid
from anthill_sandbox.databricks.state import Principal
from anthill_sandbox.databricks.validation import field_types

MAX_CONCURRENT_RUNS_MAX = 1000
QUARTZ_FIELDS = (6, 7)

# What Databricks adds to settings a client leaves out; a client that diffs naively sees these as drift.
JOB_DEFAULTS: dict[str, Any] = {
    "email_notifications": {},
    "webhook_notifications": {},
    "timeout_seconds": 0,
    "max_concurrent_runs": 1,
    "format": "MULTI_TASK",
    "name": "Untitled",
}
TASK_DEFAULTS: dict[str, Any] = {"email_notifications": {}, "timeout_seconds": 0, "run_if": "ALL_SUCCESS"}
# Lists whose entries are identified by a key: jobs/update merges them by it and removes "tasks/<key>".
KEYED_LISTS = {"tasks": "task_key", "job_clusters": "job_cluster_key"}


def check_settings(settings: dict[str, Any], path: str) -> None:
    """The checks Databricks makes beyond types: unique task keys, known dependencies, a valid schedule."""
    tasks = settings.get("tasks") or []
    keys = [task["task_key"] for task in tasks]
    if len(set(keys)) != len(keys):
        raise invalid(f"Task keys must be unique within {path}.tasks")
    clusters = {cluster["job_cluster_key"] for cluster in settings.get("job_clusters") or []}
    for task in tasks:
        for dependency in task.get("depends_on") or []:
            if dependency["task_key"] not in keys:
                raise invalid(
                    f"Task {task['task_key']} depends on {dependency['task_key']}, which is not a task"
                )
        if "job_cluster_key" in task and task["job_cluster_key"] not in clusters:
            raise invalid(
                f"Task {task['task_key']} refers to job cluster {task['job_cluster_key']}, not defined"
            )
    schedule = settings.get("schedule")
    if schedule is not None:
        if len(schedule["quartz_cron_expression"].split()) not in QUARTZ_FIELDS:
            raise invalid(f"Invalid Quartz Cron Expression: {schedule['quartz_cron_expression']!r}")
        try:
            zoneinfo.ZoneInfo(schedule["timezone_id"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise invalid(f"Invalid timezone_id: {schedule['timezone_id']!r}") from None
    runs = settings.get("max_concurrent_runs")
    if runs is not None and not 0 <= runs <= MAX_CONCURRENT_RUNS_MAX:
        raise invalid(f"max_concurrent_runs must be between 0 and {MAX_CONCURRENT_RUNS_MAX}")


def with_defaults(settings: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Settings as Databricks stores them: its defaults wherever the client left a field out."""
    out = {**JOB_DEFAULTS, "run_as": principal.run_as(), **copy.deepcopy(settings)}
    out["tasks"] = [{**TASK_DEFAULTS, **task} for task in out.get("tasks") or []]
    if not out["tasks"]:
        del out["tasks"]
    return out


def merge_update(settings: dict[str, Any], new: dict[str, Any], remove: list[str]) -> dict[str, Any]:
    """jobs/update: top-level fields replaced, keyed lists merged entry by entry, removals by path."""
    out = copy.deepcopy(settings)
    for name, value in new.items():
        key = KEYED_LISTS.get(name)
        if key is None:
            out[name] = copy.deepcopy(value)
            continue
        entries = {entry[key]: entry for entry in out.get(name) or []}
        for entry in value:
            entries[entry[key]] = {**TASK_DEFAULTS, **entry} if name == "tasks" else entry
        out[name] = list(entries.values())
    for path in remove:
        name, _, item = path.partition("/")
        if item and name in KEYED_LISTS:
            out[name] = [entry for entry in out.get(name) or [] if entry[KEYED_LISTS[name]] != item]
        elif name in field_types(jobs.JobSettings):
            out.pop(name, None)
        else:
            raise invalid(f"Invalid field in fields_to_remove: {path!r}")
    return out
