"""The Databricks job as a Crossplane-style managed resource: the annotations that record it, the management
policies, and how the job and its runs read in ``status.atProvider``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anthill.marketfeed.observe import rfc3339
from anthill.pipeline.jobs import ObservedRun

EXTERNAL_NAME = "anthill.io/external-name"
CREATE_PENDING = "anthill.io/external-create-pending"
CREATE_SUCCEEDED = "anthill.io/external-create-succeeded"
RUN_NOW = "anthill.io/run-now"
RUN_NOW_TOKEN_MAX = 64  # Databricks' limit on an idempotency token


@dataclass(frozen=True)
class Policies:
    """What ``spec.managementPolicies`` allow."""

    names: frozenset[str]

    def allows(self, action: str) -> bool:
        return "*" in self.names or action in self.names

    @property
    def create(self) -> bool:
        return self.allows("Create")

    @property
    def update(self) -> bool:
        return self.allows("Update")

    @property
    def delete(self) -> bool:
        return self.allows("Delete")


def job_url(host: str, job_id: int) -> str:
    return f"{host.rstrip('/')}/jobs/{job_id}"


def external_id(annotations: dict[str, str]) -> int | None:
    """The job id from the external-name annotation; ValueError when it is not one."""
    raw = annotations.get(EXTERNAL_NAME)
    if raw is None or raw == "":
        return None
    if not raw.strip().isdigit():
        raise ValueError(f"annotation {EXTERNAL_NAME} must be a Databricks job id, not {raw!r}")
    return int(raw.strip())


def run_status(run: ObservedRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    status: dict[str, Any] = {"runId": run.run_id}
    for key, value in (("state", run.state), ("resultState", run.result_state)):
        if value:
            status[key] = value
    for key, moment in (("startTime", run.start_time), ("endTime", run.end_time)):
        if moment is not None:
            status[key] = rfc3339(moment)
    return status
