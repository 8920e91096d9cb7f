"""``financials``: each ticker's income statements, quarterly and annual, filed under the day they were filed.

A run asks for the statements filed on or after the window's start (``/stocks/financials/v1/income-statements``);
the watermark is the window's last day, and the lookback asks again for the two market days before it, so a
statement filed late in a day is picked up. A statement is keyed by its ticker, period end and timeframe.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.config import ConfigError
from anthill_ingest.datasets.base import DatedEvents, Row, Window
from anthill_ingest.records import day, integer, number, optional, required, text

# (bronze column, the API's field): the statement's headline lines.
LINES = (
    ("revenue", "revenue"),
    ("gross_profit", "gross_profit"),
    ("operating_income", "operating_income"),
    ("net_income", "consolidated_net_income_loss"),
    ("diluted_eps", "diluted_earnings_per_share"),
    ("diluted_shares", "diluted_shares_outstanding"),
)


def statement_row(result: dict[str, Any], ticker: str) -> Row:
    """One income statement (the client's FinancialIncomeStatement, as a dict of its fields) for ``ticker``."""
    what = "income statement"
    period_end = day(required(result, "period_end", what), "period_end", what)
    timeframe = text(required(result, "timeframe", what), "timeframe", what)
    return {
        "id": f"{ticker}:{period_end}:{timeframe}",
        "ticker": ticker,
        "cik": optional(result, "cik", what, text),
        "period_end": period_end,
        "filing_date": day(required(result, "filing_date", what), "filing_date", what),
        "fiscal_year": integer(required(result, "fiscal_year", what), "fiscal_year", what),
        "fiscal_quarter": optional(result, "fiscal_quarter", what, integer),
        "timeframe": timeframe,
        **{column: optional(result, field, what, number) for column, field in LINES},
    }


class Financials(DatedEvents):
    name: ClassVar[str] = "financials"
    method = "list_financials_income_statements"
    date_field = "filing_date"
    schema = pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("cik", pa.string()),
        pa.field("period_end", pa.date32(), nullable=False),
        pa.field("filing_date", pa.date32(), nullable=False),
        pa.field("fiscal_year", pa.int32(), nullable=False),
        pa.field("fiscal_quarter", pa.int32()),
        pa.field("timeframe", pa.string(), nullable=False),
        *(pa.field(column, pa.float64()) for column, _ in LINES),
    ])  # fmt: skip
    sort_keys = ("ticker", "id")

    def check(self, spec: MarketFeedSpec) -> None:
        if not spec.tickers:
            raise ConfigError("spec.tickers is required when dataset is financials")

    def query(self, ticker: str, chunk: Window) -> dict[str, Any]:
        """The statements filed in the chunk (the endpoint takes ``tickers`` and has no ``order``: ``sort`` is
        by filing date, ascending)."""
        return {"tickers": ticker, "filing_date_gte": chunk.start.isoformat(),
                "filing_date_lte": chunk.end.isoformat(), "sort": "filing_date", "limit": self.limit}  # fmt: skip

    def row(self, result: dict[str, Any], ticker: str, /) -> Row:
        return statement_row(result, ticker)
