"""`anthill lake migrate` on an s3:// lake (moto): the same sink code as file://, a real S3 API."""

from __future__ import annotations

import boto3
import pytest
from typer.testing import CliRunner

from anthill_ingest.lake_cli import app
from tests.integration.ingest.conftest import s3_objects

pytestmark = pytest.mark.integration

OLD = {
    "data/bronze/aggregates/1day/date=2024-07-01/daily.parquet": b"bars",
    "data/bronze/aggregates/1day/date=2024-07-01/other.parquet": b"other",
    "data/_state/daily.json": b'{"watermark": "2024-07-01"}',
}
NEW = {
    "data/bronze/aggregates/1day/date=2024-07-01/other.parquet": b"other",
    "data/bronze/market/daily/aggregates/1day/date=2024-07-01/daily.parquet": b"bars",
    "data/_state/market/daily.json": b'{"watermark": "2024-07-01"}',
}


def test_migrate_moves_a_feed_in_s3_and_a_second_run_finds_nothing(bucket: str) -> None:
    s3 = boto3.client("s3")
    for key, data in OLD.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    args = ["migrate", "--lake", f"s3://{bucket}/data", "--namespace", "market", "--feed", "daily"]

    dry = CliRunner().invoke(app, args)
    assert dry.exit_code == 0, dry.output
    assert "2 objects would move" in dry.output
    assert s3_objects(bucket) == OLD

    applied = CliRunner().invoke(app, [*args, "--apply"])
    assert applied.exit_code == 0, applied.output
    assert s3_objects(bucket) == NEW
    # The bronze object keeps the digest metadata the ingest compares before rewriting a day.
    head = s3.head_object(
        Bucket=bucket, Key="data/bronze/market/daily/aggregates/1day/date=2024-07-01/daily.parquet"
    )
    assert "sha256" in head["Metadata"]

    again = CliRunner().invoke(app, [*args, "--apply"])
    assert again.exit_code == 0, again.output
    assert "nothing of market/daily in the old layout" in again.output
    assert s3_objects(bucket) == NEW
