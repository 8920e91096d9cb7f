"""Market data through the real ``massive`` client, with Anthill's HTTP policy underneath it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from massive import RESTClient
from massive.exceptions import BadResponse

from anthill_ingest.errors import SchemaSurpriseError, UpstreamError
from anthill_ingest.transport import PolicyPool, RetryPolicy, TokenBucket


class MarketData:
    """The API through the ``massive`` client, paced and retried by Anthill's policy; the dataset modules
    (:mod:`anthill_ingest.datasets`) make the calls and parse the results."""

    def __init__(self, api_key: str, base_url: str | None, requests_per_minute: int | None,
                 policy: RetryPolicy | None = None) -> None:  # fmt: skip
        kwargs: dict[str, Any] = {"api_key": api_key, "pagination": True, "retries": 0}
        if base_url:
            kwargs["base"] = base_url.rstrip("/")
        self.client = RESTClient(**kwargs)
        bucket = TokenBucket(requests_per_minute) if requests_per_minute else None
        self.pool = PolicyPool(self.client.client, bucket, policy or RetryPolicy())
        self.client.client = self.pool  # same request() interface as the pool it wraps

    @property
    def requests(self) -> int:
        return self.pool.requests

    def call(self, method: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Call a client method and iterate its results; the client's BadResponse becomes UpstreamError.

        The transport refuses the shapes the client cannot read; should another one reach it anyway, the
        client's own error is a schema surprise (quarantined, with a reason), not a traceback."""
        try:
            yield from method(*args, **kwargs)
        except BadResponse as exc:
            raise UpstreamError(f"{method.__name__}: the API answered {str(exc)[:300]}") from exc
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise SchemaSurpriseError(
                f"{method.__name__}: the client could not read the response ({type(exc).__name__}: "
                f"{str(exc)[:200]})"
            ) from exc
