"""Bronze rows of the stream: WebSocket events and REST v3 results parsed into the SAME rows.

A trade streamed and the same trade fetched by a gap fill give equal tuples (same columns, same values), so
silver's dedupe on ``(ticker, sequence_number)`` (aggregates: ``(ticker, start)``) removes a fill's overlap.
Times are the event's SIP time in milliseconds, what the WebSocket API sends; the REST API's nanoseconds are
truncated to match. Rows carry no wall-clock value. The crypto feed sends no sequence numbers: crypto rows
have none, whichever way they came (silver keys crypto trades by ``(ticker, id)``).

Events are parsed straight into tuples in schema order, one per event; a flush turns them into Arrow
columns. A value of the wrong type is found then, and only the rows holding one are set aside.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from anthill_ingest.bodies import kind

MS_PER_DAY = 86_400_000
NS_PER_MS = 1_000_000
TIME = pa.timestamp("ms", tz="UTC")
CONDITIONS = pa.list_(pa.int32())

TRADES = pa.schema([
    pa.field("ticker", pa.string(), nullable=False),
    pa.field("ts", TIME, nullable=False),
    pa.field("sequence_number", pa.int64()),
    pa.field("id", pa.string()),
    pa.field("exchange", pa.int32()),
    pa.field("tape", pa.int32()),
    pa.field("price", pa.float64(), nullable=False),
    pa.field("size", pa.float64(), nullable=False),
    pa.field("conditions", CONDITIONS),
])  # fmt: skip
QUOTES = pa.schema([
    pa.field("ticker", pa.string(), nullable=False),
    pa.field("ts", TIME, nullable=False),
    pa.field("sequence_number", pa.int64()),
    pa.field("bid_exchange", pa.int32()),
    pa.field("bid_price", pa.float64(), nullable=False),
    pa.field("bid_size", pa.float64(), nullable=False),
    pa.field("ask_exchange", pa.int32()),
    pa.field("ask_price", pa.float64(), nullable=False),
    pa.field("ask_size", pa.float64(), nullable=False),
    pa.field("conditions", CONDITIONS),
    pa.field("tape", pa.int32()),
])  # fmt: skip
AGGREGATES = pa.schema([
    pa.field("ticker", pa.string(), nullable=False),
    pa.field("start", TIME, nullable=False),
    pa.field("end", TIME, nullable=False),
    pa.field("open", pa.float64(), nullable=False),
    pa.field("high", pa.float64(), nullable=False),
    pa.field("low", pa.float64(), nullable=False),
    pa.field("close", pa.float64(), nullable=False),
    pa.field("volume", pa.float64(), nullable=False),
    pa.field("vwap", pa.float64()),
    pa.field("day_volume", pa.float64()),
    pa.field("day_open", pa.float64()),
    pa.field("day_vwap", pa.float64()),
    pa.field("average_size", pa.float64()),
])  # fmt: skip

SCHEMAS = {"trades": TRADES, "quotes": QUOTES, "secondAggregates": AGGREGATES, "minuteAggregates": AGGREGATES}
# The column a row's date partition and checkpoint position come from, and the key silver dedupes on.
TIME_COLUMN = {"trades": "ts", "quotes": "ts", "secondAggregates": "start", "minuteAggregates": "start"}
SORT_KEYS = {"trades": ["ticker", "ts", "sequence_number"], "quotes": ["ticker", "ts", "sequence_number"],
             "secondAggregates": ["ticker", "start"], "minuteAggregates": ["ticker", "start"]}  # fmt: skip
EVENT_CHANNELS = {"T": "trades", "XT": "trades", "Q": "quotes", "XQ": "quotes", "A": "secondAggregates",
                  "XAS": "secondAggregates", "AM": "minuteAggregates", "XA": "minuteAggregates"}  # fmt: skip
FILLED_CHANNELS = ("trades", "quotes")  # the REST API has these; silver rebuilds bars from trades


def filled_channels(asset_class: str) -> tuple[str, ...]:
    """The channels a gap fill fetches: trades and quotes, but only trades for crypto, whose streamed quotes
    carry neither a sequence number nor both sides' exchanges, so a fetched quote would not be the same row."""
    return ("trades",) if asset_class == "crypto" else FILLED_CHANNELS


Row = tuple[Any, ...]


def _ticker(event: dict[str, Any]) -> str:
    """``sym`` of a stock or option event; a crypto event's ``pair`` (BTC-USD) as the ticker (X:BTCUSD)."""
    sym: str | None = event.get("sym")
    if sym is not None:
        return sym
    pair: str = event["pair"]
    return "X:" + pair.replace("-", "")


def _conditions(value: Any) -> Any:
    """One shape for both APIs: a list, or None for none (a quote's ``c`` is a single code on the stream)."""
    if value is None or value == []:
        return None
    return value if isinstance(value, list) else [value]


def trade_event(e: dict[str, Any]) -> Row:
    return (_ticker(e), e["t"], e.get("q"), e.get("i"), e.get("x"), e.get("z"), e["p"], e["s"],
            _conditions(e.get("c")))  # fmt: skip


def quote_event(e: dict[str, Any]) -> Row:
    if "pair" in e:  # crypto: one exchange per quote
        return (_ticker(e), e["t"], None, e.get("x"), e["bp"], e["bs"], e.get("x"), e["ap"], e["as"], None,
                None)  # fmt: skip
    return (e["sym"], e["t"], e.get("q"), e.get("bx"), e["bp"], e["bs"], e.get("ax"), e["ap"], e["as"],
            _conditions(e.get("c")), e.get("z"))  # fmt: skip


def aggregate_event(e: dict[str, Any]) -> Row:
    return (_ticker(e), e["s"], e["e"], e["o"], e["h"], e["l"], e["c"], e["v"], e.get("vw"), e.get("av"),
            e.get("op"), e.get("a"), e.get("z"))  # fmt: skip


PARSERS: dict[str, Callable[[dict[str, Any]], Row]] = {
    "trades": trade_event,
    "quotes": quote_event,
    "secondAggregates": aggregate_event,
    "minuteAggregates": aggregate_event,
}
EVENT_PARSERS = {ev: PARSERS[channel] for ev, channel in EVENT_CHANNELS.items()}


def _ms(ns: Any) -> Any:
    return ns // NS_PER_MS if isinstance(ns, int) and not isinstance(ns, bool) else ns


def rest_trade(ticker: str, t: Any) -> Row:
    """A ``/v3/trades`` result (the massive client's ``Trade``) as the row its streamed event gives."""
    sequence = None if ticker.startswith("X:") else t.sequence_number
    return (ticker, _ms(t.sip_timestamp), sequence, t.id, t.exchange, t.tape, t.price, t.size,
            _conditions(t.conditions))  # fmt: skip


def rest_quote(ticker: str, q: Any) -> Row:
    """A ``/v3/quotes`` result (the massive client's ``Quote``) as the row its streamed event gives."""
    return (ticker, _ms(q.sip_timestamp), q.sequence_number, q.bid_exchange, q.bid_price, q.bid_size,
            q.ask_exchange, q.ask_price, q.ask_size, _conditions(q.conditions), q.tape)  # fmt: skip


def parse_frame(
    events: Any, rows: dict[str, list[Row]], channels: frozenset[str]
) -> tuple[list[dict[str, Any]], int]:
    """Append the frame's events of ``channels`` to ``rows[channel]``; return its status messages and the
    number of events that were not events of a known shape (set aside, counted)."""
    if not isinstance(events, list):
        return [], 1
    statuses: list[dict[str, Any]] = []
    malformed = 0
    for event in events:
        try:
            ev = event["ev"]
            parse = EVENT_PARSERS.get(ev)
            if parse is None:
                if ev == "status":
                    statuses.append(event)
                else:
                    malformed += 1
                continue
            channel = EVENT_CHANNELS[ev]
            if channel in channels:
                rows[channel].append(parse(event))
        except (KeyError, TypeError, AttributeError):
            malformed += 1
    return statuses, malformed


def to_table(channel: str, rows: list[Row]) -> tuple[pa.Table, list[tuple[Row, str]]]:
    """The rows as an Arrow table in a stable order, and the rows set aside with the reason.

    The whole batch converts at once; only when that fails is each row checked, so one bad value costs
    its row, not the batch."""
    schema = SCHEMAS[channel]
    rejected: list[tuple[Row, str]] = []
    try:
        table = _columns(schema, rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        good = []
        for row in rows:
            if (why := check_row(schema, row)) is None:
                good.append(row)
            else:
                rejected.append((row, why))
        table = _columns(schema, good)
    return table.sort_by([(key, "ascending") for key in SORT_KEYS[channel]]), rejected


def _columns(schema: pa.Schema, rows: list[Row]) -> pa.Table:
    if not rows:
        return schema.empty_table()
    arrays = [
        pa.array(column, type=field.type)
        for column, field in zip(zip(*rows, strict=True), schema, strict=True)
    ]
    for array, field in zip(arrays, schema, strict=True):
        if not field.nullable and array.null_count:
            raise ValueError(f"{field.name} is missing")
    for array, field in zip(arrays, schema, strict=True):
        if pa.types.is_floating(field.type) and not _finite(array):
            raise ValueError(f"{field.name} is not finite")
    return pa.Table.from_arrays(arrays, schema=schema)


def _finite(array: pa.Array) -> bool:
    return bool(pc.all(pc.is_finite(array.fill_null(0.0))).as_py())


def check_row(schema: pa.Schema, row: Row) -> str | None:
    """Why ``row`` is no row of ``schema`` (a missing value, another type), or None when it is one."""
    if len(row) != len(schema):
        return f"{len(row)} values, not {len(schema)}"
    for value, field in zip(row, schema, strict=True):
        if value is None:
            if not field.nullable:
                return f"{field.name} is missing"
            continue
        if (why := _check_value(value, field.type)) is not None:
            return f"{field.name} is {why}"
    return None


def _check_value(value: Any, type_: pa.DataType) -> str | None:
    """Why ``value`` is not of ``type_`` (timestamps are integer milliseconds), or None."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if pa.types.is_string(type_):
        return None if isinstance(value, str) else kind(value)
    if pa.types.is_floating(type_):
        return None if number and math.isfinite(value) else (repr(value) if number else kind(value))
    if pa.types.is_list(type_):
        ok = isinstance(value, list) and all(_check_value(v, type_.value_type) is None for v in value)
        return None if ok else f"{kind(value)}, not a list of integers"
    if not number or isinstance(value, float):
        return f"{kind(value)}, not an integer"
    bits = type_.bit_width if pa.types.is_integer(type_) else 64
    return None if -(2 ** (bits - 1)) <= value < 2 ** (bits - 1) else f"{str(value)[:30]}, out of range"
