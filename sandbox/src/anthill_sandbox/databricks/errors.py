"""The errors the server answers with: an HTTP status and Databricks' ``{"error_code", "message"}`` body."""

from __future__ import annotations

from http import HTTPStatus


class ApiError(Exception):
    """An error answer: HTTP status, Databricks error code and message."""

    def __init__(self, status: HTTPStatus, code: str, message: str, headers: dict[str, str] | None = None,
                 raw: bytes | None = None, content_type: str = "application/json") -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}
        self.raw = raw  # a body sent as it is, instead of Databricks' error JSON
        self.content_type = content_type


def invalid(message: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)


def job_not_found(job_id: int) -> ApiError:
    # The SDK turns exactly this 400 into ResourceDoesNotExist on jobs/get (its error overrides).
    return invalid(f"Job {job_id} does not exist.")
