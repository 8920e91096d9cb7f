"""The Files API (2.0) over Unity Catalog volumes: ``/api/2.0/fs/files{path}`` and ``/api/2.0/fs/directories{path}``.

What ``databricks-sdk``'s ``FilesAPI`` calls: upload (PUT, ``?overwrite=``), download (GET, with
``Content-Length``, ``Content-Type``, ``Last-Modified`` and single ``Range`` requests), metadata (HEAD), delete,
create directory (PUT, idempotent, ``mkdir -p``), list directory contents (GET, paged) and directory metadata
(HEAD). Paths lie in a volume that exists (:attr:`WorkspaceState.volumes`); the answers and error codes are
Databricks': a path outside any volume is ``PERMISSION_DENIED``, a missing volume, file or directory
``NOT_FOUND``, a file that ``overwrite=false`` would replace ``ALREADY_EXISTS``. An upload creates the file's
parent directories, as on Databricks. The contents live in :attr:`WorkspaceState.files`, where runs install
their wheels from; directories are those created explicitly plus every parent of a file.
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote

from anthill_sandbox.databricks.errors import ApiError, invalid
from anthill_sandbox.databricks.state import WorkspaceState

FILES_PREFIX = "/api/2.0/fs/"
PAGE_MAX = 1000  # Databricks coerces larger page sizes to 1000
VOLUME = re.compile(r"/Volumes/([^/]+)/([^/]+)/([^/]+)")
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class FileAnswer:
    """An answer of the Files API: raw bytes (a file) or JSON (a listing), with its headers."""

    status: HTTPStatus = HTTPStatus.OK
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def split_path(raw_path: str) -> tuple[str, str]:
    """``/api/2.0/fs/files/Volumes/a%20b/...`` -> (``files``, ``/Volumes/a b/...``); the SDK escapes each segment."""
    kind, _, rest = raw_path.removeprefix(FILES_PREFIX).partition("/")
    return kind, "/" + unquote(rest) if rest else ""


def _not_found(what: str) -> ApiError:
    return ApiError(HTTPStatus.NOT_FOUND, "NOT_FOUND", f"The {what} being accessed is not found.")


def _already_exists(what: str) -> ApiError:
    return ApiError(HTTPStatus.CONFLICT, "ALREADY_EXISTS", f"The {what} being created already exists.")


def _http_date(seconds: float) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


class Files:
    """The Files API endpoints over one workspace's state; every access holds ``state.lock``."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        self._directories: set[str] = set()  # created explicitly; parents of files exist implicitly
        self._modified: dict[str, float] = {}  # path -> seconds; files seeded into state.files lack one
        self._started = state.clock()
        self.routes: dict[tuple[str, str], Callable[[str, dict[str, str], bytes, dict[str, str]], FileAnswer]] = {
            ("PUT", "files"): self.upload,
            ("GET", "files"): self.download,
            ("HEAD", "files"): self.metadata,
            ("DELETE", "files"): self.delete,
            ("PUT", "directories"): self.create_directory,
            ("GET", "directories"): self.list_directory,
            ("HEAD", "directories"): self.directory_metadata,
        }  # fmt: skip

    def handle(self, method: str, kind: str, path: str, query: str, body: bytes,
               headers: dict[str, str]) -> FileAnswer:  # fmt: skip
        """One Files API request, after authentication; raises :class:`ApiError`."""
        route = self.routes.get((method, kind))
        if route is None:
            raise ApiError(HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {kind}'")
        params = {name: values[-1] for name, values in parse_qs(query).items()}
        with self.state.lock:
            return route(self._checked(path, directory=kind == "directories"), params, body, headers)

    # -- files --------------------------------------------------------------------------------------------

    def upload(self, path: str, params: dict[str, str], body: bytes, headers: dict[str, str]) -> FileAnswer:
        self._only(params, "overwrite")
        overwrite = params.get("overwrite", "true").lower()
        if overwrite not in ("true", "false"):
            raise invalid("Invalid value for overwrite: expected true or false")
        if self._is_directory(path):
            raise _already_exists("directory")
        if path in self.state.files and overwrite == "false":
            raise _already_exists("file")
        for ancestor in self._ancestors(path):
            if ancestor in self.state.files:
                raise ApiError(HTTPStatus.CONFLICT, "ALREADY_EXISTS",
                               f"A file exists where the directory {ancestor} would be.")  # fmt: skip
        self.state.files[path] = body
        self._modified[path] = self.state.clock()
        return FileAnswer(HTTPStatus.NO_CONTENT)

    def download(self, path: str, params: dict[str, str], body: bytes, headers: dict[str, str]) -> FileAnswer:
        self._only(params)
        contents = self._file(path)
        meta = self._file_headers(path, contents)
        requested = RANGE.fullmatch(headers.get("range", "").strip())
        if requested is None or not any(requested.groups()):
            return FileAnswer(HTTPStatus.OK, contents, meta, OCTET_STREAM)
        first, last = requested.groups()
        size = len(contents)
        start = int(first) if first else max(size - int(last), 0)
        end = min(int(last), size - 1) if first and last else size - 1
        if start >= size or start > end:
            raise ApiError(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "INVALID_PARAMETER_VALUE",
                           f"The range {headers['range']} is not satisfiable for a file of {size} bytes.")  # fmt: skip
        part = {**meta, "Content-Range": f"bytes {start}-{end}/{size}"}
        return FileAnswer(HTTPStatus.PARTIAL_CONTENT, contents[start : end + 1], part, OCTET_STREAM)

    def metadata(self, path: str, params: dict[str, str], body: bytes, headers: dict[str, str]) -> FileAnswer:
        self._only(params)
        contents = self._file(path)
        # A HEAD answer announces the length of the body a GET would send, and sends none.
        return FileAnswer(HTTPStatus.OK, contents, self._file_headers(path, contents), OCTET_STREAM)

    def delete(self, path: str, params: dict[str, str], body: bytes, headers: dict[str, str]) -> FileAnswer:
        self._only(params)
        self._file(path)
        del self.state.files[path]
        self._modified.pop(path, None)
        return FileAnswer(HTTPStatus.NO_CONTENT)

    # -- directories --------------------------------------------------------------------------------------

    def create_directory(self, path: str, params: dict[str, str], body: bytes,
                         headers: dict[str, str]) -> FileAnswer:  # fmt: skip
        self._only(params)
        for ancestor in [*self._ancestors(path), path]:
            if ancestor in self.state.files:
                raise _already_exists("file")
        self._directories.add(path)
        return FileAnswer(HTTPStatus.NO_CONTENT)

    def list_directory(self, path: str, params: dict[str, str], body: bytes,
                       headers: dict[str, str]) -> FileAnswer:  # fmt: skip
        self._only(params, "page_size", "page_token")
        if not self._is_directory(path):
            raise _not_found("directory")
        size = params.get("page_size", str(PAGE_MAX))
        if not size.isdigit() or int(size) < 1:
            raise invalid("page_size must be a positive integer")
        after = self._token_name(params.get("page_token"))
        entries = sorted(self._children(path).items())
        page = [(name, is_dir) for name, is_dir in entries if after is None or name > after][
            : min(int(size), PAGE_MAX)
        ]
        contents = [self._entry(f"{path}/{name}", name, is_dir) for name, is_dir in page]
        answer: dict[str, Any] = {"contents": contents} if contents else {}
        if page and page[-1][0] != entries[-1][0]:
            answer["next_page_token"] = base64.urlsafe_b64encode(page[-1][0].encode()).decode()
        return FileAnswer(HTTPStatus.OK, json.dumps(answer).encode())

    def directory_metadata(self, path: str, params: dict[str, str], body: bytes,
                           headers: dict[str, str]) -> FileAnswer:  # fmt: skip
        self._only(params)
        if not self._is_directory(path):
            raise _not_found("directory")
        return FileAnswer(HTTPStatus.OK)

    # -- helpers ------------------------------------------------------------------------------------------

    def _checked(self, path: str, directory: bool) -> str:
        """``path`` when it names something inside (or, for a directory, the root of) a volume that exists."""
        if not path.startswith("/") or any(
            part in ("", ".", "..") for part in path[1:].rstrip("/").split("/")
        ):
            raise invalid(f"Invalid path: {path!r} must be absolute and normalised")
        path = path.rstrip("/") if directory else path
        volume = VOLUME.match(path)
        inside = volume is not None and (
            (directory and path == volume.group(0)) or path.startswith(volume.group(0) + "/")
        )
        if volume is None or not inside:
            raise ApiError(HTTPStatus.FORBIDDEN, "PERMISSION_DENIED", "No operations allowed on this path.")
        if volume.group(0) not in self.state.volumes:
            name = ".".join(volume.groups())
            raise ApiError(HTTPStatus.NOT_FOUND, "NOT_FOUND", f"Volume '{name}' does not exist.")
        return path

    def _file(self, path: str) -> bytes:
        contents = self.state.files.get(path)
        if contents is None:
            raise _not_found("file")
        return contents

    def _file_headers(self, path: str, contents: bytes) -> dict[str, str]:
        return {"Last-Modified": _http_date(self._modified.get(path, self._started)), "Accept-Ranges": "bytes",
                "Content-Length": str(len(contents))}  # fmt: skip

    @staticmethod
    def _ancestors(path: str) -> list[str]:
        """The directories above ``path`` inside its volume, the volume's root excluded."""
        root = "/".join(path.split("/")[:4])  # _checked let only volume paths through
        parts = path[len(root) :].strip("/").split("/")
        return [root + "/" + "/".join(parts[:i]) for i in range(1, len(parts))]

    def _is_directory(self, path: str) -> bool:
        if VOLUME.fullmatch(path) or path in self._directories:
            return True
        return any(name.startswith(path + "/") for name in [*self.state.files, *self._directories])

    def _children(self, path: str) -> dict[str, bool]:
        """Name -> is a directory, for each entry directly under ``path``."""
        children: dict[str, bool] = {}
        for name, is_dir in [
            *((f, False) for f in self.state.files),
            *((d, True) for d in self._directories),
        ]:
            if name.startswith(path + "/"):
                head, _, rest = name[len(path) + 1 :].partition("/")
                children[head] = children.get(head, False) or is_dir or bool(rest)
        return children

    def _entry(self, path: str, name: str, is_dir: bool) -> dict[str, Any]:
        if is_dir:
            return {"path": path, "name": name, "is_directory": True}
        modified = int(self._modified.get(path, self._started) * 1000)
        return {"path": path, "name": name, "is_directory": False, "file_size": len(self.state.files[path]),
                "last_modified": modified}  # fmt: skip

    @staticmethod
    def _token_name(token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return base64.urlsafe_b64decode(token.encode()).decode()
        except ValueError:
            raise invalid("Invalid page_token") from None

    @staticmethod
    def _only(params: dict[str, str], *allowed: str) -> None:
        for name in params:
            if name not in allowed:
                raise invalid(f"Unknown parameter {name}")
