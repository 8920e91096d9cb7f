"""The Databricks Jobs API (and the Files API reads the operator needs) over the real databricks-sdk, as the
:class:`~anthill.pipeline.jobs.JobsClient` the reconciler uses, with the SDK's errors turned into the four of
:mod:`anthill.pipeline.jobs`.

The SDK retries 429, 503 and connection errors itself, sleeping inside the call for up to
``retry_timeout_seconds`` (300 s by default). A reconcile would then hold its worker for minutes with nothing in
status. So the client gives the SDK a clock whose ``sleep`` refuses: the first failure surfaces at once as a typed
error and the operator's own backoff, which honours ``Retry-After``, is the only one in charge.

Messages quote no response body: a failed answer is summarised as its HTTP status, Databricks' error code and
one short, sanitised line of Databricks' own message (see :func:`summarise`); anything else a host answers is
withheld. Secrets never reach a message: the SDK masks them in its debug text, errors that quote a request
header are reported by type only, and every message is scrubbed of the credential values, escaped or not.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast
from urllib.parse import quote, quote_plus

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import Clock
from databricks.sdk.config import Config
from databricks.sdk.errors import (
    BadRequest,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
    platform,
)
from databricks.sdk.errors.base import DatabricksError
from databricks.sdk.service.jobs import BaseRun, JobSettings, RunNowResponse

from anthill.pipeline.desired import PIPELINE_TAG
from anthill.pipeline.jobs import (
    FAILED_RESULTS,
    FILE_READ_MAX,
    HTTP_TIMEOUT,
    Credentials,
    Identity,
    InvalidSpecError,
    JobsError,
    ObservedJob,
    ObservedRun,
    ThrottledError,
    UnauthorizedError,
    UpstreamError,
)

DEFAULT_RETRY_AFTER = 1.0  # seconds, when a 429 comes without Retry-After
# Config() probes the host's /.well-known/databricks-config with a client of its own (not our clock), retrying
# connection errors for retry_timeout_seconds: the default 300 s would stall the operator on a host that is down.
PROBE_RETRY_SECONDS = 1
LIST_PAGE = 100  # the most jobs/list returns per page
MIN_SECRET = 8  # shorter values are no real credential, and replacing them would garble messages
ME_PATH = "/api/2.0/preview/scim/v2/Me"  # SCIM "who am I"; the workspace id comes back as a header
ORG_ID_HEADER = "X-Databricks-Org-Id"
SDK_CONFIG = re.compile(r"\s*Config: \S+=.*$", re.DOTALL)
GONE = re.compile(r"(Job|Run) \S+ does not exist")
MESSAGE_MAX = 200  # characters of a Databricks error message a condition shows
UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")
STATUS_OF: dict[type, int] = {kind: status for status, kind in platform.STATUS_CODE_MAPPING.items()}
# Databricks' own error codes (the API's canonical ones): only an answer carrying one is quoted.
DATABRICKS_ERROR_CODES = frozenset({
    *platform.ERROR_CODE_MAPPING, "BAD_REQUEST", "CANCELLED", "DEADLINE_EXCEEDED", "ENDPOINT_NOT_FOUND",
    "FEATURE_DISABLED", "INTERNAL_ERROR", "INVALID_REQUEST", "MALFORMED_REQUEST", "NOT_FOUND", "NOT_IMPLEMENTED",
    "PERMISSION_DENIED", "RESOURCE_CONFLICT", "TEMPORARILY_UNAVAILABLE", "UNAUTHENTICATED",
})  # fmt: skip
OAUTH_ERROR = re.compile(  # RFC 6749's error codes
    r"\b(invalid_client|invalid_grant|invalid_request|invalid_scope|unauthorized_client|unsupported_grant_type)\b"
)


class _RetryDeclinedError(Exception):
    """Raised where the SDK would sleep before a retry; the failure it would retry is its ``__context__``."""


class _NoRetryClock(Clock):
    """Real time, but no sleeping: the SDK's retry loop ends at its first failure."""

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        raise _RetryDeclinedError


def _spellings(secret: str) -> set[str]:
    """The ways a credential can appear in an error's text: as it is, escaped the way Python's repr and
    JSON quote it (an HTTP library rejecting a header quotes the value escaped), URL-encoded (a form body),
    and each line of a multi-line value on its own."""
    forms = {secret, secret.encode("unicode_escape").decode(), json.dumps(secret)[1:-1], quote_plus(secret),
             quote(secret, safe="")}  # fmt: skip
    forms.update(re.split(r"[\r\n]+", secret))
    return {form for form in forms if len(form) >= MIN_SECRET}


def _redact(message: str, secrets: tuple[str, ...]) -> str:
    message = SDK_CONFIG.sub("", message)  # the SDK appends its (masked) configuration: noise in a condition
    # Longest first, so that a whole escaped value is replaced before a line of it is.
    for form in sorted({form for secret in secrets for form in _spellings(secret)}, key=len, reverse=True):
        message = message.replace(form, "***")
    return message


def _sanitised(text: str) -> str:
    """One short printable line of ``text``: what a condition may quote from a remote answer."""
    line = UNPRINTABLE.sub(" ", text.strip().splitlines()[0] if text.strip() else "").strip()
    return line if len(line) <= MESSAGE_MAX else line[: MESSAGE_MAX - 3] + "..."


def http_status(exc: DatabricksError) -> int | None:
    """The HTTP status an SDK error stands for (its class says it), or None for an unknown class."""
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return None


def summarise(exc: DatabricksError, secrets: tuple[str, ...] = ()) -> str:
    """A failed answer as a condition may show it: the HTTP status, Databricks' error code and one short,
    sanitised line of its message.

    The message is kept only when the answer was one of Databricks' own errors (a known error code). Any
    other body, an HTML page or the text of some other service, is never copied: a host that is not the
    workspace, or echoes what it is sent, must not be readable through a DatabricksConnection's status.
    """
    status = http_status(exc)
    code = exc.error_code if exc.error_code in DATABRICKS_ERROR_CODES else None
    head = " ".join(part for part in (f"HTTP {status}" if status else "", code or "") if part) or "error"
    if code is None:
        return f"{head} (the response was not a Databricks error; its body is not shown)"
    message = _sanitised(_redact(str(exc), secrets))
    return f"{head}: {message}" if message else head


def _oauth_summary(exc: ValueError) -> str:
    """The SDK reports a refused OAuth client as a ValueError quoting the token endpoint's body: only a
    standard OAuth error code from it is kept."""
    found = OAUTH_ERROR.search(str(exc))
    return f"the client was refused ({found.group(0)})" if found else "the client could not be configured"


def translate(exc: BaseException, secrets: tuple[str, ...] = ()) -> JobsError:
    """The typed error for an exception from the SDK (or its HTTP stack), with a message that quotes no
    response body and no credential (see :func:`summarise`)."""
    while isinstance(exc, _RetryDeclinedError | TimeoutError) and (exc.__cause__ or exc.__context__):
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    if isinstance(exc, TooManyRequests):
        retry_after = float(exc.retry_after_secs) if exc.retry_after_secs is not None else DEFAULT_RETRY_AFTER
        return ThrottledError(f"Databricks throttled the request: {summarise(exc, secrets)}", retry_after)
    if isinstance(exc, DatabricksError):
        for kinds, error, prefix in _ANSWERS:
            if isinstance(exc, kinds):
                return error(prefix + summarise(exc, secrets))
    return _unanswered(exc, secrets)


# Checked in order: a subclass before its base.
_ANSWERS: list[tuple[type[DatabricksError] | tuple[type[DatabricksError], ...], type[JobsError], str]] = [
    ((Unauthenticated, PermissionDenied), UnauthorizedError, "Databricks refused the credentials: "),
    (BadRequest, InvalidSpecError, ""),
    (DatabricksError, UpstreamError, "Databricks failed: "),
]


def _unanswered(exc: BaseException, secrets: tuple[str, ...]) -> JobsError:
    """A call that got no Databricks answer: not sent, not connected, or an OAuth client refused."""
    if isinstance(exc, requests.exceptions.InvalidHeader | requests.exceptions.InvalidURL):
        # These quote the offending header or URL, escaped: the credential itself.
        return UpstreamError(f"the request to Databricks could not be sent: {type(exc).__name__}")
    if isinstance(exc, requests.RequestException):
        return UpstreamError(f"cannot reach Databricks: {type(exc).__name__}: {_redact(str(exc), secrets)}")
    if isinstance(exc, ValueError):  # the SDK's OAuth token exchange reports a refused client so
        return UnauthorizedError(f"Databricks authentication failed: {_oauth_summary(exc)}")
    return UpstreamError(f"Databricks call failed: {type(exc).__name__}")


def workspace_client(
    host: str, credentials: Credentials, http_timeout: float = HTTP_TIMEOUT, retry_seconds: int | None = None
) -> WorkspaceClient:
    """A WorkspaceClient for ``host`` with exactly these credentials and, unless ``retry_seconds`` is given (a
    command line that may wait out a 429), no retries of its own.

    ``auth_type`` is pinned so that credentials in the environment or ``~/.databrickscfg`` cannot mix in.
    """
    retries: dict[str, Any] = (
        {"clock": _NoRetryClock(), "retry_timeout_seconds": PROBE_RETRY_SECONDS}
        if retry_seconds is None
        else {"retry_timeout_seconds": retry_seconds}
    )
    try:
        if credentials.token:
            config = Config(
                host=host,
                auth_type="pat",
                token=credentials.token,
                http_timeout_seconds=http_timeout,
                **retries,
            )
        else:
            config = Config(
                host=host,
                auth_type="oauth-m2m",
                client_id=credentials.client_id,
                client_secret=credentials.client_secret,
                http_timeout_seconds=http_timeout,
                **retries,
            )
    except Exception as exc:
        # from None: the SDK's own error may quote what it was given, credentials included, in a traceback
        raise translate(exc, credentials.secrets()) from None
    return WorkspaceClient(config=config)


def _when(millis: int | None) -> datetime.datetime | None:
    """Databricks' epoch milliseconds as UTC; 0 means "not yet"."""
    return datetime.datetime.fromtimestamp(millis / 1000, datetime.UTC) if millis else None


def observed_run(run: BaseRun) -> ObservedRun:
    state = run.state
    return ObservedRun(
        run_id=run.run_id or 0,
        state=state.life_cycle_state.value if state and state.life_cycle_state else None,
        result_state=state.result_state.value if state and state.result_state else None,
        start_time=_when(run.start_time),
        end_time=_when(run.end_time),
    )


class DatabricksJobs:
    """:class:`JobsClient` over the real SDK; every SDK error leaves as a :class:`JobsError`."""

    def __init__(self, client: WorkspaceClient, secrets: tuple[str, ...] = ()) -> None:
        self._client = client
        self._jobs = client.jobs
        self._secrets = secrets
        self._failures: dict[int, str] = {}  # run id -> why it failed

    @classmethod
    def connect(cls, host: str, credentials: Credentials) -> DatabricksJobs:
        return cls(workspace_client(host, credentials), credentials.secrets())

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except JobsError:
            raise
        except Exception as exc:
            # from None: the original may quote a request header (the credential) or a response body, and a
            # chained exception is printed with any traceback that is logged
            raise translate(exc, self._secrets) from None

    def get(self, job_id: int) -> ObservedJob | None:
        with self._errors():
            try:
                job = self._jobs.get(job_id)
            except NotFound:
                return None
        return ObservedJob(job.job_id or job_id, job.settings or JobSettings(), job.creator_user_name)

    def find_by_tag(self, pipeline_key: str) -> list[int]:
        # Databricks filters jobs by name only; a tag lookup reads every job. It runs only after a crash
        # between "create pending" and recording the id, so its cost is paid rarely.
        with self._errors():
            return sorted(
                job.job_id
                for job in self._jobs.list(limit=LIST_PAGE)
                if job.job_id is not None
                and job.settings is not None
                and (job.settings.tags or {}).get(PIPELINE_TAG) == pipeline_key
            )

    def find_by_name(self, name: str) -> list[int]:
        with self._errors():
            return sorted(job.job_id for job in self._jobs.list(name=name, limit=LIST_PAGE) if job.job_id)

    def create(self, settings: JobSettings) -> int:
        with self._errors():
            created = self._jobs.create(**_create_arguments(settings))
        if created.job_id is None:
            raise UpstreamError("Databricks created a job but returned no job_id")
        return created.job_id

    def reset(self, job_id: int, settings: JobSettings) -> None:
        with self._errors():
            self._jobs.reset(job_id, settings)

    def delete(self, job_id: int) -> None:
        with self._errors():
            try:
                self._jobs.delete(job_id)
            except NotFound:
                return
            except BadRequest as exc:
                if not GONE.search(str(exc)):  # Databricks answers a delete of a missing job with a 400
                    raise

    def run_now(self, job_id: int, idempotency_token: str) -> int:
        with self._errors():
            wait = self._jobs.run_now(job_id, idempotency_token=idempotency_token)
        started = cast(RunNowResponse, wait.response)
        if started.run_id is None:
            raise UpstreamError("Databricks started a run but returned no run_id")
        return int(started.run_id)

    def last_run(self, job_id: int) -> ObservedRun | None:
        with self._errors():
            run = next(iter(self._jobs.list_runs(job_id=job_id, limit=1, expand_tasks=True)), None)
        if run is None:
            return None
        observed = observed_run(run)
        if observed.result_state not in FAILED_RESULTS:
            return observed
        if observed.run_id not in self._failures:  # read once per failed run, not at every poll
            self._failures[observed.run_id] = self._failure(run)
        return replace(observed, message=self._failures[observed.run_id])

    def _failure(self, run: BaseRun) -> str:
        """The failed task and the first line of its error (``jobs/runs/get-output``), else the run's state
        message: one sanitised line with no credential in it."""
        failed = [task for task in run.tasks or []
                  if task.state is not None and task.state.result_state is not None
                  and task.state.result_state.value in FAILED_RESULTS and task.run_id is not None]  # fmt: skip
        for task in failed:
            with self._errors():
                output = self._jobs.get_run_output(cast("int", task.run_id))
            if output.error:
                return _sanitised(_redact(f"task {task.task_key}: {output.error}", self._secrets))
        message = run.state.state_message if run.state is not None else None
        return _sanitised(_redact(message or "the run failed", self._secrets))

    def read_file(self, path: str, limit: int = FILE_READ_MAX) -> bytes | None:
        with self._errors():
            try:
                contents = self._client.files.download(path).contents
                return contents.read(limit) if contents is not None else b""
            except NotFound:
                return None

    def identity(self) -> Identity:
        with self._errors():
            answer = self._client.api_client.do("GET", ME_PATH, response_headers=[ORG_ID_HEADER])
        if not isinstance(answer, dict):
            return Identity(None, None)
        org = answer.get(ORG_ID_HEADER)
        name = answer.get("userName")
        return Identity(int(org) if org and str(org).isdigit() else None, str(name) if name else None)


def _create_arguments(settings: JobSettings) -> dict[str, Any]:
    """``jobs.create`` takes the settings as keyword arguments; only those that are set."""
    return {name: getattr(settings, name) for name in settings.as_dict()}
