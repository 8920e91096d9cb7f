"""The Databricks Runtime the anthill-spark wheel targets, pinned in this one place.

The operator gives job clusters this runtime when a pipeline names none, the docs quote it, the wheel leaves out
of its install requirements what the runtime provides (``PROVIDED``), and the local Databricks server builds its
runtime environment from these pins: the same PySpark and Delta, and nothing else of ours.
"""

from __future__ import annotations

# Databricks Runtime 17.3 LTS: Apache Spark 4.0, Scala 2.13, Delta Lake 4.0, Python 3.12.
DATABRICKS_RUNTIME = "17.3.x-scala2.13"
SPARK_MAJOR = 4
# What the local runtime environment installs for the PySpark and Delta that Databricks Runtime provides; the
# anthill-spark `local` extra pins the same versions (a unit test holds them equal).
PYSPARK = "4.0.5"
DELTA_SPARK = "4.0.1"
# Python distributions Databricks Runtime provides: a cluster library must not install its own copy, which
# would replace the runtime's (a PyPI pyspark over the runtime's breaks the cluster's Spark).
PROVIDED = frozenset({"pyspark", "delta-spark", "py4j", "numpy", "pandas", "pyarrow"})


def spark_major(spark_version: str) -> int | None:
    """The Spark major version of a Databricks Runtime version string (``17.3.x-scala2.13`` -> 4), or None
    when the string is not one this module knows. Runtimes 16 and earlier carry Spark 3; 17 and later Spark 4."""
    head = spark_version.split(".", 1)[0]
    if not head.isdigit():
        return None
    return SPARK_MAJOR if int(head) >= 17 else 3  # noqa: PLR2004 - Databricks Runtime 17 brought Spark 4
