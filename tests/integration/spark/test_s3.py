"""`anthill spark run` on an s3a:// lake: bronze written to a moto S3 server by `anthill ingest run`, silver
and gold written back to it as Delta tables through S3A (hadoop-aws matching PySpark's Hadoop)."""

from __future__ import annotations

import datetime
import io
import json
import os
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from anthill_ingest.calendar import trading_days
from anthill_sandbox.server import SandboxServer
from tests.helpers import anthill
from tests.integration.ingest.conftest import feed_doc, run_ingest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def live_rows(bucket: str, table: str) -> int:
    """Rows in the Delta table at ``table``: the files its log adds and does not remove."""
    client = boto3.client("s3")
    listing = client.list_objects_v2(Bucket=bucket, Prefix=f"{table}/_delta_log/")
    files: set[str] = set()
    for item in sorted(listing.get("Contents", []), key=lambda i: i["Key"]):
        if not item["Key"].endswith(".json"):
            continue
        for line in client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().splitlines():
            action = json.loads(line)
            if "add" in action:
                files.add(action["add"]["path"])
            if "remove" in action:
                files.discard(action["remove"]["path"])
    body = (client.get_object(Bucket=bucket, Key=f"{table}/{path}")["Body"].read() for path in files)
    return sum(pq.read_table(io.BytesIO(data)).num_rows for data in body)


def test_spark_run_on_an_s3a_lake(tmp_path: Path, sandbox: SandboxServer, bucket: str) -> None:
    doc = feed_doc(
        "equities", f"s3://{bucket}/lake", tickers=["AAPL", "MSFT"], backfill={"from": "2024-05-01"}
    )
    assert run_ingest(tmp_path, doc, sandbox, today="2024-06-03").exit_code == 0
    days = len(list(trading_days(datetime.date(2024, 5, 1), datetime.date(2024, 5, 31))))

    result = anthill(
        "spark",
        "run",
        "--lake",
        f"s3a://{bucket}/lake",
        "--bronze",
        f"s3a://{bucket}/lake/bronze/market/equities",
        "--gold",
        "daily_returns,drawdowns",
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"gold.daily_returns: {2 * days} rows written, full" in result.stderr

    assert live_rows(bucket, "lake/silver/bars") == 2 * days
    assert live_rows(bucket, "lake/gold/daily_returns") == 2 * days
    assert live_rows(bucket, "lake/gold/drawdowns") == 2 * days

    # Nothing new: the second run reads no bronze again but the newest file and rebuilds nothing.
    again = anthill(
        "spark", "run", "--lake", f"s3://{bucket}/lake", "--bronze", f"s3://{bucket}/lake/bronze/market/equities",
        "--gold", "daily_returns", env=dict(os.environ),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "gold.daily_returns: 0 rows written, up to date" in again.stderr


def test_a_missing_bucket_is_a_clear_error(bucket: str) -> None:
    result = anthill("spark", "run", "--lake", "s3a://no-such-bucket/lake",
                     "--bronze", "s3a://no-such-bucket/lake/bronze/market/equities", env=dict(os.environ))  # fmt: skip
    assert result.returncode != 0
    assert "no-such-bucket" in result.stderr
    assert "Traceback" not in result.stderr
