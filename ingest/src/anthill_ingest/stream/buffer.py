"""The micro-batch: events held as rows per channel until a flush is due.

A flush is due when ``max_rows`` events are held, or ``interval`` seconds after the oldest one arrived,
whichever comes first. Pure: the caller passes the (monotonic) clock in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from anthill_ingest.stream.events import Row, parse_frame

Batch = dict[str, list[Row]]


@dataclass
class Buffer:
    channels: frozenset[str]
    max_rows: int
    interval: float
    rows: Batch = field(init=False)
    opened: float | None = field(default=None, init=False)  # when the oldest held event arrived
    received: int = field(default=0, init=False)  # events since start
    malformed: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.rows = {channel: [] for channel in self.channels}

    @property
    def size(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def add_frame(self, events: Any, now: float) -> list[dict[str, Any]]:
        """Hold the frame's events; return its status messages."""
        before = self.size
        statuses, malformed = parse_frame(events, self.rows, self.channels)
        added = self.size - before
        self.received += added
        self.malformed += malformed
        if added and self.opened is None:
            self.opened = now
        return statuses

    def full(self) -> bool:
        return self.size >= self.max_rows

    def due(self, now: float) -> bool:
        return self.full() or (self.opened is not None and now - self.opened >= self.interval)

    def take(self) -> Batch:
        """The rows held, leaving the buffer empty."""
        batch = {channel: rows for channel, rows in self.rows.items() if rows}
        self.rows = {channel: [] for channel in self.channels}
        self.opened = None
        return batch

    def set_channels(self, channels: frozenset[str]) -> None:
        """Follow a spec edit: rows of a channel no longer streamed are still flushed."""
        self.channels = channels
        for channel in channels:
            self.rows.setdefault(channel, [])
