"""A local SparkSession with Delta Lake, for the local runner and tests (Databricks brings its own)."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from anthill_spark.jars import ensure_jars


def local_session(app_name: str = "anthill", cores: int = 2, shuffle_partitions: int = 4) -> SparkSession:
    """``local[cores]`` Spark with Delta's SQL extensions and catalog, UTC session time, small shuffles."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # toPandas with timestamps, as pyspark advises
    jars = ",".join(str(path) for path in ensure_jars())
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.jars", jars)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .getOrCreate()
    )
