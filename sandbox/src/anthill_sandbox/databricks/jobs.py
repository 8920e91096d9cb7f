"""The Jobs API endpoints: jobs create/reset/update/delete/get/list and run-now, runs get/list, with paging."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from databricks.sdk.service import jobs

from anthill_sandbox.databricks.errors import invalid, job_not_found
from anthill_sandbox.databricks.policies import check_job_clusters
from anthill_sandbox.databricks.settings import check_settings, merge_update, with_defaults
from anthill_sandbox.databricks.state import Principal, WorkspaceState
from anthill_sandbox.databricks.validation import check

JOBS_PAGE_MAX = 100
JOBS_PAGE_DEFAULT = 20
RUNS_PAGE_MAX = 25
RUNS_PAGE_DEFAULT = 20
ACTIVE_STATES = frozenset({"QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"})


# Request bodies of the SDK's JobsAPI methods (its service/jobs.py builds them by hand from these parameters).
@dataclass
class ResetRequest:
    job_id: int
    new_settings: jobs.JobSettings


@dataclass
class UpdateRequest:
    job_id: int
    new_settings: jobs.JobSettings | None = None
    fields_to_remove: list[str] | None = None


@dataclass
class DeleteRequest:
    job_id: int


@dataclass
class RunNowRequest:
    job_id: int
    idempotency_token: str | None = None
    job_parameters: dict[str, str] | None = None
    python_params: list[str] | None = None
    python_named_params: dict[str, str] | None = None
    only: list[str] | None = None
    queue: jobs.QueueSettings | None = None
    performance_target: jobs.PerformanceTarget | None = None


# jobs/create takes the settings themselves plus a write-only access list.
_CREATE_EXTRA = {"access_control_list": list[jobs.JobAccessControlRequest]}


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise invalid(f"Invalid page_token: {token!r}") from None


def _limit(query: dict[str, Any], default: int, most: int) -> int:
    limit = int(query.get("limit", default))
    if not 0 < limit <= most:
        raise invalid(f"limit must be between 1 and {most}")
    return limit


def _page(items: list[dict[str, Any]], query: dict[str, Any], default: int, most: int) -> dict[str, Any]:
    limit = _limit(query, default, most)
    offset = _offset(query.get("page_token"))
    page = items[offset : offset + limit]
    out: dict[str, Any] = {"has_more": offset + limit < len(items)}
    if out["has_more"]:
        out["next_page_token"] = _page_token(offset + limit)
    if offset > 0:
        out["prev_page_token"] = _page_token(max(0, offset - limit))
    return {"page": page, **out}


class Jobs:
    """The Jobs API over a :class:`WorkspaceState`; every method is one endpoint and holds the lock."""

    def __init__(self, state: WorkspaceState, base_url: Callable[[], str]) -> None:
        self.state = state
        self.base_url = base_url

    def create(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        settings = {k: v for k, v in body.items() if k not in _CREATE_EXTRA}
        if "access_control_list" in body:
            check(body["access_control_list"], _CREATE_EXTRA["access_control_list"], "access_control_list")
        check(settings, jobs.JobSettings, "")
        check_settings(settings, "settings")
        with self.state.lock:
            check_job_clusters(settings, self.state, "settings")
            job_id = self.state.new_job_id()
            self.state.jobs[job_id] = {
                "job_id": job_id,
                "creator_user_name": principal.name,
                "run_as_user_name": principal.name,
                "created_time": self.state.now_ms(),
                "settings": with_defaults(settings, principal),
            }
        return {"job_id": job_id}

    def reset(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        check(body, ResetRequest, "")
        check_settings(body["new_settings"], "new_settings")
        with self.state.lock:
            check_job_clusters(body["new_settings"], self.state, "new_settings")
            job = self._job(body["job_id"])
            job["settings"] = with_defaults(body["new_settings"], principal)
        return {}

    def update(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        check(body, UpdateRequest, "")
        with self.state.lock:
            job = self._job(body["job_id"])
            merged = merge_update(
                job["settings"], body.get("new_settings") or {}, body.get("fields_to_remove") or []
            )
            check_settings(merged, "new_settings")
            check_job_clusters(merged, self.state, "new_settings")
            job["settings"] = merged
        return {}

    def delete(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        check(body, DeleteRequest, "")
        with self.state.lock:
            self._job(body["job_id"])
            del self.state.jobs[body["job_id"]]
        return {}

    def get(self, query: dict[str, Any], principal: Principal) -> dict[str, Any]:
        with self.state.lock:
            return copy.deepcopy(self._job(query["job_id"]))

    def list(self, query: dict[str, Any], principal: Principal) -> dict[str, Any]:
        name = query.get("name")
        with self.state.lock:
            found = [
                copy.deepcopy(job)
                for _, job in sorted(self.state.jobs.items())
                if name is None or job["settings"]["name"].lower() == name.lower()
            ]
        if not query.get("expand_tasks"):
            for job in found:
                job["settings"].pop("tasks", None)
                job["settings"].pop("job_clusters", None)
        paged = _page(found, query, JOBS_PAGE_DEFAULT, JOBS_PAGE_MAX)
        page = paged.pop("page")
        return {"jobs": page, **paged} if page else paged

    def run_now(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        check(body, RunNowRequest, "")
        token = body.get("idempotency_token")
        with self.state.lock:
            job = self._job(body["job_id"])
            if token is not None and token in self.state.idempotency:
                run = self.state.runs[self.state.idempotency[token]]
                return {"run_id": run["run_id"], "number_in_job": run["number_in_job"]}
            run_id = self.state.new_run_id()
            start = self.state.now_ms()
            done = self.state.finish_runs
            run = {
                "job_id": job["job_id"],
                "run_id": run_id,
                "number_in_job": run_id,
                "creator_user_name": principal.name,
                "run_name": job["settings"]["name"],
                "run_type": "JOB_RUN",
                "trigger": "ONE_TIME",
                "start_time": start,
                "run_page_url": f"{self.base_url()}/jobs/{job['job_id']}/runs/{run_id}",
                "state": _run_state("TERMINATED", "SUCCESS") if done else _run_state("RUNNING"),
            }
            if done:
                run["end_time"] = start
            self.state.runs[run_id] = run
            if token is not None:
                self.state.idempotency[token] = run_id
        return {"run_id": run_id, "number_in_job": run_id}

    def get_run(self, query: dict[str, Any], principal: Principal) -> dict[str, Any]:
        with self.state.lock:
            run = self.state.runs.get(query["run_id"])
            if run is None:
                raise invalid(f"Run {query['run_id']} does not exist.")
            return copy.deepcopy(run)

    def list_runs(self, query: dict[str, Any], principal: Principal) -> dict[str, Any]:
        if query.get("active_only") and query.get("completed_only"):
            raise invalid("active_only and completed_only cannot both be true")
        with self.state.lock:
            found = [
                copy.deepcopy(run)
                for _, run in sorted(self.state.runs.items(), reverse=True)  # newest first, as Databricks
                if query.get("job_id") in (None, run["job_id"]) and _run_matches(run, query)
            ]
        paged = _page(found, query, RUNS_PAGE_DEFAULT, RUNS_PAGE_MAX)
        page = paged.pop("page")
        return {"runs": page, **paged} if page else paged

    def finish_run(self, run_id: int, result: str = "SUCCESS") -> None:
        """End a run that :attr:`WorkspaceState.finish_runs` kept RUNNING."""
        with self.state.lock:
            run = self.state.runs[run_id]
            run["state"] = _run_state("TERMINATED", result)
            run["end_time"] = self.state.now_ms()

    def _job(self, job_id: int) -> dict[str, Any]:
        job = self.state.jobs.get(job_id)
        if job is None:
            raise job_not_found(job_id)
        return job


def _run_state(life_cycle: str, result: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "life_cycle_state": life_cycle,
        "state_message": "",
        "user_cancelled_or_timedout": False,
    }
    if result is not None:
        state["result_state"] = result
    return state


def _run_matches(run: dict[str, Any], query: dict[str, Any]) -> bool:
    active = run["state"]["life_cycle_state"] in ACTIVE_STATES
    if query.get("active_only"):
        return active
    if query.get("completed_only"):
        return not active
    return True
