"""What a MarketFeed's children say about it: the latest run and its summary. Pure."""

from __future__ import annotations

import datetime
import json
from typing import Any

from anthill.marketfeed.desired import CONTAINER

SUMMARY_FIELDS = ("rows", "files", "watermark")


def _true_condition(job: dict[str, Any], type_: str) -> dict[str, Any] | None:
    """The Job's ``type_`` condition when its status is True."""
    for cond in job.get("status", {}).get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return dict(cond)
    return None


def job_result(job: dict[str, Any]) -> str:
    """Succeeded, Failed or Running, from the Job's terminal conditions."""
    if _true_condition(job, "Complete"):
        return "Succeeded"
    if _true_condition(job, "Failed"):
        return "Failed"
    return "Running"


def termination_summary(pods: list[dict[str, Any]]) -> dict[str, Any]:
    """The run summary the ingest container wrote as its termination message (newest pod first).

    A message that is not a JSON object (a crash: the log tail, under FallbackToLogsOnError) is kept as text.
    """
    ordered = sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "", reverse=True)
    for pod in ordered:
        for status in pod.get("status", {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated")
            if status.get("name") != CONTAINER or not terminated:
                continue
            message = (terminated.get("message") or "").strip()
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
            return {"message": message[-1024:]} if message else {}
    return {}


def failure_reason(job: dict[str, Any]) -> str:
    """Why the Job failed, as its Failed condition says (``BackoffLimitExceeded``, ``DeadlineExceeded``)."""
    return str((_true_condition(job, "Failed") or {}).get("reason") or "Failed")


def build_last_run(job: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """status.lastRun for ``job``."""
    status = job.get("status", {})
    result = job_result(job)
    summary = termination_summary(pods)
    run: dict[str, Any] = {"job": job["metadata"]["name"], "result": result}
    for key in ("rows", "files"):
        if isinstance(summary.get(key), int):
            run[key] = summary[key]
    if status.get("startTime"):
        run["startedAt"] = status["startTime"]
    failed = _true_condition(job, "Failed") or {}
    finished = status.get("completionTime") or failed.get("lastTransitionTime")
    if finished and result != "Running":
        run["finishedAt"] = finished
    failure = f"{failed.get('reason', 'Failed')}: {failed.get('message', '')}".strip(": ") if failed else ""
    message = summary.get("message") or failure
    if message:
        run["message"] = str(message)[:1024]
    return run


def latest_job(jobs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The most recently created Job (names carry the schedule time, creation order is the tie-break)."""
    if not jobs:
        return None
    return max(jobs, key=lambda j: (j["metadata"].get("creationTimestamp") or "", j["metadata"]["name"]))


def watermark(jobs: list[dict[str, Any]], pods_by_job: dict[str, list[dict[str, Any]]]) -> str | None:
    """The watermark reported by the newest successful run, if any run reported one."""
    succeeded = [j for j in jobs if job_result(j) == "Succeeded"]
    for job in sorted(succeeded, key=lambda j: j["metadata"].get("creationTimestamp") or "", reverse=True):
        mark = termination_summary(pods_by_job.get(job["metadata"]["name"], [])).get("watermark")
        if isinstance(mark, str) and mark:
            return mark
    return None


def rfc3339(value: Any) -> str | None:
    """A timestamp as the API server writes them (``2026-11-28T03:00:00Z``)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
