"""A local SparkSession with Delta Lake, for the local runner and tests (Databricks brings its own)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.java_gateway import launch_gateway
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
    app_name: str = "anthill",
    cores: int = 2,
    shuffle_partitions: int = 4,
    s3: bool = False,
    jvm_log: Path | None = None,
) -> SparkSession:
    """``local[cores]`` Spark with Delta's SQL extensions and catalog, UTC session time, small shuffles;
    with ``s3``, S3A for ``s3://`` and ``s3a://`` lakes (its jars are fetched on first use).

    With ``jvm_log``, everything Spark's JVM prints (the JVM's own start-up warnings, Hadoop's and log4j's
    notices, Spark's console log, its Python workers' stderr) is written to that file, afresh, instead of
    this process's terminal. That holds only when this call starts the JVM: PySpark keeps one JVM per
    process for every later session, and its output stays where it was first sent.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # toPandas with timestamps, as pyspark advises
    artifacts = ARTIFACTS + s3a_artifacts() if s3 else ARTIFACTS
    jars = ",".join(str(path) for path in ensure_jars(artifacts))
    settings = {
        **(s3a_settings() if s3 else {}),
        "spark.master": f"local[{cores}]",
        "spark.app.name": app_name,
        "spark.jars": jars,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "2g",
        "spark.databricks.delta.snapshotPartitions": "2",
        # Listing a bronze dataset's date directories: a few tasks, not one per directory.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(cores * 4),
    }
    if jvm_log is not None:
        _start_jvm(SparkConf().setAll(list(settings.items())), jvm_log)
    return SparkSession.builder.config(map=dict(settings)).getOrCreate()


def _start_jvm(conf: SparkConf, log: Path) -> None:
    """Start Spark's JVM and context with ``conf``, the JVM's stdout and stderr going to ``log``.

    Log4j settings cannot do this: the JVM itself prints "Using incubator modules" (Spark adds
    jdk.incubator.vector to every driver), and the launcher prints before any configuration is read. So the
    JVM is started here, as PySpark would start it, but with its output streams handed over.
    """
    if SparkContext._gateway is not None:  # PySpark keeps one JVM per process: it is already up
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        gateway = launch_gateway(conf, popen_kwargs={"stdout": sink, "stderr": sink})  # type: ignore[no-untyped-call]
    SparkContext(conf=conf, gateway=gateway)  # the session's builder then finds this context active
