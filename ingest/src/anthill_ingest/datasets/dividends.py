"""``dividends``: cash dividends per ticker, filed under their ex-dividend date.

Each run asks for the dividends whose ex-date is on or after the window's start; the watermark is the last
day of the window asked for, and the lookback re-asks two market days, so a late declaration is picked up.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from anthill_ingest.datasets.base import DatedEvents, Row
from anthill_ingest.records import day, integer, number, optional, required, text


def dividend_row(result: dict[str, Any]) -> Row:
    what = "dividend"
    return {
        "id": text(required(result, "id", what), "id", what),
        "ticker": text(required(result, "ticker", what), "ticker", what),
        "ex_dividend_date": day(required(result, "ex_dividend_date", what), "ex_dividend_date", what),
        "cash_amount": number(required(result, "cash_amount", what), "cash_amount", what),
        "currency": optional(result, "currency", what, text),
        "declaration_date": optional(result, "declaration_date", what, day),
        "record_date": optional(result, "record_date", what, day),
        "pay_date": optional(result, "pay_date", what, day),
        "frequency": optional(result, "frequency", what, integer),
        "dividend_type": optional(result, "dividend_type", what, text),
    }


class Dividends(DatedEvents):
    name: ClassVar[str] = "dividends"
    method = "list_dividends"
    date_field = "ex_dividend_date"
    schema = pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("ex_dividend_date", pa.date32(), nullable=False),
        pa.field("cash_amount", pa.float64(), nullable=False),
        pa.field("currency", pa.string()),
        pa.field("declaration_date", pa.date32()),
        pa.field("record_date", pa.date32()),
        pa.field("pay_date", pa.date32()),
        pa.field("frequency", pa.int32()),
        pa.field("dividend_type", pa.string()),
    ])  # fmt: skip
    sort_keys = ("ticker", "id")

    def row(self, result: dict[str, Any], _ticker: str, /) -> Row:
        return dividend_row(result)
