"""``splits``: stock splits per ticker, filed under their execution date (the watermark as for dividends)."""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from anthill_ingest.datasets.base import DatedEvents, Row
from anthill_ingest.records import day, number, required, text


def split_row(result: dict[str, Any]) -> Row:
    what = "split"
    return {
        "id": text(required(result, "id", what), "id", what),
        "ticker": text(required(result, "ticker", what), "ticker", what),
        "execution_date": day(required(result, "execution_date", what), "execution_date", what),
        "split_from": number(required(result, "split_from", what), "split_from", what),
        "split_to": number(required(result, "split_to", what), "split_to", what),
    }


class Splits(DatedEvents):
    name: ClassVar[str] = "splits"
    method = "list_splits"
    date_field = "execution_date"
    schema = pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("execution_date", pa.date32(), nullable=False),
        pa.field("split_from", pa.float64(), nullable=False),
        pa.field("split_to", pa.float64(), nullable=False),
    ])  # fmt: skip
    sort_keys = ("ticker", "id")

    def row(self, result: dict[str, Any], _ticker: str, /) -> Row:
        return split_row(result)
