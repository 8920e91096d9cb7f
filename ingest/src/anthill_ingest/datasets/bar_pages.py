"""A page of bars from its bytes straight into Arrow columns, with every check the row parser makes.

A page the API documents (compact JSON, every bar with its numbers and a time) is read by Arrow's JSON reader
into columns: no Python object per bar, no second parse. Whatever that reader does not take, or any check on
its columns refuses (a missing field, a number that is not finite, a time out of range, a result that is not
an object, NaN anywhere in the body), sends the page down the row path it always took: the transport's body
check (:func:`~anthill_ingest.bodies.check_body`), the client's reading of the results
(:mod:`massive`'s models) and :func:`~anthill_ingest.datasets.bars.bar_row` per bar, so a malformed page fails
with the very error it always did, and a page only the row path reads still lands with the same rows.
Pure: no I/O.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from massive.rest.models import Agg, GroupedDailyAgg

from anthill_ingest.bodies import check_body, kind
from anthill_ingest.client import client_errors
from anthill_ingest.datasets.bars import SCHEMA, bar_row, short_keys
from anthill_ingest.datasets.base import DATE_COLUMN, Window
from anthill_ingest.errors import SchemaSurpriseError
from anthill_ingest.records import day_zone

MS_PER_DAY = 86_400_000
# Times the row path turns into the same millisecond exactly (a float of seconds rounded to microseconds):
# 1970 to 2109. A bar outside goes the row path, which reads it as it always did.
LATEST_MS = 2**42
NUMBERS = (("open", "o"), ("high", "h"), ("low", "l"), ("close", "c"), ("volume", "v"))
_BAR_FIELDS = [pa.field("t", pa.int64()), *(pa.field(key, pa.float64()) for _, key in NUMBERS),
               pa.field("vw", pa.float64()), pa.field("n", pa.int64())]  # fmt: skip


@dataclass(frozen=True)
class Bars:
    """What the bars of a page share: the client method that fetched them, the ticker (None: each result's
    ``T``, grouped daily's), the bar size and adjustment, and the day a grouped page is of (for reasons)."""

    method: str
    ticker: str | None
    multiplier: int
    timespan: str
    adjusted: bool
    day: datetime.date | None = None


@dataclass(frozen=True)
class Page:
    """A page's bars as a table of :data:`~anthill_ingest.datasets.bars.SCHEMA`, and the path and query of the
    page after it (None: the last), as the client's paging reads ``next_url``."""

    table: pa.Table
    next_path: str | bytes | None


def parse_page(raw: bytes, path: str, bars: Bars) -> Page:
    """The bars of the 200 body ``raw`` of ``path``. Raises MalformedResponseError for a body the API never
    sends, SchemaSurpriseError for results of another shape, as the transport and row parser always did."""
    page = _columns(raw, bars)
    return page if page is not None else _rows(raw, path, bars)


@cache
def _parse_options(grouped: bool, newlines: bool) -> pj.ParseOptions:
    fields = [pa.field("T", pa.string()), *_BAR_FIELDS] if grouped else _BAR_FIELDS
    # next_url is inferred, so that a body without one and a body whose next_url is null stay apart.
    schema = pa.schema([pa.field("results", pa.list_(pa.struct(fields)))])
    return pj.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=newlines
    )


def _read(raw: bytes, grouped: bool) -> pa.Table | None:
    """The body as Arrow reads it (one row, if it is one JSON object), or None where Arrow refuses it."""
    read = pj.ReadOptions(use_threads=False, block_size=len(raw) + 1)  # one block: the body is one object
    for newlines in (False, True):  # the API's bodies are one line; a body on several is read the slower way
        try:
            return pj.read_json(
                pa.py_buffer(raw), read_options=read, parse_options=_parse_options(grouped, newlines)
            )
        except pa.ArrowException:
            continue
    return None


def _columns(raw: bytes, bars: Bars) -> Page | None:
    """The page through Arrow's JSON reader, or None for anything it or these checks do not take."""
    body = _read(raw, bars.ticker is None)
    if (
        body is None
        or body.num_rows != 1
        or body["results"].null_count
        or not all(map(_finite, body.columns))
    ):
        return None
    next_path = None
    if "next_url" in body.column_names:
        next_url = body["next_url"]
        if not pa.types.is_string(next_url.type) or next_url.null_count:
            return None
        next_path = _next_path(next_url[0].as_py())
    results = body["results"].combine_chunks().flatten()
    if results.null_count:
        return None
    table = _table(results, bars)
    return None if table is None else Page(table, next_path)


def _finite(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether every floating-point value in ``column``, nested ones included, is finite."""
    kind_ = column.type
    if pa.types.is_floating(kind_):
        return pc.all(pc.is_finite(column)).as_py() is not False
    if pa.types.is_struct(kind_) or pa.types.is_list(kind_):
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        children = array.flatten() if pa.types.is_struct(kind_) else [array.flatten()]
        return all(map(_finite, children))
    return True


def _table(results: pa.StructArray, bars: Bars) -> pa.Table | None:
    """The results as bronze columns, or None where a required field is null or a time out of range."""
    required = ["t", *(key for _, key in NUMBERS)] + (["T"] if bars.ticker is None else [])
    if any(results.field(key).null_count for key in required):
        return None
    times = results.field("t")
    if len(times) and not 0 <= pc.min(times).as_py() <= pc.max(times).as_py() < LATEST_MS:
        return None
    size = len(results)
    ticker = results.field("T") if bars.ticker is None else pa.repeat(bars.ticker, size)
    return pa.Table.from_arrays([
        ticker,
        pa.repeat(pa.scalar(bars.multiplier, pa.int32()), size),
        pa.repeat(bars.timespan, size),
        times.view(pa.timestamp("ms", tz="UTC")),
        *(results.field(key) for _, key in NUMBERS),
        results.field("vw"),
        results.field("n"),
        pa.repeat(bars.adjusted, size),
    ], schema=SCHEMA)  # fmt: skip


def _rows(raw: bytes, path: str, bars: Bars) -> Page:
    """The page as the transport, the client and the row parser read it, one bar at a time."""
    check_body(raw, path)
    try:
        decoded = json.loads(raw.decode("utf-8"))  # the client's own reading (BaseClient._decode)
    except ValueError:
        return Page(SCHEMA.empty_table(), None)  # the client reads such a body as no results
    if "results" not in decoded:
        return Page(SCHEMA.empty_table(), None)
    reader: Callable[[Any], Any] = Agg.from_dict if bars.ticker is not None else GroupedDailyAgg.from_dict
    with client_errors(bars.method):
        aggs = [reader(result) for result in decoded["results"]]
    rows = [bar_row(short_keys(agg), bars.ticker or _ticker(agg.ticker, bars.day), bars.multiplier,
                    bars.timespan, bars.adjusted) for agg in aggs]  # fmt: skip
    next_path = None
    if bars.ticker is not None and "next_url" in decoded:  # grouped daily is one page
        with client_errors(bars.method):
            next_path = _next_path(decoded["next_url"])
    return Page(pa.Table.from_pylist(rows, schema=SCHEMA), next_path)


def _next_path(next_url: Any) -> str | bytes:
    """The path and query of ``next_url``, as the client's paging (BaseClient._paginate_iter) requests it."""
    parsed = urlparse(next_url)
    return parsed.path + "?" + parsed.query if parsed.query else parsed.path  # type: ignore[no-any-return]


def _ticker(ticker: object, day: datetime.date | None) -> str:
    if ticker is None:
        raise SchemaSurpriseError(f"grouped daily result without 'T' on {day}")
    if not isinstance(ticker, str):
        raise SchemaSurpriseError(f"grouped daily result on {day}: 'T' is {kind(ticker)}, not a string")
    return ticker


def dated(table: pa.Table, chunk: Window, asset_class: str) -> pa.Table:
    """``table``'s bars of the chunk with the market day each falls on as :data:`DATE_COLUMN` (the day of
    :func:`~anthill_ingest.datasets.bars.market_day`); a bar stamped outside the chunk (time zones at its
    edges) belongs to another chunk and is dropped."""
    times = table["ts"].combine_chunks().view(pa.int64()) if table.num_rows else pa.array([], pa.int64())
    days = pa.nulls(len(times), pa.int32())
    for start, end, first_day, length in _stretches(chunk, asset_class):
        inside = pc.and_(pc.greater_equal(times, start), pc.less(times, end))
        day = pc.add(pc.divide(pc.subtract(times, start), length), first_day).cast(pa.int32())
        days = pc.if_else(inside, day, days)
    return table.append_column(DATE_COLUMN, days.cast(pa.date32())).filter(pc.is_valid(days))


@lru_cache(maxsize=64)  # a chunk's pages share its stretches
def _stretches(chunk: Window, asset_class: str) -> tuple[tuple[int, int, int, int], ...]:
    """The chunk's days as runs of equally long days (the zone's UTC offset changes on a day of its own):
    (first instant, end instant, number of the first day since 1970, length of a day) of each, instants in
    epoch milliseconds, so that a bar's day is the first day plus whole days since the run's first instant."""
    zone = day_zone(asset_class)
    epoch = datetime.date(1970, 1, 1)
    one = datetime.timedelta(days=1)

    def midnight(day: datetime.date) -> int:
        return int(datetime.datetime.combine(day, datetime.time(), zone).timestamp()) * 1000

    stretches: list[tuple[int, int, int, int]] = []
    day = chunk.start
    while day <= chunk.end:
        first = day
        while day <= chunk.end and midnight(day + one) - midnight(day) == MS_PER_DAY:
            day += one
        if day > first:
            stretches.append((midnight(first), midnight(day), (first - epoch).days, MS_PER_DAY))
        if day <= chunk.end:  # a day of 23 or 25 hours
            length = midnight(day + one) - midnight(day)
            stretches.append((midnight(day), midnight(day + one), (day - epoch).days, length))
            day += one
    return tuple(stretches)
