"""A local SparkSession with Delta Lake, for the local runner and tests (Databricks brings its own)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark.sql import SparkSession

from anthill_spark.jars import ARTIFACTS, ensure_jars, s3a_artifacts

S3_SCHEMES = ("s3://", "s3a://")


def s3a_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Hadoop settings for ``s3://`` and ``s3a://`` lakes through S3A: credentials from the AWS chain
    (environment, profile, web identity, instance role), and ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``
    for an S3 API other than AWS (path-style addressing then, as such servers expect)."""
    env = os.environ if environ is None else environ
    settings = {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",  # s3:// as Databricks reads it
        "spark.hadoop.fs.s3a.aws.credentials.provider":
            "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
    }  # fmt: skip
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        settings["spark.hadoop.fs.s3a.endpoint.region"] = region
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        settings |= {
            "spark.hadoop.fs.s3a.endpoint": endpoint,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint.startswith("https://")).lower(),
        }
    return settings


def local_session(
    app_name: str = "anthill", cores: int = 2, shuffle_partitions: int = 4, s3: bool = False
) -> SparkSession:
    """``local[cores]`` Spark with Delta's SQL extensions and catalog, UTC session time, small shuffles;
    with ``s3``, S3A for ``s3://`` and ``s3a://`` lakes (its jars are fetched on first use)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # toPandas with timestamps, as pyspark advises
    artifacts = ARTIFACTS + s3a_artifacts() if s3 else ARTIFACTS
    jars = ",".join(str(path) for path in ensure_jars(artifacts))
    builder = SparkSession.builder
    for key, value in (s3a_settings() if s3 else {}).items():
        builder = builder.config(key, value)
    return (
        builder.master(f"local[{cores}]")
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
        # Listing a bronze dataset's date directories: a few tasks, not one per directory.
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", str(cores * 4))
        .getOrCreate()
    )
