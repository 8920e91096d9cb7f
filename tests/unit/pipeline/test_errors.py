"""SDK errors become the four the operator acts on, and no credential reaches a message."""

from __future__ import annotations

import pytest
import requests
from databricks.sdk import errors

from anthill.pipeline.jobs import (
    InvalidSpecError,
    JobsError,
    ThrottledError,
    UnauthorizedError,
    UpstreamError,
    translate,
)

PAT = "dapi-0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(errors.Unauthenticated("Invalid access token."), UnauthorizedError, id="401"),
        pytest.param(errors.PermissionDenied("no access"), UnauthorizedError, id="403"),
        pytest.param(errors.InvalidParameterValue("Invalid Quartz Cron Expression"), InvalidSpecError, id="400"),
        pytest.param(errors.BadRequest("bad"), InvalidSpecError, id="plain-400"),
        pytest.param(errors.InternalError("boom"), UpstreamError, id="500"),
        pytest.param(errors.TemporarilyUnavailable("later"), UpstreamError, id="503"),
        pytest.param(errors.NotFound("No API found"), UpstreamError, id="404-on-a-write-is-an-outage"),
        pytest.param(requests.ConnectionError("refused"), UpstreamError, id="unreachable"),
        pytest.param(ValueError("invalid_client: Client authentication failed"), UnauthorizedError,
                     id="oauth-client-refused"),
    ],
)  # fmt: skip
def test_translation(error: Exception, expected: type[JobsError]) -> None:
    assert type(translate(error)) is expected


def test_invalid_spec_keeps_databricks_message() -> None:
    message = "Task silver_to_gold depends on x, which is not a task"
    assert str(translate(errors.InvalidParameterValue(message))) == message


@pytest.mark.parametrize(("header", "seconds"), [(7, 7.0), (None, 1.0)])
def test_throttled_carries_retry_after(header: int | None, seconds: float) -> None:
    error = translate(errors.TooManyRequests("slow down", retry_after_secs=header))
    assert isinstance(error, ThrottledError)
    assert error.retry_after == seconds


def test_an_sdk_retry_that_ran_out_reports_the_failure_it_retried() -> None:
    try:
        try:
            raise errors.ResourceExhausted("quota", retry_after_secs=3)
        except errors.ResourceExhausted as inner:
            raise TimeoutError("Timed out after 0:00:01") from inner
    except TimeoutError as outer:
        error = translate(outer)
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 3.0


def test_credentials_are_scrubbed_from_messages() -> None:
    error = translate(errors.Unauthenticated(f"token {PAT} expired"), (PAT,))
    assert PAT not in str(error)
    assert "***" in str(error)
