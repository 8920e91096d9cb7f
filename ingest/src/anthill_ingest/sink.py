"""Where bronze lands: ``file://`` paths or ``s3://`` buckets, behind one small interface.

Writes are whole-object: a reader never sees half a file (local files are renamed into place, S3 objects
appear only when the upload completes; large ones go multipart). A local writer killed mid-write leaves its
hidden ``.<name>.partial-<host>-<pid>`` file behind; the next write of that key removes it.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

MULTIPART_THRESHOLD = 16 * 2**20
# A partial file this old belongs to no live writer, whichever host wrote it (a partition takes seconds).
STALE_PARTIAL_SECONDS = 3600
DIGEST_METADATA = "sha256"  # x-amz-meta-sha256 on S3 objects


class Sink(Protocol):
    """Objects addressed by keys relative to the destination URI."""

    uri: str

    def write(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes | None: ...
    def digest(self, key: str) -> str | None:
        """The SHA-256 (hex) of the object's bytes; None when it is absent or its digest is not known."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Keys of the objects under ``prefix`` (a folder: ``bronze/`` lists ``bronze/a/b.parquet``), sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing one that is absent succeeds."""
        ...


class FileSink:
    def __init__(self, uri: str) -> None:
        self.uri = uri.rstrip("/")
        self.root = Path(urlsplit(uri).path)

    def write(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial-{socket.gethostname()}-{os.getpid()}")
        partial.write_bytes(data)
        partial.replace(path)
        self._remove_abandoned(path)

    @staticmethod
    def _remove_abandoned(path: Path) -> None:
        """Remove partial files of ``path`` that no live writer owns: written on this host by a process that
        has exited, or older than ``STALE_PARTIAL_SECONDS`` (a writer on a host that can't be checked)."""
        host = socket.gethostname()
        for partial in path.parent.glob(f".{path.name}.partial-*"):
            writer_host, _, pid = partial.name.removeprefix(f".{path.name}.partial-").rpartition("-")
            try:
                stale = time.time() - partial.stat().st_mtime > STALE_PARTIAL_SECONDS
                if stale or (writer_host == host and pid.isdigit() and not _alive(int(pid))):
                    partial.unlink()
            except FileNotFoundError:
                continue  # its writer finished (renamed it) or another sweep got there first

    def read(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None

    def digest(self, key: str) -> str | None:
        data = self.read(key)
        return None if data is None else hashlib.sha256(data).hexdigest()

    def keys(self, prefix: str) -> list[str]:
        folder = self.root / prefix
        if not folder.is_dir():
            return []
        # A hidden name is a writer's partial file, never an object.
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class S3Sink:
    """S3 (or an S3 API such as a moto server: set AWS_ENDPOINT_URL); credentials from the usual chain."""

    def __init__(self, uri: str) -> None:
        parts = urlsplit(uri)
        self.uri = uri.rstrip("/")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.client = boto3.client("s3")
        self.transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def write(self, key: str, data: bytes) -> None:
        """Upload ``data``, recording its SHA-256 as object metadata (an ETag is no digest of a multipart
        object's bytes)."""
        extra = {"Metadata": {DIGEST_METADATA: hashlib.sha256(data).hexdigest()}}
        self.client.upload_fileobj(
            io.BytesIO(data), self.bucket, self._key(key), ExtraArgs=extra, Config=self.transfer
        )

    def _object(self, call: Callable[..., Any], key: str) -> Any:
        """``call`` (get_object or head_object) on ``key``; None when there is no such object."""
        try:
            return call(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def digest(self, key: str) -> str | None:
        head = self._object(self.client.head_object, key)
        return None if head is None else cast("str | None", head.get("Metadata", {}).get(DIGEST_METADATA))

    def read(self, key: str) -> bytes | None:
        response = self._object(self.client.get_object, key)
        return None if response is None else cast("bytes", response["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        start = len(self._key(""))
        found = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/") + "/")
        )
        for page in pages:
            found += [item["Key"][start:] for item in page.get("Contents", [])]
        return sorted(found)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def open_sink(uri: str) -> Sink:
    scheme = urlsplit(uri).scheme
    if scheme == "file":
        return FileSink(uri)
    if scheme in ("s3", "s3a"):
        return S3Sink(uri)
    raise ValueError(f"unsupported destination {uri!r}: use s3://bucket/prefix or file:///path")
