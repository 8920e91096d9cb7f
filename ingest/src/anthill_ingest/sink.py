"""Where bronze lands: ``file://`` paths or ``s3://`` buckets, behind one small interface.

Writes are whole-object: a reader never sees half a file (local files are renamed into place, S3 objects
appear only when the upload completes; large ones go multipart).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

MULTIPART_THRESHOLD = 16 * 2**20


class Sink(Protocol):
    """Objects addressed by keys relative to the destination URI."""

    uri: str

    def write(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes | None: ...


class FileSink:
    def __init__(self, uri: str) -> None:
        self.uri = uri.rstrip("/")
        self.root = Path(urlsplit(uri).path)

    def write(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        partial.write_bytes(data)
        partial.replace(path)

    def read(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None


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
        self.client.upload_fileobj(io.BytesIO(data), self.bucket, self._key(key), Config=self.transfer)

    def read(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        body: bytes = response["Body"].read()
        return body


def open_sink(uri: str) -> Sink:
    scheme = urlsplit(uri).scheme
    if scheme == "file":
        return FileSink(uri)
    if scheme in ("s3", "s3a"):
        return S3Sink(uri)
    raise ValueError(f"unsupported destination {uri!r}: use s3://bucket/prefix or file:///path")
