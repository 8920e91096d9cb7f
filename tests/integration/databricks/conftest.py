"""The sandbox Databricks Jobs API on loopback, and clients for it built the way the operator builds them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient

from anthill.pipeline.jobs import Credentials, DatabricksJobs, workspace_client
from anthill_ingest.sandbox.databricks import DEFAULT_TOKEN, DatabricksServer

PAT = DEFAULT_TOKEN


@pytest.fixture
def server() -> Iterator[DatabricksServer]:
    started = DatabricksServer().start()
    yield started
    started.stop()


@pytest.fixture
def sdk(server: DatabricksServer) -> WorkspaceClient:
    """The raw SDK, for what a user does in the UI or what the client does not wrap."""
    return workspace_client(server.url, Credentials(token=PAT))


@pytest.fixture
def client(server: DatabricksServer) -> DatabricksJobs:
    return DatabricksJobs.connect(server.url, Credentials(token=PAT))
