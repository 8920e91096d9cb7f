"""Where the anthill-spark wheel lives in a Unity Catalog volume, and which one a job installs. Pure.

``anthill databricks deploy`` uploads a built wheel to ``<volume>/anthill_spark/<version>/<sha256[:16]>/<file>``
(the file keeps the wheel's own name, which pip needs to install it), then writes the path into
``<volume>/anthill_spark/<version>/CURRENT``. The pointer is written after the wheel, so whoever reads it never
finds a path to a file that is not there yet. The operator reads the pointer for the version it was released
with; a new deployment changes the pointer, so the jobs drift from it and are reset to the new wheel.
"""

from __future__ import annotations

import re
from importlib.metadata import version

from anthill_api.common import VOLUME_PATH

PROJECT = "anthill-spark"
FOLDER = "anthill_spark"  # the wheel's distribution name, as it starts the wheel's file name
POINTER = "CURRENT"
HASH_CHARS = 16  # of the sha256: enough to tell builds apart, short enough to read in a path
VOLUME = re.compile(VOLUME_PATH)
# PEP 427: {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
WHEEL_FILE = re.compile(
    r"^(?P<name>[A-Za-z0-9_.]+)-(?P<version>[A-Za-z0-9_.!+]+)(-\d[A-Za-z0-9_]*)?-[^-/\s]+-[^-/\s]+-[^-/\s]+\.whl$"
)


class PointerError(ValueError):
    """A ``CURRENT`` pointer that does not name a wheel of its own version folder (the message says why)."""


def release_version() -> str:
    """The version the operator was released with: the anthill-spark wheel it runs must carry the same."""
    return version("anthill-operator")


def version_folder(volume: str, wheel_version: str) -> str:
    return f"{volume.rstrip('/')}/{FOLDER}/{wheel_version}"


def pointer_path(volume: str, wheel_version: str) -> str:
    """``<volume>/anthill_spark/<version>/CURRENT``: the file naming the wheel jobs of that version install."""
    return f"{version_folder(volume, wheel_version)}/{POINTER}"


def wheel_path(volume: str, wheel_version: str, sha256: str, filename: str) -> str:
    """Where a wheel is deployed: its version, the head of its content hash, its own file name."""
    return f"{version_folder(volume, wheel_version)}/{sha256[:HASH_CHARS]}/{filename}"


def check_volume(volume: str) -> str:
    """``volume`` without a trailing slash; ValueError unless it is ``/Volumes/<catalog>/<schema>/<volume>``."""
    stripped = volume.strip().rstrip("/")
    if not VOLUME.fullmatch(stripped):
        raise ValueError(
            f"{volume!r} is not a Unity Catalog volume path /Volumes/<catalog>/<schema>/<volume>"
        )
    return stripped


def parse_pointer(content: bytes, volume: str, wheel_version: str) -> str:
    """The wheel path a ``CURRENT`` pointer holds; :class:`PointerError` unless it is one line naming an
    anthill-spark wheel of ``wheel_version`` inside that version's folder (a pointer edited by hand must not send
    jobs elsewhere)."""
    try:
        text = content.decode("ascii").strip()
    except UnicodeDecodeError:
        raise PointerError(f"{pointer_path(volume, wheel_version)} is not a path") from None
    folder = version_folder(volume, wheel_version) + "/"
    head, _, filename = text.removeprefix(folder).partition("/")
    parsed = WHEEL_FILE.fullmatch(filename)
    if (
        not text.startswith(folder)
        or not re.fullmatch(rf"[0-9a-f]{{{HASH_CHARS}}}", head)
        or parsed is None
        or parsed["name"] != FOLDER
        or parsed["version"] != wheel_version
    ):
        raise PointerError(
            f"{pointer_path(volume, wheel_version)} does not name an {PROJECT} {wheel_version} wheel in "
            f"{folder}; run `anthill databricks deploy` again"
        )
    return text
