"""Market data through the real ``massive`` client, with Anthill's HTTP policy underneath it."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from massive import RESTClient
from massive.exceptions import BadResponse

from anthill_ingest import records
from anthill_ingest.bodies import kind
from anthill_ingest.errors import SchemaSurpriseError, UpstreamError
from anthill_ingest.transport import PolicyPool, RetryPolicy, TokenBucket

AGGS_LIMIT = 50_000
REFERENCE_LIMIT = 1000
TICKER_MARKETS = {
    "stocks": "stocks",
    "indices": "indices",
    "crypto": "crypto",
    "forex": "fx",
    "options": "options",
}
# (locale, market) of the grouped daily endpoint per asset class: US stocks, the global crypto and fx markets.
GROUPED_DAILY_MARKETS = {
    "stocks": ("us", "stocks"),
    "crypto": ("global", "crypto"),
    "forex": ("global", "fx"),
}


class MarketData:
    """The endpoints Anthill ingests, as bronze rows."""

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

    def aggregates(self, ticker: str, multiplier: int, timespan: str, start: datetime.date, end: datetime.date,
                   adjusted: bool) -> Iterator[dict[str, Any]]:  # fmt: skip
        """Bars from ``start`` to ``end``, both inclusive: dates, or datetimes for exact instants."""
        for agg in self._call(self.client.list_aggs, ticker, multiplier, timespan, _bound(start), _bound(end),
                              adjusted=adjusted, sort="asc", limit=AGGS_LIMIT):  # fmt: skip
            yield records.bar_row(_short_keys(agg), ticker, multiplier, timespan, adjusted)

    def grouped_daily(self, day: datetime.date, asset_class: str, adjusted: bool) -> Iterator[dict[str, Any]]:
        locale, market = GROUPED_DAILY_MARKETS[asset_class]
        for agg in self._call(self.client.get_grouped_daily_aggs, day.isoformat(), adjusted=adjusted,
                              locale=locale, market_type=market):  # fmt: skip
            ticker = agg.ticker
            if ticker is None:
                raise SchemaSurpriseError(f"grouped daily result without 'T' on {day}")
            if not isinstance(ticker, str):
                raise SchemaSurpriseError(
                    f"grouped daily result on {day}: 'T' is {kind(ticker)}, not a string"
                )
            yield records.bar_row(_short_keys(agg), ticker, 1, "day", adjusted)

    def dividends(self, ticker: str, start: datetime.date) -> Iterator[dict[str, Any]]:
        for item in self._call(self.client.list_dividends, ticker=ticker, ex_dividend_date_gte=start.isoformat(),
                               limit=REFERENCE_LIMIT, order="asc", sort="ex_dividend_date"):  # fmt: skip
            yield records.dividend_row(vars(item))

    def splits(self, ticker: str, start: datetime.date) -> Iterator[dict[str, Any]]:
        for item in self._call(self.client.list_splits, ticker=ticker, execution_date_gte=start.isoformat(),
                               limit=REFERENCE_LIMIT, order="asc", sort="execution_date"):  # fmt: skip
            yield records.split_row(vars(item))

    def tickers(self, asset_class: str) -> Iterator[dict[str, Any]]:
        for item in self._call(self.client.list_tickers, market=TICKER_MARKETS[asset_class], active=True,
                               limit=REFERENCE_LIMIT):  # fmt: skip
            yield records.ticker_row(vars(item))

    def market_holidays(self) -> Iterator[dict[str, Any]]:
        for item in self._call(self.client.get_market_holidays):
            yield records.holiday_row(vars(item))

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
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


def _bound(value: datetime.date) -> str | datetime.datetime:
    """A range bound as the client takes it: a date as YYYY-MM-DD, a datetime as is (sent as epoch ms)."""
    return value if isinstance(value, datetime.datetime) else value.isoformat()


def _short_keys(agg: Any) -> dict[str, Any]:
    """A massive Agg back in the wire's short keys, so one parser checks both wire and client shapes."""
    return {"o": agg.open, "h": agg.high, "l": agg.low, "c": agg.close, "v": agg.volume, "vw": agg.vwap,
            "t": agg.timestamp, "n": agg.transactions}  # fmt: skip
