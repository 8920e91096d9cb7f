"""The Databricks job as a Crossplane-style managed resource: the annotations that record it, the management
policies, which job is a pipeline's own, and how the job and its runs read in ``status.atProvider``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from anthill.marketfeed.observe import rfc3339
from anthill.pipeline.desired import PIPELINE_TAG
from anthill.pipeline.jobs import HTTP_TIMEOUT, ObservedJob, ObservedRun

EXTERNAL_NAME = "anthill.io/external-name"
CREATE_PENDING = "anthill.io/external-create-pending"
CREATE_SUCCEEDED = "anthill.io/external-create-succeeded"
RUN_NOW = "anthill.io/run-now"
RUN_NOW_TOKEN_MAX = 64  # Databricks' limit on an idempotency token
# How long another writer's "create pending" mark holds off a second create when no job carries the tag yet:
# its jobs/create may still be in flight, which the client gives up on after HTTP_TIMEOUT.
CREATE_LEASE = datetime.timedelta(seconds=2 * HTTP_TIMEOUT)


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


def owns(key: str, job: ObservedJob | None, recorded: int | None) -> bool:
    """Whether the pipeline ``key`` (``<namespace>/<name>``) may reset, run or delete ``job``.

    Its own job carries the tag ``anthill.io/pipeline: <key>``, which no other pipeline's job can: the tag comes
    from the pipeline's namespace and name. An id copied into ``anthill.io/external-name`` from another
    manifest names a job tagged for someone else (or not at all). One exception: a job with no such tag at all
    whose id ``recorded`` is what this very object's status already holds as its own (someone removed the
    tag in the UI: drift, which the next reset repairs). Status is the operator's to write, and a copied
    manifest never carries it.
    """
    if job is None:
        return False
    tag = (job.settings.tags or {}).get(PIPELINE_TAG)
    return tag == key or (tag is None and recorded is not None and recorded == job.job_id)


def recorded_job(status: dict[str, Any]) -> int | None:
    """The job id ``status.atProvider`` records as this pipeline's own, if any."""
    at_provider = status.get("atProvider") or {}
    job_id = at_provider.get("jobId")
    return job_id if at_provider.get("owned") is True and isinstance(job_id, int) else None


def not_owned_message(key: str, job: ObservedJob) -> str:
    """Why a pipeline leaves ``job`` alone, naming the tag it carries."""
    tag = (job.settings.tags or {}).get(PIPELINE_TAG)
    carries = (
        f"carries the tag {PIPELINE_TAG}={tag!r}" if tag is not None else f"carries no {PIPELINE_TAG} tag"
    )
    return f"job {job.job_id} {carries}, not {key!r}: the operator resets, runs and deletes only a pipeline's own job"


def lease_left(mark: str, now: datetime.datetime) -> float:
    """Seconds until a "create pending" mark written at ``mark`` (RFC 3339) stops holding off a create; an
    unreadable mark holds nothing off."""
    try:
        written = datetime.datetime.fromisoformat(mark.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if written.tzinfo is None:
        return 0.0
    return max(0.0, (written + CREATE_LEASE - now).total_seconds())


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
    if run.message:
        status["message"] = run.message
    return status
