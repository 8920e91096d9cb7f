"""Market data through the real ``massive`` client, with Anthill's HTTP policy underneath it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from massive import RESTClient
from massive.exceptions import BadResponse

from anthill_ingest.errors import SchemaSurpriseError, UpstreamError
from anthill_ingest.transport import PolicyPool, RetryPolicy, TokenBucket


@contextmanager
def client_errors(name: str) -> Iterator[None]:
    """Within, the client's BadResponse is an UpstreamError, and its failure to read a response a schema
    surprise (quarantined, with a reason), not a traceback; ``name`` is the client method's."""
    try:
        yield
    except BadResponse as exc:
        raise UpstreamError(f"{name}: the API answered {str(exc)[:300]}") from exc
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SchemaSurpriseError(
            f"{name}: the client could not read the response ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc


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
        with client_errors(method.__name__):
            yield from method(*args, **kwargs)

    def raw_page(self, method: Any, *args: Any, **kwargs: Any) -> tuple[str, bytes]:
        """The first page of a client method's results as the body's bytes (the client's ``raw=True``), with
        the URL path it came from. The transport does not check the body: the caller's parser does
        (:meth:`PolicyPool.bodies_checked_by_caller`)."""
        with client_errors(method.__name__), self.pool.bodies_checked_by_caller():
            response = method(*args, raw=True, **kwargs)
        return self.pool.last_path, response.data

    def next_raw_page(self, name: str, next_path: str | bytes) -> tuple[str, bytes]:
        """The page at ``next_path`` (a ``next_url``'s path and query, as the client's own paging reads it)
        as :meth:`raw_page` returns it; ``name`` is the method whose pages these are."""
        with client_errors(name), self.pool.bodies_checked_by_caller():
            # What the client's paging (BaseClient._paginate_iter) requests for a next_url.
            response = self.client._get(path=next_path, params={}, raw=True)
        return self.pool.last_path, response.data
