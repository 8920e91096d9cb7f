"""Put a wheel and its version's ``CURRENT`` pointer in a volume through the Files API, idempotently."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from databricks.sdk.errors import NotFound
from databricks.sdk.service.files import FilesAPI

from anthill.deploy.wheel import Wheel
from anthill.pipeline.wheels import pointer_path, wheel_path


class VolumeNotFoundError(Exception):
    """The volume (or its catalog or schema) does not exist in the workspace."""


@dataclass(frozen=True)
class Deployed:
    """Where the wheel is, and what this deployment had to write."""

    path: str
    uploaded: bool
    pointer_written: bool


def deploy_wheel(files: FilesAPI, volume: str, wheel: Wheel, say: Callable[[str], None]) -> Deployed:
    """Upload ``wheel`` to its version-and-hash path in ``volume`` unless it is there already (same size), then
    point its version's ``CURRENT`` at it unless it points there already.

    The pointer is written only after the wheel is in place, so a reader never gets a path to a missing file.
    Raises :class:`VolumeNotFoundError`, or the SDK's error for anything else (the caller translates it).
    """
    path = wheel_path(volume, wheel.version, wheel.sha256, wheel.filename)
    pointer = pointer_path(volume, wheel.version)
    try:
        present = _size(files, path)
        uploaded = present != wheel.size
        if uploaded:
            say(f"uploading {wheel.filename} ({wheel.size} bytes) to {path}")
            with wheel.path.open("rb") as contents:
                files.upload(path, contents, overwrite=True)
        else:
            say(f"unchanged: {path} is already deployed")
        current = _read(files, pointer)
        pointer_written = current != path
        if pointer_written:
            say(f"pointing {pointer} at it")
            files.upload(pointer, io.BytesIO(path.encode() + b"\n"), overwrite=True)
        else:
            say(f"unchanged: {pointer} already names it")
    except NotFound:
        # The wheel and the pointer were looked up (a 404 there is "not yet"), so this is an upload: the
        # volume itself is missing.
        raise VolumeNotFoundError(
            f"volume {volume} does not exist in the workspace (or its catalog or schema does not): create it "
            "(Terraform's databricks-unity-catalog module does) or name another with --volume"
        ) from None
    return Deployed(path, uploaded, pointer_written)


def _size(files: FilesAPI, path: str) -> int | None:
    try:
        return files.get_metadata(path).content_length
    except NotFound:
        return None


def _read(files: FilesAPI, path: str) -> str | None:
    try:
        contents = files.download(path).contents
        return contents.read().decode(errors="replace").strip() if contents is not None else ""
    except NotFound:
        return None
