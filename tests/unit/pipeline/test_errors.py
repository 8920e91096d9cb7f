"""SDK errors become the four the operator acts on, and no credential reaches a message."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest
import requests
from databricks.sdk import errors

from anthill.pipeline.jobs import (
    InvalidSpecError,
    JobsError,
    ThrottledError,
    UnauthorizedError,
    UpstreamError,
)
from anthill.pipeline.sdk import translate

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
    error = translate(errors.InvalidParameterValue(message, error_code="INVALID_PARAMETER_VALUE"))
    assert str(error) == f"HTTP 400 INVALID_PARAMETER_VALUE: {message}"


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
    error = translate(errors.Unauthenticated(f"token {PAT} expired", error_code="UNAUTHENTICATED"), (PAT,))
    assert PAT not in str(error)
    assert "***" in str(error)


MULTILINE = "dapi-first-half-0123\r\nsecond-half-4567"


@pytest.mark.parametrize(
    "shown",
    [
        pytest.param(MULTILINE, id="raw"),
        pytest.param(repr(MULTILINE), id="repr-escaped, as http.client quotes a header"),
        pytest.param(json.dumps(MULTILINE), id="json-escaped"),
        pytest.param(quote_plus(MULTILINE), id="form-encoded, as an OAuth token request sends it"),
        pytest.param("dapi-first-half-0123", id="first line alone"),
        pytest.param("second-half-4567", id="second line alone"),
    ],
)
def test_credentials_are_scrubbed_however_they_are_quoted(shown: str) -> None:
    error = errors.Unauthenticated(f"Invalid header value b'Bearer {shown}'", error_code="UNAUTHENTICATED")
    message = str(translate(error, (MULTILINE,)))
    assert message.startswith("Databricks refused the credentials: HTTP 401 UNAUTHENTICATED: Invalid header")
    for part in ("dapi-first-half-0123", "second-half-4567", "first-half", "half-4567"):
        assert part not in message, message


def test_an_error_quoting_a_request_header_is_reported_by_type_only() -> None:
    quoted = requests.exceptions.InvalidHeader(f"Invalid leading whitespace in header value: {MULTILINE!r}")
    message = str(translate(quoted))
    assert "InvalidHeader" in message
    assert "half" not in message


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(errors.InvalidParameterValue("Invalid timezone_id: 'Mars/Olympus_Mons'",
                                                  error_code="INVALID_PARAMETER_VALUE"),
                     "HTTP 400 INVALID_PARAMETER_VALUE: Invalid timezone_id: 'Mars/Olympus_Mons'",
                     id="databricks-400-kept"),
        pytest.param(errors.InternalError("The service failed\nGET /api\nAuthorization: x\nleaked-marker",
                                          error_code="INTERNAL_ERROR"),
                     "Databricks failed: HTTP 500 INTERNAL_ERROR: The service failed", id="first-line-only"),
        pytest.param(errors.InternalError("x" * 500, error_code="INTERNAL_ERROR"),
                     "Databricks failed: HTTP 500 INTERNAL_ERROR: " + "x" * 197 + "...", id="cut-short"),
        pytest.param(errors.InternalError("tab\tand \x1b[31m escape", error_code="INTERNAL_ERROR"),
                     "Databricks failed: HTTP 500 INTERNAL_ERROR: tab and  [31m escape", id="unprintable-dropped"),
        pytest.param(errors.InternalError("unable to parse response. Request log:```<html>leaked-marker```"),
                     "Databricks failed: HTTP 500 (the response was not a Databricks error; its body is not shown)",
                     id="not-a-databricks-answer"),
        pytest.param(errors.NotFound("leaked-marker", error_code="NGINX_SAYS"),
                     "Databricks failed: HTTP 404 (the response was not a Databricks error; its body is not shown)",
                     id="unknown-error-code"),
    ],
)  # fmt: skip
def test_failed_answers_are_summarised_never_copied(error: Exception, expected: str) -> None:
    assert str(translate(error)) == expected


def test_a_refused_oauth_client_keeps_only_the_oauth_error_code() -> None:
    error = translate(ValueError("invalid_client: the secret you sent was leaked-marker"))
    assert str(error) == "Databricks authentication failed: the client was refused (invalid_client)"
