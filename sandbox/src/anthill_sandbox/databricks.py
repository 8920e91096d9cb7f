"""A local Databricks Jobs API (2.2) server for the endpoints the operator calls through ``databricks-sdk``.

Jobs create/reset/update/get/list/delete and run-now, runs get/list, the caller's identity (SCIM ``Me``, with
the workspace id in ``X-Databricks-Org-Id``), with Databricks' error bodies
(``{"error_code", "message"}``), bearer-token auth (personal access tokens, or OAuth machine-to-machine tokens
from ``/oidc/v1/token``), and request bodies checked against the SDK's own dataclasses, so a field the real
API would not know is a 400 here too. Server-side defaults are filled in on create and reset, as Databricks
does, so clients must late-initialise them. Faults can be injected (429 with Retry-After, 500, latency),
with a seeded RNG so a run is repeatable. Serves on loopback only; state lives in memory.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import enum
import functools
import json
import random
import re
import secrets
import threading
import time
import types
import typing
import zlib
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from databricks.sdk.service import jobs

from anthill_sandbox.loopback import JsonHandler, LoopbackServer

DEFAULT_TOKEN = "dapi-sandbox"  # noqa: S105 - a well-known sandbox credential, like the market-data key
DEFAULT_USER = "sandbox@anthill.local"
DEFAULT_CLIENT_ID = "anthill-operator"
DEFAULT_CLIENT_SECRET = "sandbox-secret"  # noqa: S105
TOKEN_LIFETIME = 3600
DEFAULT_WORKSPACE_ID = 1234567890123456
ME_PATH = "/api/2.0/preview/scim/v2/Me"
JOBS_PAGE_MAX = 100
JOBS_PAGE_DEFAULT = 20
RUNS_PAGE_MAX = 25
RUNS_PAGE_DEFAULT = 20
MAX_CONCURRENT_RUNS_MAX = 1000
QUARTZ_FIELDS = (6, 7)
ACTIVE_STATES = frozenset({"QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"})

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


@dataclass
class DatabricksFaults:
    """What the server does wrong, on purpose: fixed counts first, then seeded random fractions."""

    throttle_first: int = 0  # the first N API requests get 429
    throttle_rate: float = 0.0  # then this fraction of requests gets 429
    retry_after: int = 1  # seconds, sent as Retry-After with each 429
    server_error_first: int = 0  # the first N API requests (after any 429s) get 500
    server_error_rate: float = 0.0
    delay: float = 0.0  # seconds added to each API response
    seed: int = 0


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user (PAT) or a service principal (OAuth M2M)."""

    name: str
    service_principal: bool = False

    def run_as(self) -> dict[str, str]:
        return {"service_principal_name": self.name} if self.service_principal else {"user_name": self.name}


@dataclass
class WorkspaceState:
    """The workspace's jobs and runs plus the server's knobs; every access holds ``lock``."""

    faults: DatabricksFaults = field(default_factory=DatabricksFaults)
    tokens: dict[str, str] = field(default_factory=lambda: {DEFAULT_TOKEN: DEFAULT_USER})
    oauth_clients: dict[str, str] = field(default_factory=lambda: {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
    workspace_id: int = DEFAULT_WORKSPACE_ID
    finish_runs: bool = True  # run-now's runs end at once with SUCCESS; False keeps them RUNNING
    clock: Callable[[], float] = time.time
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, int] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _issued: dict[str, Principal] = field(default_factory=dict)
    _next_job_id: int = 1001
    _next_run_id: int = 5001
    _served: int = 0
    _rng: random.Random | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def fault(self) -> HTTPStatus | None:
        """The injected failure for the next API request, if any (deterministic for a given seed and order)."""
        faults = self.faults
        with self.lock:
            self._served += 1
            number = self._served
            if self._rng is None:
                self._rng = random.Random(faults.seed)  # noqa: S311 - fault schedules, not secrets
            roll = self._rng.random()
        if number <= faults.throttle_first:
            return HTTPStatus.TOO_MANY_REQUESTS
        if number <= faults.throttle_first + faults.server_error_first:
            return HTTPStatus.INTERNAL_SERVER_ERROR
        if roll < faults.throttle_rate:
            return HTTPStatus.TOO_MANY_REQUESTS
        if roll < faults.throttle_rate + faults.server_error_rate:
            return HTTPStatus.INTERNAL_SERVER_ERROR
        return None

    def issue_token(self, principal: Principal) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._issued[token] = principal
        return token

    def principal(self, token: str) -> Principal | None:
        with self.lock:
            if token in self.tokens:
                return Principal(self.tokens[token])
            return self._issued.get(token)

    def new_job_id(self) -> int:
        self._next_job_id += 1
        return self._next_job_id - 1

    def new_run_id(self) -> int:
        self._next_run_id += 1
        return self._next_run_id - 1


class ApiError(Exception):
    """An error answer: HTTP status, Databricks error code and message."""

    def __init__(self, status: HTTPStatus, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}


def invalid(message: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)


def job_not_found(job_id: int) -> ApiError:
    # The SDK turns exactly this 400 into ResourceDoesNotExist on jobs/get (its error overrides).
    return invalid(f"Job {job_id} does not exist.")


# ---- request validation against the SDK's dataclasses -------------------------------------------------------


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _required(cls: type) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


SCALARS: dict[Any, tuple[Callable[[Any], bool], str]] = {
    bool: (lambda v: isinstance(v, bool), "a boolean"),
    int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    float: (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    str: (lambda v: isinstance(v, str), "a string"),
}


def check(value: Any, hint: Any, path: str) -> None:
    """Raise 400 INVALID_PARAMETER_VALUE where ``value`` does not fit the SDK type ``hint``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if value is None:
            return
        hint, origin = options[0], typing.get_origin(options[0])
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        _check_object(value, hint, path)
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = [member.value for member in hint]
        if value not in allowed:
            raise invalid(f"Invalid value for {path}: {value!r}; expected one of {', '.join(allowed)}")
    elif origin is list:
        if not isinstance(value, list):
            raise invalid(f"Invalid value for {path}: expected an array")
        for index, item in enumerate(value):
            check(item, typing.get_args(hint)[0], f"{path}[{index}]")
    elif origin is dict:
        if not isinstance(value, dict):
            raise invalid(f"Invalid value for {path}: expected an object")
        for key, item in value.items():
            check(item, typing.get_args(hint)[1], f"{path}.{key}")
    elif hint in SCALARS and not SCALARS[hint][0](value):
        raise invalid(f"Invalid value for {path}: expected {SCALARS[hint][1]}")


def _check_object(value: Any, cls: type, path: str) -> None:
    if not isinstance(value, dict):
        raise invalid(f"Invalid value for {path}: expected an object")
    hints = _hints(cls)
    for key in value:
        if key not in hints:
            raise invalid(f"Unknown field {_join(path, key)}")
    for name in _required(cls):
        if name not in value:
            raise invalid(f"Missing required field: {_join(path, name)}")
    for key, item in value.items():
        check(item, hints[key], _join(path, key))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# Request bodies of the SDK's JobsAPI methods (jobs.py builds them by hand from these parameters).
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
        elif name in _hints(jobs.JobSettings):
            out.pop(name, None)
        else:
            raise invalid(f"Invalid field in fields_to_remove: {path!r}")
    return out


# ---- the endpoints ---------------------------------------------------------------------------------------------


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


def me(query: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """SCIM ``Me``: who the credentials act as (the workspace id travels in a response header)."""
    return {
        "id": str(zlib.crc32(principal.name.encode())),
        "userName": principal.name,
        "displayName": principal.name,
        "active": True,
    }


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


# Query parameters of the GET endpoints, typed as the SDK sends them.
GET_PARAMS: dict[str, dict[str, type]] = {
    "jobs/get": {"job_id": int, "include_trigger_state": bool, "page_token": str},
    "jobs/list": {"expand_tasks": bool, "limit": int, "name": str, "offset": int, "page_token": str},
    "jobs/runs/get": {"run_id": int, "include_history": bool, "include_resolved_values": bool, "page_token": str},
    "jobs/runs/list": {"active_only": bool, "completed_only": bool, "expand_tasks": bool, "job_id": int,
                       "limit": int, "offset": int, "page_token": str, "run_type": str,
                       "start_time_from": int, "start_time_to": int},
    ME_PATH: {"attributes": str, "excludedAttributes": str},
}  # fmt: skip
REQUIRED_PARAMS = {"jobs/get": "job_id", "jobs/runs/get": "run_id"}


def parse_query(endpoint: str, raw: str) -> dict[str, Any]:
    """The query string as typed values; unknown parameters are rejected like unknown body fields."""
    types_ = GET_PARAMS[endpoint]
    out: dict[str, Any] = {}
    for name, values in parse_qs(raw).items():
        kind = types_.get(name)
        if kind is None:
            raise invalid(f"Unknown parameter {name}")
        value = values[-1]
        if kind is bool:
            if value.lower() not in ("true", "false"):
                raise invalid(f"Invalid value for {name}: expected true or false")
            out[name] = value.lower() == "true"
        elif kind is int:
            if not re.fullmatch(r"-?\d+", value):
                raise invalid(f"Invalid value for {name}: expected an integer")
            out[name] = int(value)
        else:
            out[name] = value
    required = REQUIRED_PARAMS.get(endpoint)
    if required and required not in out:
        raise invalid(f"Missing required field: {required}")
    return out


class Handler(JsonHandler):
    server: DatabricksServer

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server names it
        self._handle("POST")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if url.path.startswith("/api/"):
                body = self._api(method, url.path, url.query, raw)
                org = {"X-Databricks-Org-Id": str(self.server.state.workspace_id)}
                self._send(HTTPStatus.OK, body, org if url.path == ME_PATH else None)
            elif (method, url.path) == ("GET", "/_sandbox/stats"):
                with self.server.state.lock:
                    requests = dict(self.server.state.requests)
                self._send(HTTPStatus.OK, {"requests": requests, "total": sum(requests.values())})
            elif (method, url.path) == ("GET", "/.well-known/databricks-config"):
                self._send(HTTPStatus.OK, {"oidc_endpoint": f"{self.server.url}/oidc"})
            elif (method, url.path) == ("GET", "/oidc/.well-known/oauth-authorization-server"):
                self._send(HTTPStatus.OK, {"authorization_endpoint": f"{self.server.url}/oidc/v1/authorize",
                                           "token_endpoint": f"{self.server.url}/oidc/v1/token"})  # fmt: skip
            elif (method, url.path) == ("POST", "/oidc/v1/token"):
                self._token(raw)
            else:
                raise ApiError(
                    HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {url.path}'"
                )
        except ApiError as exc:
            self._send(exc.status, {"error_code": exc.code, "message": str(exc)}, exc.headers)

    def _api(self, method: str, path: str, query: str, raw: bytes) -> dict[str, Any]:
        state = self.server.state
        match = re.fullmatch(r"/api/2\.2/(jobs/.+)", path)
        endpoint = match.group(1) if match else path
        with state.lock:
            state.requests[endpoint] += 1
        principal = self._authenticate()
        if state.faults.delay:
            time.sleep(state.faults.delay)  # an injected slow response: the delay is the point
        fault = state.fault()
        if fault == HTTPStatus.TOO_MANY_REQUESTS:
            raise ApiError(fault, "REQUEST_LIMIT_EXCEEDED", "Too many requests to the Jobs API; slow down.",
                           {"Retry-After": str(state.faults.retry_after)})  # fmt: skip
        if fault == HTTPStatus.INTERNAL_SERVER_ERROR:
            raise ApiError(fault, "INTERNAL_ERROR", "The Jobs service failed to handle the request.")
        route = self.server.routes.get((method, endpoint))
        if route is None:
            raise ApiError(HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        if method == "GET":
            return route(parse_query(endpoint, query), principal)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            raise ApiError(HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", "Request body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", "Request body must be a JSON object")
        return route(body, principal)

    def _authenticate(self) -> Principal:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise ApiError(HTTPStatus.UNAUTHORIZED, "UNAUTHENTICATED",
                           "Credential was not sent or was of an unsupported type for this API.")  # fmt: skip
        principal = self.server.state.principal(header.removeprefix("Bearer ").strip())
        if principal is None:
            raise ApiError(HTTPStatus.UNAUTHORIZED, "UNAUTHENTICATED", "Invalid access token.")
        return principal

    def _token(self, raw: bytes) -> None:
        """OAuth client credentials: the client id and secret as HTTP Basic auth or form fields."""
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
            client_id, _, client_secret = decoded.partition(":")
        known = self.server.state.oauth_clients.get(client_id)
        if form.get("grant_type") != "client_credentials":
            self._send(HTTPStatus.BAD_REQUEST, {"error": "unsupported_grant_type",
                                                "error_description": "Only client_credentials is supported"})  # fmt: skip
            return
        if known is None or not secrets.compare_digest(known, client_secret):
            self._send(HTTPStatus.UNAUTHORIZED, {"error": "invalid_client",
                                                 "error_description": "Client authentication failed"})  # fmt: skip
            return
        token = self.server.state.issue_token(Principal(client_id, service_principal=True))
        self._send(HTTPStatus.OK, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME,
                                   "scope": form.get("scope", "all-apis")})  # fmt: skip


class DatabricksServer(LoopbackServer):
    """The Jobs API on ``127.0.0.1:port`` (0 picks a free port); run it with :meth:`start` or ``serve_forever``."""

    thread_name = "sandbox-databricks"

    def __init__(self, port: int = 0, state: WorkspaceState | None = None) -> None:
        self.state = state or WorkspaceState()
        super().__init__(port, Handler)
        self.jobs = Jobs(self.state, lambda: self.url)
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any], Principal], dict[str, Any]]] = {
            ("POST", "jobs/create"): self.jobs.create,
            ("POST", "jobs/reset"): self.jobs.reset,
            ("POST", "jobs/update"): self.jobs.update,
            ("POST", "jobs/delete"): self.jobs.delete,
            ("POST", "jobs/run-now"): self.jobs.run_now,
            ("GET", "jobs/get"): self.jobs.get,
            ("GET", "jobs/list"): self.jobs.list,
            ("GET", "jobs/runs/get"): self.jobs.get_run,
            ("GET", "jobs/runs/list"): self.jobs.list_runs,
            ("GET", ME_PATH): me,
        }
