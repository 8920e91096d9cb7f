"""Which gold rows an incremental run rebuilds, decided without Spark running."""

from __future__ import annotations

import datetime

from anthill_spark.jobs import GOLD_TABLES, Changes

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
