"""The console scripts Databricks python_wheel_task calls by name: each only parses arguments and runs a job."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from pyspark.sql import SparkSession

from anthill_spark.jobs.gold import GOLD_TABLES, silver_to_gold
from anthill_spark.jobs.silver import bronze_to_silver
from anthill_spark.lake import Lake

log = logging.getLogger(__name__)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--lake", required=True, help="lake URI (s3://, s3a://, file://, dbfs:/)")
    parser.add_argument(
        "--bronze",
        action="append",
        default=[],
        help="a feed's bronze location, <destination>/bronze/<namespace>/<feed>; once per feed the pipeline "
        "reads (bronze_to_silver and all need at least one)",
    )
    parser.add_argument("--catalog", help="Unity Catalog name; tables are path-based without it")
    parser.add_argument("--silver-schema", default="silver")
    parser.add_argument("--gold-schema", default="gold")
    parser.add_argument("--gold", default=",".join(GOLD_TABLES), help="comma-separated gold tables")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="read every bronze file and rebuild every gold row, not only what changed",
    )
    return parser


def _bronze(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The feeds' bronze locations; silver reads nothing else, so at least one is required."""
    if not args.bronze:
        parser.error("--bronze is required: the bronze location of each feed the pipeline reads")
    return list(args.bronze)


def _lake(args: argparse.Namespace) -> Lake:
    return Lake(args.lake, args.catalog, args.silver_schema, args.gold_schema)


def session_for(*uris: str) -> SparkSession:
    """The active session (Databricks, or a caller's), else a local one with S3A when one of ``uris`` (the
    lake, the feeds' bronze) needs it."""
    active = SparkSession.getActiveSession()
    if active is not None:  # Databricks, or a caller that configured its own
        return active
    from anthill_spark.session import S3_SCHEMES, local_session  # noqa: PLC0415 - only outside Databricks

    return local_session(s3=any(uri.startswith(S3_SCHEMES) for uri in uris))


def main_bronze_to_silver(argv: Sequence[str] | None = None) -> None:
    """Entry point ``bronze_to_silver`` (Databricks python_wheel_task parameters are argv)."""
    parser = _parser("bronze_to_silver")
    args = parser.parse_args(argv)
    bronze = _bronze(parser, args)
    spark = session_for(args.lake, *bronze)
    log.info("silver: %s", bronze_to_silver(spark, _lake(args), bronze, args.full_refresh))


def main_silver_to_gold(argv: Sequence[str] | None = None) -> None:
    """Entry point ``silver_to_gold``."""
    args = _parser("silver_to_gold").parse_args(argv)
    log.info(
        "gold: %s",
        silver_to_gold(session_for(args.lake), _lake(args), args.gold.split(","), args.full_refresh),
    )


def main_all(argv: Sequence[str] | None = None) -> None:
    """Entry point ``all``: silver then gold."""
    parser = _parser("all")
    args = parser.parse_args(argv)
    bronze = _bronze(parser, args)
    spark, lake = session_for(args.lake, *bronze), _lake(args)
    log.info("silver: %s", bronze_to_silver(spark, lake, bronze, args.full_refresh))
    log.info("gold: %s", silver_to_gold(spark, lake, args.gold.split(","), args.full_refresh))
