"""The HTTP policy under the massive client: a token bucket, bounded retries, strict bodies, counting.

The massive client sends every request (pages included) through its urllib3 pool; :class:`PolicyPool` wraps
that pool so each request first takes a token, 429s wait for ``Retry-After`` (with jitter), 5xx and
connection errors back off exponentially a bounded number of times, and a 200 whose body is not JSON is
raised with the raw bytes so the caller can quarantine them. So is a body JSON allows but the API never
sends: ``NaN``/``Infinity`` (which Python's parser accepts), a number no double holds, or results that are
not an array of objects; the massive client would otherwise crash on them or read them as "no data". The API key travels only in the client's
Authorization header; nothing here logs headers or query strings with credentials.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import urllib3

from anthill_ingest.bodies import check_body
from anthill_ingest.errors import (
    AuthRejectedError,
    RequestNotSentError,
    UpstreamError,
)

log = logging.getLogger(__name__)
RETRYABLE = {429, 500, 502, 503, 504}
ARRAY_BODIES = (
    "/v1/marketstatus/upcoming",
)  # the endpoints whose body is an array; every other is an object
UNAUTHORIZED = {401, 403}


@dataclass
class TokenBucket:
    """``rate`` requests per minute, bursting up to ``capacity``; the clock and sleep are injectable."""

    requests_per_minute: float
    capacity: float = 1.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float = field(init=False)
    _updated: float = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    waited: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._tokens = self.capacity
        self._updated = self.clock()

    def acquire(self) -> None:
        """Take one token, sleeping until one is available."""
        with self._lock:
            now = self.clock()
            self._tokens = min(
                self.capacity, self._tokens + (now - self._updated) * self.requests_per_minute / 60
            )
            self._updated = now
            if self._tokens < 1:
                wait = (1 - self._tokens) * 60 / self.requests_per_minute
                self.waited += wait
                self.sleep(wait)
                self._tokens = 1
                self._updated = self.clock()
            self._tokens -= 1


@dataclass
class RetryPolicy:
    """How patient a run is: bounded attempts per request and a total wait budget for the run."""

    attempts: int = 6
    backoff: float = 0.5  # seconds, doubled per attempt, with full jitter
    max_backoff: float = 30.0
    budget: float = 600.0  # total seconds a run may spend waiting on 429/5xx before it gives up
    rng: random.Random = field(default_factory=random.Random)


class PolicyPool:
    """Wraps the massive client's ``urllib3.PoolManager`` (same ``request`` signature)."""

    def __init__(self, pool: urllib3.PoolManager, bucket: TokenBucket | None, policy: RetryPolicy,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.pool = pool
        self.bucket = bucket
        self.policy = policy
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        self.waited = 0.0
        self.last_path = ""
        self.last_body = b""  # the latest 200 body: what a schema surprise is quarantined with
        self.checks_bodies = True

    @contextmanager
    def bodies_checked_by_caller(self) -> Iterator[None]:
        """Within, a 200 body is handed on unchecked: the caller parses it into columns with the same checks,
        and runs :func:`~anthill_ingest.bodies.check_body` on any body its parser does not take, so the
        errors are the ones raised here otherwise (a page is not parsed twice on the way to Arrow)."""
        self.checks_bodies = False
        try:
            yield
        finally:
            self.checks_bodies = True

    def request(self, method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        path = _path_only(url)
        for attempt in range(1, self.policy.attempts + 1):
            if self.bucket is not None:
                self.bucket.acquire()
            self.requests += 1
            try:
                response = self.pool.request(method, url, retries=False, **kwargs)
            except urllib3.exceptions.HTTPError as exc:
                reason = f"connection failed: {type(exc).__name__}"
                self._back_off(attempt, None, path, reason)
                continue
            except ValueError as exc:
                # http.client refuses a header it cannot send with the header's value in the message: the
                # Authorization header is the API key, so the text stays out of the log and the summary.
                raise RequestNotSentError(
                    f"{path}: the request could not be sent ({type(exc).__name__}); "
                    "check that the API key is one line of printable text"
                ) from None
            status = response.status
            if status in UNAUTHORIZED:
                raise AuthRejectedError(
                    f"API key rejected ({status}) by {path}: {_error_text(response.data)}"
                )
            if status in RETRYABLE:
                self._back_off(attempt, response.headers.get("Retry-After"), path, f"HTTP {status}")
                continue
            if status == 200:  # noqa: PLR2004
                if self.checks_bodies:
                    check_body(response.data, path)
                self.last_path, self.last_body = path, response.data
            return response
        raise UpstreamError(f"{path}: gave up after {self.policy.attempts} attempts")

    def _back_off(self, attempt: int, retry_after: str | None, path: str, reason: str) -> None:
        if attempt >= self.policy.attempts:
            raise UpstreamError(f"{path}: {reason}, still failing after {attempt} attempts")
        delay = _retry_after_seconds(retry_after)
        if delay is None:
            delay = self.policy.rng.uniform(0, min(self.policy.max_backoff, self.policy.backoff * 2**attempt))
        else:
            delay += self.policy.rng.uniform(0, min(1.0, delay * 0.1))  # jitter so replicas don't stampede
        if self.waited + delay > self.policy.budget:
            raise UpstreamError(f"{path}: {reason}; the retry budget of {self.policy.budget:.0f}s is spent")
        self.retries += 1
        self.waited += delay
        log.warning("%s on %s; retry %d in %.1fs", reason, path, attempt, delay)
        self.sleep(delay)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


def _path_only(url: str) -> str:
    """The URL without query string: queries may carry cursors, never credentials, but stay out of logs."""
    return urllib3.util.parse_url(url).path or "/"


def _retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_text(raw: bytes) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        return raw[:200].decode(errors="replace")
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or body)[:200]
    return str(body)[:200]
