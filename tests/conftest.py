"""Suite-wide wiring: kind tests skip with the reason when Docker or kind is missing."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from anthill_devkit.cluster import kind_unavailable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@functools.cache
def _kind_skip_reason() -> str | None:
    return kind_unavailable()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kind_items = [item for item in items if item.get_closest_marker("kind")]
    if not kind_items:
        return
    reason = _kind_skip_reason()
    if reason is None:
        return
    for item in kind_items:
        item.add_marker(pytest.mark.skip(reason=f"kind test: {reason}"))


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local SparkSession with Delta for every Spark test (the JVM starts once, on first use)."""
    from anthill_spark.session import local_session  # noqa: PLC0415 - no JVM for suites that never ask

    # py4j says goodbye at interpreter exit, after pytest has closed its capture streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    session = local_session("anthill-tests", cores=2, shuffle_partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
