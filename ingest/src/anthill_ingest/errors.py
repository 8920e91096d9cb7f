"""Failures a run reports, each with its own exit code."""

from __future__ import annotations


class IngestError(Exception):
    """Base of the failures a run reports with a distinct exit code."""

    exit_code = 1


class AuthRejectedError(IngestError):
    exit_code = 3


class RequestNotSentError(IngestError):
    """A request could not be sent as built (a header value it cannot carry); a configuration error."""

    exit_code = 2


class UpstreamError(IngestError):
    exit_code = 4


class MalformedResponseError(IngestError):
    """A 200 whose body is not what the API promises; ``raw`` is kept for the quarantine."""

    exit_code = 5

    def __init__(self, message: str, path: str, raw: bytes) -> None:
        super().__init__(message)
        self.path = path
        self.raw = raw


class SchemaSurpriseError(IngestError):
    """An API result lacks a field the schema requires (kept under _quarantine/)."""

    exit_code = 5
