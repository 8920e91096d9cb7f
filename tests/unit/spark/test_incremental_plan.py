"""Which gold rows an incremental run rebuilds, decided without Spark running."""

from __future__ import annotations

import datetime
import os
import time

from anthill_spark.jobs.gold import GOLD_TABLES, Changes
from anthill_spark.jobs.silver import utc

D = datetime.date


def test_a_changed_dividend_rebuilds_only_the_table_that_reads_dividends() -> None:
    changes = Changes(bars=None, dividends=D(2023, 5, 10), splits=False)
    since = {name: changes.since(table) for name, table in GOLD_TABLES.items()}
    assert since == dict.fromkeys(GOLD_TABLES, None) | {"yearly_performance": D(2023, 5, 10)}


def test_the_earliest_change_wins() -> None:
    changes = Changes(bars=D(2024, 3, 1), dividends=D(2024, 2, 1), splits=False)
    assert changes.since(GOLD_TABLES["yearly_performance"]) == D(2024, 2, 1)
    assert changes.since(GOLD_TABLES["volatility"]) == D(2024, 3, 1)
    assert Changes(None, None, splits=False).since(GOLD_TABLES["drawdowns"]) is None


def test_watermarks_are_recorded_in_utc_whatever_the_machine_zone() -> None:
    """PySpark hands back naive local times; recorded as if they were UTC, a machine east of UTC would skip
    an hour of bronze files on the next run."""
    original = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    try:
        local_naive = datetime.datetime(2026, 1, 15, 13, 0)  # 13:00 in Berlin in winter
        assert utc(local_naive) == datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.UTC)
        aware = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.UTC)
        assert utc(aware) == aware
    finally:
        if original is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = original
        time.tzset()


def test_rows_after_the_last_built_day_are_appended_and_earlier_ones_replaced() -> None:
    daily, yearly = GOLD_TABLES["volatility"], GOLD_TABLES["yearly_performance"]
    through = D(2024, 12, 31)
    assert daily.appends(D(2025, 1, 2), through)
    assert not daily.appends(through, through)  # a correction of the last day replaces it
    assert not daily.appends(D(2025, 1, 2), None)  # built before the last day was recorded
    assert yearly.appends(D(2025, 1, 2), through)  # a new year: a new row per ticker
    assert not yearly.appends(D(2025, 3, 3), D(2025, 2, 28))  # the year's row is restated
