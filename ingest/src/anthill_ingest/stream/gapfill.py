"""Gap fill: the trades and quotes a stream missed while it was down, from the REST API into bronze.

From each ticker's checkpoint position to the time the new connection was subscribed, through the massive
client's ``list_trades``/``list_quotes`` with the batch ingestion's retry policy. The range starts AT the
last event flushed, so it overlaps what bronze holds by at least one event: silver's dedupe on
``(ticker, sequence_number)`` drops the overlap. Aggregates are not filled: silver rebuilds bars from trades.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from massive.exceptions import BadResponse

from anthill_ingest.client import MarketData
from anthill_ingest.errors import UpstreamError
from anthill_ingest.sink import Sink
from anthill_ingest.stream.bronze import Checkpoint, Flushed, write_rows
from anthill_ingest.stream.events import NS_PER_MS, Row, filled_channels, rest_quote, rest_trade

PAGE_LIMIT = 50_000


@dataclass(frozen=True)
class Gap:
    channel: str
    ticker: str
    start_ms: int  # inclusive
    end_ms: int  # exclusive


def gaps(
    checkpoint: Checkpoint, channels: Iterable[str], tickers: list[str] | None, end_ms: int, asset_class: str
) -> list[Gap]:
    """The ranges to fill: per filled channel, each ticker (``None``: the tickers the checkpoint knows) from
    its position, or from the channel's oldest position for a ticker it does not know, to ``end_ms``."""
    out = []
    for channel in sorted(set(channels) & set(filled_channels(asset_class))):
        known = checkpoint.positions.get(channel) or {}
        earliest = checkpoint.earliest(channel)
        if earliest is None:
            continue  # nothing of this channel was ever flushed: there is no gap, only a start
        for ticker in sorted(known if tickers is None else tickers):
            start = known[ticker].time if ticker in known else earliest
            if start < end_ms:
                out.append(Gap(channel, ticker, start, end_ms))
    return out


def _results(api: MarketData, gap: Gap) -> Iterator[Row]:
    method = api.client.list_trades if gap.channel == "trades" else api.client.list_quotes
    parse = rest_trade if gap.channel == "trades" else rest_quote
    try:
        for result in method(gap.ticker, timestamp_gte=gap.start_ms * NS_PER_MS,
                             timestamp_lt=gap.end_ms * NS_PER_MS, sort="timestamp", order="asc",
                             limit=PAGE_LIMIT):  # fmt: skip
            yield parse(gap.ticker, result)
    except BadResponse as exc:
        raise UpstreamError(
            f"gap fill of {gap.channel} {gap.ticker}: the API answered {str(exc)[:300]}"
        ) from exc


def fill(api: MarketData, sink: Sink, namespace: str, stream: str, gap_list: list[Gap], max_rows: int,
         stop: threading.Event) -> Flushed:  # fmt: skip
    """Fetch every gap into bronze, ``max_rows`` rows per write at most; stop early when ``stop`` is set."""
    flushed = Flushed(keep=False)
    for gap in gap_list:
        rows: list[Row] = []
        for row in _results(api, gap):
            rows.append(row)
            if len(rows) >= max_rows:
                write_rows(sink, namespace, stream, gap.channel, rows, flushed)
                rows = []
            if stop.is_set():
                return flushed
        write_rows(sink, namespace, stream, gap.channel, rows, flushed)
    return flushed
