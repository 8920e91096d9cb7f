"""One local SparkSession (with Delta) for the Spark transform tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from anthill_spark.session import local_session


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    # py4j says goodbye at interpreter exit, after pytest has closed its capture streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    session = local_session("anthill-tests", cores=1, shuffle_partitions=1)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
