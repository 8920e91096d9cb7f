"""``news``: articles about each ticker, one row per article and ticker, filed under the UTC date it was
published.

A run asks for what was published from the window's start through its last day; the watermark is that day,
and the lookback asks again for the two market days before it, so an article published late in a day (or
corrected) is picked up. An article about several of the feed's tickers is a row for each, with that
ticker's sentiment from the vendor's insights.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.client import MarketData
from anthill_ingest.config import ConfigError
from anthill_ingest.datasets.base import PerTickerEvents, Progress, Row, Window, per_ticker
from anthill_ingest.errors import SchemaSurpriseError
from anthill_ingest.records import optional, required, text

LIMIT = 1000
WORDS = pa.list_(pa.string())


def _instant(value: Any, key: str, what: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text(value, key, what).replace("Z", "+00:00"))
    except ValueError:
        raise SchemaSurpriseError(f"{what}: {key!r} is {str(value)[:40]!r}, not a time") from None
    if moment.tzinfo is None:
        raise SchemaSurpriseError(f"{what}: {key!r} is {str(value)[:40]!r}, a time without its zone")
    return moment.astimezone(datetime.UTC)


def _words(value: Any, key: str, what: str) -> list[str]:
    if not isinstance(value, list):
        raise SchemaSurpriseError(f"{what}: {key!r} is not a list")
    return [text(word, key, what) for word in value]


def news_row(result: dict[str, Any], ticker: str) -> Row:
    """One article (the client's TickerNews, as a dict of its fields) as ``ticker``'s bronze row."""
    what = "news article"
    insight = next((i for i in result.get("insights") or [] if getattr(i, "ticker", None) == ticker), None)
    publisher = result.get("publisher")
    return {
        "id": text(required(result, "id", what), "id", what),
        "ticker": ticker,
        "published_utc": _instant(required(result, "published_utc", what), "published_utc", what),
        "title": text(required(result, "title", what), "title", what),
        "author": optional(result, "author", what, text),
        "publisher": optional({"publisher": getattr(publisher, "name", None)}, "publisher", what, text),
        "article_url": optional(result, "article_url", what, text),
        "tickers": optional(result, "tickers", what, _words),
        "description": optional(result, "description", what, text),
        "keywords": optional(result, "keywords", what, _words),
        "sentiment": optional({"sentiment": getattr(insight, "sentiment", None)}, "sentiment", what, text),
    }


class News(PerTickerEvents):
    name: ClassVar[str] = "news"
    schema = pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("published_utc", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("author", pa.string()),
        pa.field("publisher", pa.string()),
        pa.field("article_url", pa.string()),
        pa.field("tickers", WORDS),
        pa.field("description", pa.string()),
        pa.field("keywords", WORDS),
        pa.field("sentiment", pa.string()),
    ])  # fmt: skip
    sort_keys = ("ticker", "published_utc", "id")
    stamped_in_chunk = True

    def check(self, spec: MarketFeedSpec) -> None:
        if not spec.tickers:
            raise ConfigError("spec.tickers is required when dataset is news")

    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        after = chunk.end + datetime.timedelta(days=1)

        def of(ticker: str) -> Iterator[Row]:
            for item in api.call(api.client.list_ticker_news, ticker=ticker, limit=LIMIT, order="asc",
                                 sort="published_utc", published_utc_gte=chunk.start.isoformat(),
                                 published_utc_lt=after.isoformat()):  # fmt: skip
                yield news_row(vars(item), ticker)

        return per_ticker(spec.tickers or [], of, progress, seen)

    def partition_date(self, row: Row, run_date: datetime.date, asset_class: str) -> datetime.date:
        published: datetime.datetime = row["published_utc"]
        return published.date()
