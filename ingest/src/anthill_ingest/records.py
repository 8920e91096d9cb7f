"""Parsing API results into bronze rows, field by field, as every dataset module does.

Rows carry no wall-clock values, so fetching the same window twice produces the same rows, and the same
Parquet bytes. A result missing a required field, or holding a value of another type than the API documents
(a price as a string, a date that is not one), is a schema surprise: never a row with nulls, never coerced.
"""

from __future__ import annotations

import datetime
import math
from typing import Any
from zoneinfo import ZoneInfo

from anthill_ingest.bodies import kind
from anthill_ingest.errors import SchemaSurpriseError

NEW_YORK = ZoneInfo("America/New_York")
UTC_DAY_MARKETS = frozenset({"crypto", "forex"})  # the API's daily bars of these start at 00:00 UTC


def required(result: dict[str, Any], key: str, what: str) -> Any:
    value = result.get(key)
    if value is None:
        raise SchemaSurpriseError(f"{what} result without {key!r}: {sorted(result)}")
    return value


def number(value: Any, key: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaSurpriseError(f"{what}: {key!r} is {kind(value)}, not a number")
    if not math.isfinite(value):
        raise SchemaSurpriseError(f"{what}: {key!r} is {value}, not a finite number")
    return float(value)


def integer(value: Any, key: str, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = value if isinstance(value, float) else kind(value)
        raise SchemaSurpriseError(f"{what}: {key!r} is {shown}, not an integer")
    return value


def text(value: Any, key: str, what: str) -> str:
    if not isinstance(value, str):
        raise SchemaSurpriseError(f"{what}: {key!r} is {kind(value)}, not a string")
    return value


def optional(result: dict[str, Any], key: str, what: str, parse: Any) -> Any:
    value = result.get(key)
    return None if value is None else parse(value, key, what)


def flag(value: Any, key: str, what: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaSurpriseError(f"{what}: {key!r} is {kind(value)}, not a boolean")
    return value


def day(value: Any, key: str, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text(value, key, what))
    except ValueError:
        raise SchemaSurpriseError(f"{what}: {key!r} is {str(value)[:40]!r}, not a date") from None


def time_ms(value: Any, key: str, what: str) -> datetime.datetime:
    millis = integer(value, key, what)
    try:
        return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise SchemaSurpriseError(f"{what}: {key!r} is not a time: {str(millis)[:40]} ms") from None


def day_zone(asset_class: str) -> datetime.tzinfo:
    """The zone whose calendar days are ``asset_class``'s market days: UTC for crypto and forex, whose daily
    bars are UTC days, New York for the US markets."""
    return datetime.UTC if asset_class in UTC_DAY_MARKETS else NEW_YORK
