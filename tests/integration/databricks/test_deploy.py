"""`anthill databricks deploy` end to end: the installed command, env credentials, the sandbox Files API."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from anthill.pipeline.wheels import pointer_path, release_version
from anthill_sandbox.databricks import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DatabricksServer,
    WorkspaceState,
)
from tests.helpers import anthill
from tests.integration.databricks.conftest import PAT, stats

pytestmark = pytest.mark.integration

VOLUME = "/Volumes/anthill_dev/artifacts/wheels"
EXIT_USAGE, EXIT_REFUSED, EXIT_VOLUME_NOT_FOUND = 2, 3, 4


@pytest.fixture
def workspace() -> Iterator[DatabricksServer]:
    started = DatabricksServer(state=WorkspaceState(volumes={VOLUME})).start()
    yield started
    started.stop()


def _env(server: DatabricksServer, **credentials: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "ANTHILL_"))}
    return {**base, "DATABRICKS_HOST": server.url, **(credentials or {"DATABRICKS_TOKEN": PAT})}


def _puts(server: DatabricksServer) -> int:
    return stats(server).get("PUT fs/files", 0)


def test_deploy_uploads_once_then_says_unchanged(workspace: DatabricksServer, built_wheel: Path) -> None:
    version = release_version()
    first = anthill("databricks", "deploy", str(built_wheel), "--volume", VOLUME, env=_env(workspace))
    assert first.returncode == 0, first.stderr
    path = first.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"{VOLUME}/anthill_spark/{re.escape(version)}/[0-9a-f]{{16}}/{built_wheel.name}", path
    )
    files = workspace.state.files
    assert files[path] == built_wheel.read_bytes()
    assert files[pointer_path(VOLUME, version)] == f"{path}\n".encode()  # the operator reads this
    assert _puts(workspace) == 2  # the wheel, then its pointer

    again = anthill(
        "databricks", "deploy", str(built_wheel), env={**_env(workspace), "ANTHILL_WHEEL_VOLUME": VOLUME}
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == path
    assert "unchanged" in again.stderr
    assert _puts(workspace) == 2  # the same wheel: nothing written


def test_build_then_deploy_with_oauth(workspace: DatabricksServer) -> None:
    # --build makes the wheel with uv; OAuth M2M credentials come from the environment as the SDK names them.
    env = _env(
        workspace, DATABRICKS_CLIENT_ID=DEFAULT_CLIENT_ID, DATABRICKS_CLIENT_SECRET=DEFAULT_CLIENT_SECRET
    )
    done = anthill("databricks", "deploy", "--build", "--volume", VOLUME, env=env)
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip().splitlines()[-1]
    assert path.endswith(".whl")
    assert path in workspace.state.files


def _other_project_wheel(tmp_path: Path) -> Path:
    wheel = tmp_path / "anthill_spark-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(
            "anthill_spark-0.1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: evil\nVersion: 0.1.0\n"
        )
    return wheel


# Each failure a platform engineer or a CI job meets, with the exit code a script can act on.
REFUSALS = [
    pytest.param(
        {"--volume": "/Volumes/anthill_dev/artifacts/missing"},
        None,
        EXIT_VOLUME_NOT_FOUND,
        "volume /Volumes/anthill_dev/artifacts/missing does not exist",
        id="volume-missing",
    ),
    pytest.param(
        {"--volume": "/tmp/wheels"},  # noqa: S108 - the path is the point
        None,
        EXIT_USAGE,
        "not a Unity Catalog volume path",
        id="not-a-volume-path",
    ),
    pytest.param(
        {},
        {"DATABRICKS_TOKEN": "dapi-wrong-token-0123456789"},
        EXIT_REFUSED,
        "refused the credentials",
        id="unauthorised",
    ),
    pytest.param(
        {},
        {"DATABRICKS_CLIENT_ID": DEFAULT_CLIENT_ID},
        EXIT_USAGE,
        "no Databricks credentials",
        id="half-of-oauth",
    ),
    pytest.param({"wheel": "text"}, None, EXIT_USAGE, "is not a wheel", id="not-a-wheel"),
    pytest.param({"wheel": "other"}, None, EXIT_USAGE, "not of anthill-spark", id="wrong-package"),
]


@pytest.mark.parametrize(("args", "credentials", "code", "message"), REFUSALS)
def test_deploy_refuses_with_a_clear_error_and_exit_code(
    workspace: DatabricksServer,
    built_wheel: Path,
    tmp_path: Path,
    args: dict[str, str],
    credentials: dict[str, str] | None,
    code: int,
    message: str,
) -> None:
    wheel = built_wheel
    if args.get("wheel") == "text":
        wheel = tmp_path / "anthill_spark-0.1.0-py3-none-any.whl"
        wheel.write_text("not a zip")
    elif args.get("wheel") == "other":
        wheel = _other_project_wheel(tmp_path)
    done = anthill("databricks", "deploy", str(wheel), "--volume", args.get("--volume", VOLUME),
                   env=_env(workspace, **(credentials or {})))  # fmt: skip
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert done.stdout == ""  # no path printed: nothing was deployed
    assert workspace.state.files == {}
    for secret in ("dapi-wrong-token-0123456789", PAT):
        assert secret not in done.stderr
