"""Real servers for ingestion tests: the sandbox market-data API and an S3 API (moto), both on loopback."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from anthill_devkit.controlplane import free_ports
from anthill_ingest.cli import app
from anthill_sandbox.server import SandboxServer

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    (port,) = free_ports(1)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; boto3 in this process (the ingest run included) talks to the moto server."""
    for key, value in {**S3_ENV, "AWS_ENDPOINT_URL": moto_endpoint}.items():
        monkeypatch.setenv(key, value)
    name = f"lake-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def s3_objects(bucket: str) -> dict[str, bytes]:
    client = boto3.client("s3")
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            out[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


@dataclass
class Outcome:
    exit_code: int
    summary: dict[str, Any]
    output: str


def feed_doc(name: str, destination: str, **spec: Any) -> dict[str, Any]:
    base = {"dataset": "aggregates", "assetClass": "stocks", "tickers": ["AAPL", "MSFT"],
            "bars": {"multiplier": 1, "timespan": "day"}, "schedule": "0 18 * * 1-5",
            "destination": {"uri": destination}, "apiKeySecretRef": {"name": "massive-api", "key": "apiKey"}}  # fmt: skip
    return {"apiVersion": "anthill.io/v1alpha1", "kind": "MarketFeed", "metadata": {"name": name,
            "namespace": "market"}, "spec": {**base, **spec}}  # fmt: skip


def run_ingest(tmp_path: Path, doc: dict[str, Any], sandbox: SandboxServer, today: str,
               api_key: str = "sandbox", key_variable: str = "MASSIVE_API_KEY") -> Outcome:  # fmt: skip
    """`anthill ingest run` in-process, as the CronJob's pod runs it."""
    feed = tmp_path / f"feed-{uuid.uuid4().hex[:6]}.yaml"
    feed.write_text(yaml.safe_dump(doc))
    termination = tmp_path / "termination-log"
    termination.unlink(missing_ok=True)
    result = CliRunner().invoke(
        app, ["run", "--feed", str(feed), "--api-url", sandbox.url, "--termination-log", str(termination),
              "--today", today],
        env={"MASSIVE_API_KEY": "", "POLYGON_API_KEY": "", key_variable: api_key},
    )  # fmt: skip
    summary = json.loads(termination.read_text()) if termination.exists() else {}
    return Outcome(result.exit_code, summary, result.output)
