"""What the MedallionPipeline reconciler needs from Databricks, without the SDK: the :class:`JobsClient`
Protocol, what it observes, and the four errors the operator acts on.

| error | from | what the operator does |
|---|---|---|
| :class:`UnauthorizedError` | 401/403, a failed OAuth token exchange | ``Ready=False``; retried slowly (someone must fix the Secret) |
| :class:`InvalidSpecError` | 400 (Databricks' message, one short line) | ``Ready=False, reason=InvalidSpec``; not retried until the spec changes |
| :class:`ThrottledError` | 429 | retried after ``retry_after`` seconds (the server's ``Retry-After``) |
| :class:`UpstreamError` | 5xx, other API errors, the workspace unreachable | retried with backoff; ``Synced=False`` |

The client over the real databricks-sdk is :mod:`anthill.pipeline.sdk`. Importing the SDK costs about 60 MiB of
memory and seconds of start-up, so it is imported only when a DatabricksConnection is first used
(:func:`connect`): an operator that runs only Kubernetes pipelines and MarketFeeds never loads it.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from databricks.sdk.service.jobs import JobSettings

HTTP_TIMEOUT = 30.0
FILE_READ_MAX = 4096  # bytes: the operator reads small files only (the wheel pointer, one path)
# Result states of a run that ended without success (UPSTREAM_FAILED: a task skipped after another failed).
FAILED_RESULTS = frozenset({"FAILED", "TIMEDOUT", "INTERNAL_ERROR", "MAXIMUM_CONCURRENT_RUNS_REACHED"})


class JobsError(Exception):
    """A Jobs API call failed; the subclass says how the operator should react."""


class UnauthorizedError(JobsError):
    """The credentials were refused (bad or expired PAT, unknown OAuth client, missing permission)."""


class InvalidSpecError(JobsError):
    """Databricks rejected the job settings (400); the message summarises Databricks'. Retrying cannot help."""


class ThrottledError(JobsError):
    """Databricks asked to slow down (429); retry after :attr:`retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(JobsError):
    """Databricks failed (5xx) or could not be reached; retry with backoff."""


@dataclass(frozen=True)
class ObservedJob:
    """A job as Databricks reports it."""

    job_id: int
    settings: JobSettings
    creator: str | None = None


@dataclass(frozen=True)
class ObservedRun:
    """The parts of a run ``status.atProvider.lastRun`` shows."""

    run_id: int
    state: str | None
    result_state: str | None
    start_time: datetime.datetime | None
    end_time: datetime.datetime | None
    # Why a run that did not succeed ended: the failed task and the first line of its error (or Databricks'
    # state message), sanitised and without credentials.
    message: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who a set of credentials acts as, and in which workspace."""

    workspace_id: int | None
    principal: str | None


class JobsClient(Protocol):
    """What the MedallionPipeline reconciler needs from Databricks. A missing job is ``None``, never an error."""

    def get(self, job_id: int) -> ObservedJob | None:
        """The job, or None when it does not exist."""
        ...

    def find_by_tag(self, pipeline_key: str) -> list[int]:
        """Ids of the jobs tagged ``anthill.io/pipeline: <pipeline_key>`` (the create-pending guard's lookup)."""
        ...

    def find_by_name(self, name: str) -> list[int]:
        """Ids of the jobs named ``name`` (case-insensitive, as Databricks filters)."""
        ...

    def create(self, settings: JobSettings) -> int:
        """Create a job; its id."""
        ...

    def reset(self, job_id: int, settings: JobSettings) -> None:
        """Replace every setting of the job."""
        ...

    def delete(self, job_id: int) -> None:
        """Delete the job; a job already gone is not an error."""
        ...

    def run_now(self, job_id: int, idempotency_token: str) -> int:
        """Trigger a run; the same token returns the run it started before instead of a second one."""
        ...

    def last_run(self, job_id: int) -> ObservedRun | None:
        """The job's most recent run, or None when it never ran."""
        ...

    def identity(self) -> Identity:
        """Who the credentials act as (one call; proves they work)."""
        ...

    def read_file(self, path: str, limit: int = FILE_READ_MAX) -> bytes | None:
        """At most ``limit`` bytes of a file in a Unity Catalog volume (Files API), or None when the file (or
        its volume) does not exist."""
        ...


@dataclass(frozen=True)
class Credentials:
    """A personal access token, or an OAuth machine-to-machine client id and secret (values never printed)."""

    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        return tuple(value for value in (self.token, self.client_secret) if value)


# The SDK's modules import each other in a cycle: two handler threads importing it at once for the first time
# can meet in it, and Python breaks that with a _DeadlockError in one of them. One import at a time.
_SDK_IMPORT = threading.Lock()


def connect(host: str, credentials: Credentials) -> JobsClient:
    """A :class:`JobsClient` for the workspace at ``host`` over the real SDK, imported on first use."""
    with _SDK_IMPORT:
        from anthill.pipeline.sdk import DatabricksJobs  # noqa: PLC0415 - the SDK loads only when Databricks is used

    return DatabricksJobs.connect(host, credentials)
