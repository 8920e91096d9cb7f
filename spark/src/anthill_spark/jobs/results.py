"""What a gold build reports, whichever kind of table it built."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass
class GoldResult:
    """What one gold build did: rows written, and the first date (or minute, for per-minute tables) rebuilt
    (None: the whole table)."""

    rows: int
    since: datetime.date | None
    skipped: bool = False

    @property
    def mode(self) -> str:
        if self.skipped:
            return "up to date"
        return "full" if self.since is None else f"incremental from {self.since}"
