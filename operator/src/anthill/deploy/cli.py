"""``anthill databricks deploy``: credentials from the environment, progress on stderr, the path on stdout.

Exit codes: 0 deployed (or already there), 2 bad usage (no such file, not a wheel, another project's wheel, no
volume, no host or credentials), 3 the workspace refused the credentials or the permission, 4 the volume does
not exist, 5 Databricks failed or could not be reached, 6 building the wheel failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from anthill.deploy.wheel import Wheel, WheelError, inspect_wheel
from anthill.pipeline.jobs import Credentials, JobsError, UnauthorizedError
from anthill.pipeline.wheels import PROJECT, check_volume

EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_VOLUME_NOT_FOUND = 4
EXIT_FAILED = 5
EXIT_BUILD = 6
RETRY_SECONDS = 120  # a deployment may wait out throttling; the operator never does
VOLUME_ENV = "ANTHILL_WHEEL_VOLUME"

err = Console(stderr=True, soft_wrap=True, highlight=False)
databricks_app = typer.Typer(help="Databricks: deploy what jobs run.", no_args_is_help=True)


def _fail(code: int, message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def credentials_from_environment(environ: dict[str, str]) -> Credentials:
    """DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (OAuth machine-to-machine), as
    databricks-sdk reads them; never from a flag, where they would land in shell history and process lists."""
    token = environ.get("DATABRICKS_TOKEN", "").strip()
    client_id = environ.get("DATABRICKS_CLIENT_ID", "").strip()
    client_secret = environ.get("DATABRICKS_CLIENT_SECRET", "").strip()
    if token:
        return Credentials(token=token)
    if client_id and client_secret:
        return Credentials(client_id=client_id, client_secret=client_secret)
    raise ValueError(
        "no Databricks credentials: set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"
    )


def build_wheel(out_dir: Path) -> Path:
    """Build the anthill-spark wheel with uv (from the workspace the current directory is in) into ``out_dir``."""
    beside = Path(sys.executable).parent / "uv"
    uv = str(beside) if beside.is_file() else shutil.which("uv")
    if uv is None:
        _fail(EXIT_BUILD, "--build needs uv (not found beside this Python or on PATH)")
    command = [uv, "build", "--package", PROJECT, "--wheel", "--out-dir", str(out_dir)]
    err.print(f"building: {' '.join(command[1:])}")
    done = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, check=False)
    wheels = sorted(out_dir.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        _fail(EXIT_BUILD, f"building the {PROJECT} wheel failed (uv exited {done.returncode})")
    return wheels[0]


@databricks_app.command("deploy")
def deploy(
    wheel: Annotated[
        Path | None, typer.Argument(help="The built anthill-spark wheel (.whl). Omit with --build.")
    ] = None,
    build: Annotated[bool, typer.Option("--build", help=f"Build the {PROJECT} wheel with uv first.")] = False,
    volume: Annotated[
        str,
        typer.Option(
            envvar=VOLUME_ENV, help="Unity Catalog volume to deploy to: /Volumes/<catalog>/<schema>/<volume>."
        ),
    ] = "",
    host: Annotated[str, typer.Option(envvar="DATABRICKS_HOST", help="Workspace URL.")] = "",
) -> None:
    """Upload the anthill-spark wheel to <volume>/anthill_spark/<version>/<sha256[:16]>/<file> (unless it is
    there already) and point <volume>/anthill_spark/<version>/CURRENT at it; print its path.

    Credentials come from the environment only: DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and
    DATABRICKS_CLIENT_SECRET. Exit codes: 2 bad usage, 3 refused, 4 no such volume, 5 Databricks failed,
    6 build failed.
    """
    if (wheel is None) == (not build):
        _fail(EXIT_USAGE, "give the wheel file or --build (one of them)")
    try:
        target = check_volume(volume) if volume else None
        credentials = credentials_from_environment(dict(os.environ))
    except ValueError as exc:
        _fail(EXIT_USAGE, str(exc))
    if target is None:
        _fail(EXIT_USAGE, f"no volume: pass --volume or set {VOLUME_ENV}")
    if not host.strip():
        _fail(EXIT_USAGE, "no workspace: set DATABRICKS_HOST (or pass --host)")
    with tempfile.TemporaryDirectory(prefix="anthill-wheel-") as scratch:
        built = build_wheel(Path(scratch)) if wheel is None else wheel
        try:
            inspected = inspect_wheel(built)
        except WheelError as exc:
            _fail(EXIT_USAGE, str(exc))
        err.print(f"{inspected.filename}: {PROJECT} {inspected.version}, sha256 {inspected.sha256}")
        path = _deploy(host.strip(), credentials, target, inspected)
    typer.echo(path)


def _deploy(host: str, credentials: Credentials, volume: str, wheel: Wheel) -> str:
    """The deployed wheel's path; exits with the code of whatever failed, its message free of credentials."""
    # The SDK loads here, not when the ``anthill`` command starts: every other subcommand (the operator's
    # included, in the same image) would carry it otherwise.
    from anthill.deploy.upload import VolumeNotFoundError, deploy_wheel  # noqa: PLC0415
    from anthill.pipeline.sdk import translate, workspace_client  # noqa: PLC0415

    secrets = credentials.secrets()
    try:
        client = workspace_client(host, credentials, retry_seconds=RETRY_SECONDS)
        return deploy_wheel(client.files, volume, wheel, err.print).path
    except VolumeNotFoundError as exc:
        _fail(EXIT_VOLUME_NOT_FOUND, str(exc))
    except JobsError as exc:  # workspace_client translates what it raises already
        _fail(EXIT_REFUSED if isinstance(exc, UnauthorizedError) else EXIT_FAILED, str(exc))
    except Exception as exc:
        failure = translate(exc, secrets)
        code = EXIT_REFUSED if isinstance(failure, UnauthorizedError) else EXIT_FAILED
        _fail(code, f"deploying to {volume} failed: {failure}")
