"""Stream batches as bronze files, and the checkpoint of what is flushed.

| key (relative to ``spec.destination.uri``) | content |
|---|---|
| ``bronze/<ns>/<stream>/<channel>/stream/date=YYYY-MM-DD/<first event>-<digest>.parquet`` | one flush |
| ``_state/<ns>/streams/<stream>.json`` | per channel and ticker, the last event flushed |
| ``_quarantine/<ns>/<stream>/stream/<digest>.json`` | events of a flush that were no rows (another type), with the reason |

(:mod:`anthill_api.lake` holds the layout; a pipeline's silver reads ``<stream>/<channel>/`` as it reads a
feed's ``<feed>/<dataset>/``.)

A file's name comes from its content (the time of its first event and a digest of its bytes), so writing
the same batch again rewrites the same object, and the date is the events' UTC date: a batch that spans
midnight writes one file per date.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from anthill_api.lake import bronze_prefix, quarantine_prefix, stream_state_key
from anthill_ingest.sink import Sink
from anthill_ingest.stream.events import MS_PER_DAY, TIME_COLUMN, to_table

CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class Position:
    """The last event of a channel and ticker: its time (ms) and sequence number (None where there is none)."""

    time: int
    sequence: int | None = None


@dataclass
class Checkpoint:
    positions: dict[str, dict[str, Position]] = field(default_factory=dict)  # channel -> ticker -> position

    def advance(self, channel: str, table: pa.Table) -> None:
        """Move the channel's tickers to the last event of ``table``."""
        column = TIME_COLUMN[channel]
        aggregates = [(column, "max")]
        if "sequence_number" in table.column_names:
            aggregates.append(("sequence_number", "max"))
        grouped = (
            table.select(["ticker", *(c for c, _ in aggregates)]).group_by("ticker").aggregate(aggregates)
        )
        known = self.positions.setdefault(channel, {})
        times = pc.cast(grouped[f"{column}_max"], pa.int64()).to_pylist()
        sequences = grouped["sequence_number_max"].to_pylist() if len(aggregates) > 1 else [None] * len(times)
        for ticker, time, sequence in zip(grouped["ticker"].to_pylist(), times, sequences, strict=True):
            old = known.get(ticker)
            if old is None or (time, sequence or 0) > (old.time, old.sequence or 0):
                known[ticker] = Position(time, sequence)

    def merged(self, other: Checkpoint, channels: tuple[str, ...]) -> Checkpoint:
        """This checkpoint with ``channels`` taken from ``other`` (those ``other`` knows nothing of stay)."""
        taken = [c for c in channels if other.positions.get(c)]
        positions = {c: dict(p) for c, p in self.positions.items() if c not in taken}
        positions.update({c: dict(other.positions[c]) for c in taken})
        return Checkpoint({c: p for c, p in positions.items() if p})

    def earliest(self, channel: str) -> int | None:
        """The oldest position of the channel's tickers (where a ticker it does not know starts from)."""
        known = self.positions.get(channel) or {}
        return min((p.time for p in known.values()), default=None)

    def to_json(self) -> str:
        body = {"version": CHECKPOINT_VERSION, "channels": {
            channel: {t: {"time": p.time, "sequenceNumber": p.sequence} for t, p in sorted(known.items())}
            for channel, known in sorted(self.positions.items())}}  # fmt: skip
        return json.dumps(body, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Checkpoint:
        """Parse a checkpoint; one this version cannot read raises ValueError."""
        body = json.loads(raw)
        if not isinstance(body, dict) or body.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"not a version {CHECKPOINT_VERSION} stream checkpoint")
        positions: dict[str, dict[str, Position]] = {}
        for channel, known in body.get("channels", {}).items():
            positions[channel] = {
                t: Position(int(p["time"]), p.get("sequenceNumber")) for t, p in known.items()
            }
        return cls(positions)


def channel_prefix(namespace: str, stream: str, channel: str) -> str:
    return f"{bronze_prefix(namespace, stream)}/{channel}/stream"


def parquet_bytes(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def file_name(first_ms: int, data: bytes) -> str:
    """``<first event time, UTC>-<digest of the bytes>.parquet``: the same batch always gets the same name."""
    first = datetime.datetime.fromtimestamp(first_ms / 1000, datetime.UTC)
    return f"{first:%Y%m%dT%H%M%S}{first_ms % 1000:03d}Z-{hashlib.sha256(data).hexdigest()[:16]}.parquet"


def date_files(prefix: str, channel: str, table: pa.Table) -> list[tuple[str, bytes, pa.Table]]:
    """The table split by its events' UTC dates: (key, Parquet bytes, rows) per date, in date order."""
    if not table.num_rows:
        return []
    millis = pc.cast(table[TIME_COLUMN[channel]], pa.int64())
    days = pc.divide(millis, MS_PER_DAY)  # integer division: event times are after 1970
    out = []
    for day in sorted(pc.unique(days).to_pylist()):
        part = table.filter(pc.equal(days, day))
        data = parquet_bytes(part)
        first = pc.min(pc.cast(part[TIME_COLUMN[channel]], pa.int64())).as_py()
        date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
        out.append((f"{prefix}/date={date.isoformat()}/{file_name(first, data)}", data, part))
    return out


@dataclass
class Flushed:
    """What one write put in bronze."""

    rows: int = 0
    files: list[str] = field(default_factory=list)
    rejected: list[tuple[str, Any, str]] = field(default_factory=list)  # (channel, row, why)
    tables: dict[str, pa.Table] = field(default_factory=dict)  # per channel, the rows written (if kept)
    keep: bool = True  # a gap fill keeps none: it may write far more rows than it should hold


def write_rows(
    sink: Sink, namespace: str, stream: str, channel: str, rows: list[Any], flushed: Flushed
) -> None:
    """Write one channel's rows as bronze files (one per date), recording them in ``flushed``."""
    table, rejected = to_table(channel, rows)
    flushed.rejected += [(channel, row, why) for row, why in rejected]
    for key, data, part in date_files(channel_prefix(namespace, stream, channel), channel, table):
        sink.write(key, data)
        flushed.files.append(key)
        flushed.rows += part.num_rows
    if table.num_rows and flushed.keep:
        previous = flushed.tables.get(channel)
        flushed.tables[channel] = table if previous is None else pa.concat_tables([previous, table])


def write_batch(sink: Sink, namespace: str, stream: str, batch: dict[str, list[Any]]) -> Flushed:
    """Write ``batch`` (rows per channel) as bronze files."""
    flushed = Flushed()
    for channel, rows in sorted(batch.items()):
        write_rows(sink, namespace, stream, channel, rows, flushed)
    return flushed


def event_times(flushed: Flushed) -> list[pa.Array]:
    """The times (ms) of the events written, for the flush lag."""
    return [pc.cast(t[TIME_COLUMN[c]], pa.int64()).combine_chunks() for c, t in flushed.tables.items()]


def write_rejected(sink: Sink, namespace: str, stream: str, rejected: list[tuple[str, Any, str]]) -> str:
    """Keep events set aside as no rows under ``_quarantine/``, with the reason; the key names the content."""
    body = json.dumps([{"channel": c, "values": [_json_safe(v) for v in row], "reason": why}
                       for c, row, why in rejected], default=repr, allow_nan=False, indent=1).encode()  # fmt: skip
    key = f"{quarantine_prefix(namespace, stream)}/stream/{hashlib.sha256(body).hexdigest()[:16]}.json"
    sink.write(key, body)
    return key


def _json_safe(value: Any) -> Any:
    """A value as JSON holds it: NaN and infinities as their text (JSON has no such numbers)."""
    return repr(value) if isinstance(value, float) and not math.isfinite(value) else value


def read_checkpoint(sink: Sink, namespace: str, stream: str) -> Checkpoint | None:
    raw = sink.read(stream_state_key(namespace, stream))
    return None if raw is None else Checkpoint.from_json(raw)


def write_checkpoint(sink: Sink, namespace: str, stream: str, checkpoint: Checkpoint) -> None:
    sink.write(stream_state_key(namespace, stream), checkpoint.to_json().encode())
