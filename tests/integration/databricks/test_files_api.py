"""The sandbox Files API over Unity Catalog volumes, through the real databricks-sdk's ``WorkspaceClient.files``."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import AlreadyExists, NotFound, PermissionDenied, Unauthenticated
from databricks.sdk.errors.base import DatabricksError

from anthill.pipeline.jobs import Credentials
from anthill.pipeline.sdk import workspace_client
from anthill_sandbox.databricks import DatabricksServer, WorkspaceState
from tests.integration.databricks.conftest import PAT, stats

pytestmark = pytest.mark.integration

VOLUME = "/Volumes/anthill/default/wheels"


@pytest.fixture
def volume_server() -> Iterator[DatabricksServer]:
    started = DatabricksServer(state=WorkspaceState(volumes={VOLUME})).start()
    yield started
    started.stop()


@pytest.fixture
def files(volume_server: DatabricksServer) -> WorkspaceClient:
    return workspace_client(volume_server.url, Credentials(token=PAT))


def test_upload_then_download_and_metadata(files: WorkspaceClient, volume_server: DatabricksServer) -> None:
    path = f"{VOLUME}/anthill_spark/0.1.0/abc/anthill_spark-0.1.0-py3-none-any.whl"
    files.files.upload(path, io.BytesIO(b"PK\x03\x04wheel"), overwrite=False)
    metadata = files.files.get_metadata(path)
    assert (metadata.content_length, metadata.content_type) == (9, "application/octet-stream")
    assert str(metadata.last_modified).endswith(" GMT")
    download = files.files.download(path)
    assert download.contents is not None
    assert (download.content_length, download.contents.read()) == (9, b"PK\x03\x04wheel")
    assert volume_server.state.files[path] == b"PK\x03\x04wheel"  # where runs install wheels from
    # The upload made the parents: the volume lists the new directory, and that directory exists.
    listed = [(e.name, e.is_directory) for e in files.files.list_directory_contents(VOLUME)]
    assert listed == [("anthill_spark", True)]
    files.files.get_directory_metadata(f"{VOLUME}/anthill_spark/0.1.0")


def test_overwrite_false_refuses_an_existing_file_and_true_replaces_it(files: WorkspaceClient) -> None:
    path = f"{VOLUME}/CURRENT"
    files.files.upload(path, io.BytesIO(b"one"), overwrite=False)
    with pytest.raises(AlreadyExists, match="already exists"):
        files.files.upload(path, io.BytesIO(b"two"), overwrite=False)
    files.files.upload(path, io.BytesIO(b"three"), overwrite=True)
    download = files.files.download(path)
    assert download.contents is not None
    assert download.contents.read() == b"three"


def test_delete_removes_the_file(files: WorkspaceClient) -> None:
    path = f"{VOLUME}/old.whl"
    files.files.upload(path, io.BytesIO(b"x"))
    files.files.delete(path)
    with pytest.raises(NotFound, match="file being accessed is not found"):
        files.files.download(path)


def test_listing_pages_through_every_entry(files: WorkspaceClient, volume_server: DatabricksServer) -> None:
    for index in range(7):
        files.files.upload(f"{VOLUME}/many/f{index}", io.BytesIO(b"x"))
    files.files.create_directory(f"{VOLUME}/many/sub/deeper")
    entries = list(files.files.list_directory_contents(f"{VOLUME}/many", page_size=3))
    assert [(e.name, e.is_directory, e.file_size) for e in entries] == [
        *((f"f{i}", False, 1) for i in range(7)),
        ("sub", True, None),
    ]
    assert stats(volume_server)["GET fs/directories"] == 3  # 8 entries, 3 a page


def test_create_directory_is_idempotent(files: WorkspaceClient) -> None:
    files.files.create_directory(f"{VOLUME}/a/b")
    files.files.create_directory(f"{VOLUME}/a/b")
    files.files.get_directory_metadata(f"{VOLUME}/a")
    assert list(files.files.list_directory_contents(f"{VOLUME}/a/b")) == []


REFUSALS: list[Any] = [
    pytest.param(
        lambda f: f.files.upload("/Volumes/anthill/default/missing/x.whl", io.BytesIO(b"x")),
        NotFound,
        "Volume 'anthill.default.missing' does not exist",
        id="upload-to-a-volume-that-does-not-exist",  # the deploy command's "wrong volume"
    ),
    pytest.param(
        lambda f: f.files.upload("/tmp/x.whl", io.BytesIO(b"x")),  # noqa: S108 - the path is the point
        PermissionDenied,
        "No operations allowed on this path",
        id="upload-outside-any-volume",  # the Files API serves volumes only
    ),
    pytest.param(
        lambda f: f.files.upload("/Volumes/anthill/default", io.BytesIO(b"x")),
        PermissionDenied,
        "No operations allowed on this path",
        id="upload-to-a-schema-not-a-volume",  # three levels name a volume; fewer are no place for a file
    ),
    pytest.param(
        lambda f: f.files.get_metadata(f"{VOLUME}/nothing-here"),
        NotFound,
        None,
        id="metadata-of-a-missing-file",  # HEAD answers carry no body: the status alone says NOT_FOUND
    ),
    pytest.param(
        lambda f: list(f.files.list_directory_contents(f"{VOLUME}/no/such/dir")),
        NotFound,
        "directory being accessed is not found",
        id="list-a-missing-directory",
    ),
    pytest.param(
        lambda f: f.files.delete(f"{VOLUME}/never-uploaded"),
        NotFound,
        "file being accessed is not found",
        id="delete-a-missing-file",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), REFUSALS)
def test_refusals_carry_databricks_error_codes(
    files: WorkspaceClient,
    call: Callable[[WorkspaceClient], object],
    error: type[DatabricksError],
    message: str | None,
) -> None:
    with pytest.raises(error, match=message):
        call(files)


def test_files_need_credentials(volume_server: DatabricksServer) -> None:
    refused = workspace_client(volume_server.url, Credentials(token="dapi-wrong0123456789abcdef"))
    with pytest.raises(Unauthenticated):
        refused.files.upload(f"{VOLUME}/x.whl", io.BytesIO(b"x"))
    # Without any credential at all, the raw HTTP answer is Databricks' 401 too.
    answer = requests.put(f"{volume_server.url}/api/2.0/fs/files{VOLUME}/x.whl", data=b"x", timeout=5)
    assert (answer.status_code, answer.json()["error_code"]) == (401, "UNAUTHENTICATED")
    assert volume_server.state.files == {}


def test_a_range_request_gets_part_of_the_file(volume_server: DatabricksServer) -> None:
    volume_server.state.files[f"{VOLUME}/r"] = b"0123456789"
    answer = requests.get(f"{volume_server.url}/api/2.0/fs/files{VOLUME}/r",
                          headers={"Authorization": f"Bearer {PAT}", "Range": "bytes=2-5"}, timeout=5)  # fmt: skip
    assert (answer.status_code, answer.content, answer.headers["Content-Range"]) == (
        206,
        b"2345",
        "bytes 2-5/10",
    )
