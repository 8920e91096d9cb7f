"""What a built wheel file is: its project, version, content hash and size, checked before anything is sent."""

from __future__ import annotations

import email.parser
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from anthill.pipeline.wheels import PROJECT, WHEEL_FILE

CHUNK = 1 << 20


class WheelError(ValueError):
    """The file is not a wheel, or not an anthill-spark wheel (the message says which, and why)."""


@dataclass(frozen=True)
class Wheel:
    """A wheel file on disk, as it will be deployed."""

    path: Path
    version: str
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return self.path.name


def normalised(name: str) -> str:
    """A project name as PEP 503 compares them: ``Anthill_Spark`` -> ``anthill-spark``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def inspect_wheel(path: Path) -> Wheel:
    """The anthill-spark wheel at ``path``; :class:`WheelError` when it is no wheel or another project's.

    The file name must be a wheel's (pip installs by it), and the metadata inside must agree with it: the
    name says anthill-spark and the version is the file name's.
    """
    if not path.is_file():
        raise WheelError(f"{path}: no such file")
    parsed = WHEEL_FILE.fullmatch(path.name)
    if parsed is None:
        raise WheelError(
            f"{path.name} is not a wheel (expected <name>-<version>-<python>-<abi>-<platform>.whl)"
        )
    metadata_name = f"{parsed['name']}-{parsed['version']}.dist-info/METADATA"
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = email.parser.BytesHeaderParser().parsebytes(archive.read(metadata_name))
    except (zipfile.BadZipFile, KeyError, OSError):
        raise WheelError(f"{path.name} is not a wheel: it has no readable {metadata_name}") from None
    name, version = str(metadata.get("Name", "")), str(metadata.get("Version", ""))
    if normalised(name) != PROJECT or normalised(parsed["name"]) != PROJECT:
        raise WheelError(f"{path.name} is a wheel of {name or parsed['name']!r}, not of {PROJECT}")
    if version != parsed["version"]:
        raise WheelError(
            f"{path.name}: its metadata says version {version!r}, its file name {parsed['version']!r}"
        )
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return Wheel(path, version, digest.hexdigest(), path.stat().st_size)
