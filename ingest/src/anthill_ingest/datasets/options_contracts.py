"""``optionsContracts``: the listed options of each underlying stock as of the run's date, a complete listing
filed under that date (fetched every run, like ``tickers``: a re-run replaces the day's object whole)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa

from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.client import MarketData
from anthill_ingest.config import ConfigError
from anthill_ingest.datasets.base import Progress, Row, Snapshot, Window, per_ticker
from anthill_ingest.records import day, number, optional, required, text

LIMIT = 1000


def contract_row(result: dict[str, Any]) -> Row:
    what = "options contract"
    return {
        "ticker": text(required(result, "ticker", what), "ticker", what),
        "underlying_ticker": text(required(result, "underlying_ticker", what), "underlying_ticker", what),
        "contract_type": text(required(result, "contract_type", what), "contract_type", what),
        "expiration_date": day(required(result, "expiration_date", what), "expiration_date", what),
        "strike_price": number(required(result, "strike_price", what), "strike_price", what),
        "exercise_style": optional(result, "exercise_style", what, text),
        "shares_per_contract": optional(result, "shares_per_contract", what, number),
        "primary_exchange": optional(result, "primary_exchange", what, text),
        "cfi": optional(result, "cfi", what, text),
    }


class OptionsContracts(Snapshot):
    name: ClassVar[str] = "optionsContracts"
    schema = pa.schema([
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("underlying_ticker", pa.string(), nullable=False),
        pa.field("contract_type", pa.string(), nullable=False),
        pa.field("expiration_date", pa.date32(), nullable=False),
        pa.field("strike_price", pa.float64(), nullable=False),
        pa.field("exercise_style", pa.string()),
        pa.field("shares_per_contract", pa.float64()),
        pa.field("primary_exchange", pa.string()),
        pa.field("cfi", pa.string()),
    ])  # fmt: skip
    sort_keys = ("underlying_ticker", "ticker")

    def check(self, spec: MarketFeedSpec) -> None:
        if not spec.tickers:
            raise ConfigError(
                "spec.tickers (the underlying stocks) is required when dataset is optionsContracts"
            )

    def describe(self, spec: MarketFeedSpec, window: Window, chunks: int) -> tuple[str, int]:
        return f"options contracts of {len(spec.tickers or [])} underlyings as of {window.end}", len(
            spec.tickers or []
        )

    def fetch(self, api: MarketData, spec: MarketFeedSpec, chunk: Window, progress: Progress,
              seen: set[str]) -> Iterator[Row]:  # fmt: skip
        def of(underlying: str) -> Iterator[Row]:
            for item in api.call(api.client.list_options_contracts, underlying_ticker=underlying, expired=False,
                                 as_of=chunk.end.isoformat(), limit=LIMIT):  # fmt: skip
                yield contract_row(vars(item))

        return per_ticker(spec.tickers or [], of, progress, seen)
