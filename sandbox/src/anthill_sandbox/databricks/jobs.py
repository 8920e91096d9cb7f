"""The Jobs API endpoints: jobs create/reset/update/delete/get/list and run-now, runs get/list/get-output/cancel,
with paging. Runs are executed by ``runner`` unless the workspace's ``run_mode`` says otherwise."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from databricks.sdk.service import jobs

from anthill_sandbox.databricks import runs
from anthill_sandbox.databricks.errors import invalid, job_not_found
from anthill_sandbox.databricks.policies import check_job_clusters
from anthill_sandbox.databricks.runner import Runner
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


@dataclass
class CancelRunRequest:
    run_id: int


@dataclass
class CancelAllRunsRequest:
    job_id: int | None = None
    all_queued_runs: bool | None = None


# What a run's task carries over from the job's task settings.
TASK_FIELDS = ("task_key", "depends_on", "run_if", "job_cluster_key", "new_cluster", "existing_cluster_id",
               "libraries", "python_wheel_task", "notebook_task", "spark_python_task", "timeout_seconds",
               "description")  # fmt: skip


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
        self.runner = Runner(state)

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
            mode = self.state.run_mode
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
                "state": _run_state("TERMINATED", "SUCCESS") if mode == "succeed" else _run_state("RUNNING"),
            }
            if mode == "succeed":
                run["end_time"] = start
            if mode == "execute":
                run |= self._execution(job, run_id)
            self.state.runs[run_id] = run
            if token is not None:
                self.state.idempotency[token] = run_id
        if mode == "execute":
            self.runner.start(run_id)
        return {"run_id": run_id, "number_in_job": run_id}

    def _execution(self, job: dict[str, Any], run_id: int) -> dict[str, Any]:
        """What an executed run starts with: PENDING (its cluster is being prepared), its tasks with run ids of
        their own, the job's clusters; times and durations are filled in as it goes."""
        tasks = []
        for settings in job["settings"].get("tasks") or []:
            task_run_id = self.state.new_run_id()
            self.state.task_runs[task_run_id] = run_id
            task = {k: copy.deepcopy(settings[k]) for k in TASK_FIELDS if k in settings}
            task |= {"run_id": task_run_id, "attempt_number": 0, "state": _run_state("PENDING"),
                     "start_time": 0, "end_time": 0, "setup_duration": 0, "execution_duration": 0,
                     "cleanup_duration": 0, "run_page_url": f"{self.base_url()}/jobs/{job['job_id']}/runs/{task_run_id}"}  # fmt: skip
            tasks.append(task)
        clusters = copy.deepcopy(job["settings"].get("job_clusters") or [])
        return {"state": _run_state("PENDING"), "tasks": tasks, "job_clusters": clusters, "attempt_number": 0,
                "setup_duration": 0, "execution_duration": 0, "cleanup_duration": 0}  # fmt: skip

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
        if not query.get("expand_tasks"):
            for run in found:
                run.pop("tasks", None)
                run.pop("job_clusters", None)
        paged = _page(found, query, RUNS_PAGE_DEFAULT, RUNS_PAGE_MAX)
        page = paged.pop("page")
        return {"runs": page, **paged} if page else paged

    def get_output(self, query: dict[str, Any], principal: Principal) -> dict[str, Any]:
        """A task run's output: its run's metadata, the tail of what it printed, its error and traceback."""
        task_run_id = query["run_id"]
        with self.state.lock:
            run_id = self.state.task_runs.get(task_run_id)
            if run_id is None:
                run = self.state.runs.get(task_run_id)
                if run is None:
                    raise invalid(f"Run {task_run_id} does not exist.")
                if len(run.get("tasks", [])) > 1:
                    raise invalid("Retrieving the output of runs with multiple tasks is not supported. "
                                  "Please retrieve the output of each individual task run instead.")  # fmt: skip
                return {"metadata": copy.deepcopy(run)}
            metadata = copy.deepcopy(self.state.runs[run_id])
        [task] = [t for t in metadata["tasks"] if t["run_id"] == task_run_id]
        metadata |= {"run_id": task_run_id, "state": task["state"], "tasks": [task],
                     "start_time": task["start_time"], "end_time": task["end_time"]}  # fmt: skip
        log, outcome = self.runner.output(task_run_id)
        out: dict[str, Any] = {"metadata": metadata}
        if log is not None and log.exists():
            out["logs"], out["logs_truncated"] = runs.tail(log.read_bytes())
        if outcome is not None and outcome.error is not None:
            out["error"] = outcome.error
            if outcome.error_trace is not None:
                out["error_trace"] = outcome.error_trace
        return out

    def cancel_run(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        """Cancel a run (or the run of a task run id); it ends CANCELED asynchronously, as on Databricks."""
        check(body, CancelRunRequest, "")
        with self.state.lock:
            run_id = self.state.task_runs.get(body["run_id"], body["run_id"])
            if run_id not in self.state.runs:
                raise invalid(f"Run {body['run_id']} does not exist.")
        if not self.runner.cancel(run_id):
            with self.state.lock:  # a run "hold" keeps RUNNING has no process: it ends at once
                if self.state.runs[run_id]["state"]["life_cycle_state"] in ACTIVE_STATES:
                    self.finish_run(run_id, "CANCELED")
        return {}

    def cancel_all_runs(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        """Cancel every active run of a job (or of every job with ``all_queued_runs``)."""
        check(body, CancelAllRunsRequest, "")
        if body.get("job_id") is None and not body.get("all_queued_runs"):
            raise invalid("Either job_id or all_queued_runs must be set")
        with self.state.lock:
            if body.get("job_id") is not None:
                self._job(body["job_id"])
            active = [run_id for run_id, run in self.state.runs.items()
                      if body.get("job_id") in (None, run["job_id"])
                      and run["state"]["life_cycle_state"] in ACTIVE_STATES]  # fmt: skip
        for run_id in active:
            self.cancel_run({"run_id": run_id}, principal)
        return {}

    def finish_run(self, run_id: int, result: str = "SUCCESS") -> None:
        """End a run that ``run_mode`` "hold" keeps RUNNING."""
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
