"""Where the lake's tables live, and the Delta I/O the jobs share: reads, writes, table properties.

Locally, tables are path-based Delta tables under the lake (``<lake>/silver/bars``); with a catalog they are
Unity Catalog names (``<catalog>.<silver schema>.bars``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession


@dataclass(frozen=True)
class Lake:
    """Where tables live: paths under ``uri``, or Unity Catalog names when ``catalog`` is set."""

    uri: str
    catalog: str | None = None
    silver_schema: str = "silver"
    gold_schema: str = "gold"

    def table(self, layer: str, name: str) -> str:
        if self.catalog:
            schema = self.silver_schema if layer == "silver" else self.gold_schema
            return f"{self.catalog}.{schema}.{name}"
        return f"{self.uri.rstrip('/')}/{layer}/{name}"


def read_table(spark: SparkSession, lake: Lake, layer: str, name: str) -> DataFrame:
    where = lake.table(layer, name)
    return spark.read.table(where) if lake.catalog else spark.read.format("delta").load(where)


def table_exists(spark: SparkSession, lake: Lake, layer: str, name: str) -> bool:
    where = lake.table(layer, name)
    return spark.catalog.tableExists(where) if lake.catalog else DeltaTable.isDeltaTable(spark, where)


def delta_table(spark: SparkSession, lake: Lake, layer: str, name: str) -> DeltaTable:
    where = lake.table(layer, name)
    return DeltaTable.forName(spark, where) if lake.catalog else DeltaTable.forPath(spark, where)


def write_table(
    df: DataFrame,
    lake: Lake,
    layer: str,
    name: str,
    replace_where: str | None = None,
    metadata: dict[str, str] | None = None,
    append: bool = False,
) -> None:
    """Overwrite the table, or only the rows matching ``replace_where`` (Delta refuses rows outside it), or
    with ``append`` add the rows to it."""
    if append:
        writer = df.write.format("delta").mode("append")
    elif replace_where:
        writer = df.write.format("delta").mode("overwrite").option("replaceWhere", replace_where)
    else:
        writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if metadata:
        writer = writer.option("userMetadata", json.dumps(metadata, sort_keys=True))
    where = lake.table(layer, name)
    writer.saveAsTable(where) if lake.catalog else writer.save(where)


def last_commit(spark: SparkSession, lake: Lake, layer: str, name: str, column: str) -> Any:
    """``column`` of the table's last commit (``DESCRIBE HISTORY``), read from its log alone; None when the
    history is empty."""
    last = delta_table(spark, lake, layer, name).history(1).select(column).first()
    return last[column] if last is not None else None


def recorded_metadata(spark: SparkSession, lake: Lake, layer: str, name: str) -> dict[str, Any] | None:
    """What the writer of the table's last commit recorded with it (``write_table``'s ``metadata``); None
    without the table, or when that commit recorded nothing readable (OPTIMIZE, a person's edit)."""
    if not table_exists(spark, lake, layer, name):
        return None
    metadata = last_commit(spark, lake, layer, name, "userMetadata")
    if not metadata:
        return None
    try:
        recorded = json.loads(metadata)
    except ValueError:
        return None
    return recorded if isinstance(recorded, dict) else None


def table_version(spark: SparkSession, lake: Lake, layer: str, name: str) -> int | None:
    """The table's current Delta version, from its log alone (no data read); None without the table."""
    if not table_exists(spark, lake, layer, name):
        return None
    version = last_commit(spark, lake, layer, name, "version")
    return int(version) if version is not None else None


def rows_written(spark: SparkSession, lake: Lake, layer: str, name: str) -> int:
    """The rows the table's last commit wrote."""
    metrics = last_commit(spark, lake, layer, name, "operationMetrics")
    return int((metrics or {}).get("numOutputRows", 0))


def sql_name(lake: Lake, layer: str, name: str) -> str:
    return lake.table(layer, name) if lake.catalog else f"delta.`{lake.table(layer, name)}`"


def table_properties(spark: SparkSession, lake: Lake, layer: str, name: str) -> dict[str, str]:
    """The table's properties, from its metadata alone (no Spark job, unlike ``DeltaTable.detail``)."""
    rows = spark.sql(f"SHOW TBLPROPERTIES {sql_name(lake, layer, name)}").collect()
    return {row["key"]: row["value"] for row in rows}


def aggregate_values(df: DataFrame, *aggregates: Column) -> tuple[Any, ...]:
    """The values of ``df.agg(*aggregates)``: one job, one row."""
    row = df.agg(*aggregates).first()
    return tuple(row) if row is not None else (None,) * len(aggregates)
