"""The sandbox Databricks Jobs API on loopback, and clients for it built the way the operator builds them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml
from databricks.sdk import WorkspaceClient

from anthill.pipeline.jobs import Credentials
from anthill.pipeline.sdk import DatabricksJobs, workspace_client
from anthill_sandbox.databricks import DEFAULT_TOKEN, DatabricksServer, WorkspaceState
from tests.helpers import REPO

PAT = DEFAULT_TOKEN
CREDENTIALS_LABEL = "anthill.io/credentials"  # Secrets the operator may read carry it
CLUSTER = {"sparkVersion": "15.4.x-scala2.12", "nodeTypeId": "i3.xlarge", "numWorkers": 2}
FEED = "us-equities-daily"


def feed_manifest(name: str = FEED) -> str:
    """The MarketFeed a pipeline reads (the operator resolves its bronze location), with its API-key Secret."""
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "massive-api"},
              "stringData": {"apiKey": "sandbox"}}  # fmt: skip
    feed = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    feed["metadata"]["name"] = name
    return yaml.safe_dump_all([secret, feed])


def connection_manifest(server: DatabricksServer, token: str = PAT, name: str = "sandbox") -> str:
    secret = {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": f"{name}-credentials", "labels": {CREDENTIALS_LABEL: "true"}},
              "stringData": {"token": token}}  # fmt: skip
    connection = {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": "DatabricksConnection",
        "metadata": {"name": name},
        "spec": {"host": server.url, "credentialsSecretRef": {"name": f"{name}-credentials"}},
    }
    return yaml.safe_dump_all([secret, connection])


def pipeline_manifest(
    name: str, annotations: dict[str, str] | None = None, feeds: tuple[str, ...] = (FEED,), **spec: Any
) -> str:
    doc: dict[str, Any] = {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": "MedallionPipeline",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {
            "feeds": [{"name": feed} for feed in feeds],
            "lake": {"uri": "s3://anthill-lake-dev/market"},
            "catalog": {"name": "anthill_dev"},
            "schedule": "0 19 * * 1-5",
            "timeZone": "America/New_York",
            "runtime": {"databricks": {"connectionRef": {"name": "sandbox"}, "cluster": CLUSTER}},
            **spec,
        },
    }
    return yaml.safe_dump(doc)


def stats(server: DatabricksServer) -> dict[str, int]:
    requests_: dict[str, int] = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["requests"]
    return requests_


@pytest.fixture
def server() -> Iterator[DatabricksServer]:
    """The Jobs API with runs that end at once with SUCCESS: these tests are about the API and the operator's
    use of it, not about what a run executes (test_runs.py runs them for real)."""
    started = DatabricksServer(state=WorkspaceState(run_mode="succeed")).start()
    yield started
    started.stop()


@pytest.fixture
def sdk(server: DatabricksServer) -> WorkspaceClient:
    """The raw SDK, for what a user does in the UI or what the client does not wrap."""
    return workspace_client(server.url, Credentials(token=PAT))


@pytest.fixture
def client(server: DatabricksServer) -> DatabricksJobs:
    return DatabricksJobs.connect(server.url, Credentials(token=PAT))
