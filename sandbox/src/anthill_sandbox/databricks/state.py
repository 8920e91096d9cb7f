"""The workspace in memory: its jobs and runs, who may call it (tokens, OAuth clients), the injected faults."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

DEFAULT_TOKEN = "dapi-sandbox"  # noqa: S105 - a well-known sandbox credential, like the market-data key
DEFAULT_USER = "sandbox@anthill.local"
DEFAULT_CLIENT_ID = "anthill-operator"
DEFAULT_CLIENT_SECRET = "sandbox-secret"  # noqa: S105
DEFAULT_WORKSPACE_ID = 1234567890123456

RunMode = Literal["execute", "succeed", "hold"]


@dataclass(frozen=True)
class Echo:
    """Answer every API request with ``status`` and a body that echoes it: the request line and headers, then
    ``text``. ``shape`` "databricks" wraps that in Databricks' error JSON, "text" sends it as plain text, the
    way some other service would. It stands for a host that reflects what it is sent or serves content that
    must never be read back through a client's error messages."""

    status: int = 500
    shape: Literal["databricks", "text"] = "text"
    text: str = ""


@dataclass
class DatabricksFaults:
    """What the server does wrong, on purpose: fixed counts first, then seeded random fractions."""

    throttle_first: int = 0  # the first N API requests get 429
    throttle_rate: float = 0.0  # then this fraction of requests gets 429
    retry_after: int = 1  # seconds, sent as Retry-After with each 429
    server_error_first: int = 0  # the first N API requests (after any 429s) get 500
    server_error_rate: float = 0.0
    delay: float = 0.0  # seconds added to each API response
    echo: Echo | None = None  # answer every API request with an echo of it (before authentication)
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
    # What run-now's runs do: "execute" runs their tasks for real (see ``runner``); "succeed" ends them at once
    # with SUCCESS and "hold" keeps them RUNNING until ``Jobs.finish_run``, for tests of the API's plumbing only.
    run_mode: RunMode = "execute"
    # The environment every run's tasks get on top of a minimal one, standing for what a cluster's instance
    # profile gives it (for example AWS_ENDPOINT_URL and keys of a local S3 API).
    run_env: dict[str, str] = field(default_factory=dict)
    # Where runs keep their installed libraries and output; None: a temporary folder of the server's own.
    run_root: Path | None = None
    clock: Callable[[], float] = time.time
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, int] = field(default_factory=dict)
    task_runs: dict[int, int] = field(default_factory=dict)  # a task's run id -> its run's id
    # The Files API's store: absolute paths (/Volumes/<catalog>/<schema>/<volume>/...) -> contents. Runs install
    # their wheel libraries from here.
    files: dict[str, bytes] = field(default_factory=dict)
    # Cluster policies by id (as Terraform's databricks_cluster_policy creates them); job clusters naming one
    # are checked against it.
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The Unity Catalog volumes that exist (/Volumes/<catalog>/<schema>/<volume>): the Files API serves paths in
    # these only.
    volumes: set[str] = field(default_factory=set)
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _issued: dict[str, Principal] = field(default_factory=dict)
    _next_job_id: int = 1001
    _next_run_id: int = 5001
    _next_policy: int = 0x0A11
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

    def new_policy_id(self) -> str:
        self._next_policy += 1
        return f"E{self._next_policy:015X}"  # Databricks' policy ids: 16 upper-case hex digits

    def new_run_id(self) -> int:
        self._next_run_id += 1
        return self._next_run_id - 1
