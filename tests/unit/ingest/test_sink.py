"""FileSink: whole-file writes, and partial files of killed writers removed by the next write."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

from anthill_ingest.sink import STALE_PARTIAL_SECONDS, FileSink


def exited_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_write_replaces_the_file_whole_and_leaves_no_partial(tmp_path: Path) -> None:
    sink = FileSink(f"file://{tmp_path}")
    sink.write("bronze/a/date=2024-01-02/daily.parquet", b"one")
    sink.write("bronze/a/date=2024-01-02/daily.parquet", b"two")
    assert sink.read("bronze/a/date=2024-01-02/daily.parquet") == b"two"
    assert [p.name for p in (tmp_path / "bronze/a/date=2024-01-02").iterdir()] == ["daily.parquet"]


def test_the_next_write_removes_partials_no_live_writer_owns(tmp_path: Path) -> None:
    directory = tmp_path / "bronze/a/date=2024-01-02"
    directory.mkdir(parents=True)
    host = socket.gethostname()
    dead = directory / f".daily.parquet.partial-{host}-{exited_pid()}"
    live = directory / f".daily.parquet.partial-{host}-{os.getppid()}"
    elsewhere = directory / ".daily.parquet.partial-other-pod-7"
    old_elsewhere = directory / ".daily.parquet.partial-gone-pod-8"
    other_key = directory / f".minute.parquet.partial-{host}-{exited_pid()}"
    for partial in (dead, live, elsewhere, old_elsewhere, other_key):
        partial.write_bytes(b"half")
    an_hour_ago = old_elsewhere.stat().st_mtime - STALE_PARTIAL_SECONDS - 1
    os.utime(old_elsewhere, (an_hour_ago, an_hour_ago))

    FileSink(f"file://{tmp_path}").write("bronze/a/date=2024-01-02/daily.parquet", b"bars")

    left = sorted(p.name for p in directory.iterdir())
    assert left == sorted(["daily.parquet", live.name, elsewhere.name, other_key.name])


def test_digest_is_the_sha256_of_the_stored_bytes(tmp_path: Path) -> None:
    sink = FileSink(f"file://{tmp_path}")
    assert sink.digest("bronze/x.parquet") is None
    sink.write("bronze/x.parquet", b"bars")
    assert sink.digest("bronze/x.parquet") == hashlib.sha256(b"bars").hexdigest()


def test_keys_list_objects_under_a_folder_without_partial_files(tmp_path: Path) -> None:
    sink = FileSink(f"file://{tmp_path}")
    sink.write("bronze/a/date=2024-01-02/daily.parquet", b"one")
    sink.write("bronze/b/date=2024-01-02/daily.parquet", b"two")
    sink.write("bronzes/x.parquet", b"not under bronze/")
    (tmp_path / "bronze/a/date=2024-01-02/.daily.parquet.partial-host-1").write_bytes(b"half")
    assert sink.keys("bronze") == [
        "bronze/a/date=2024-01-02/daily.parquet",
        "bronze/b/date=2024-01-02/daily.parquet",
    ]
    assert sink.keys("absent") == []
    sink.delete("bronze/a/date=2024-01-02/daily.parquet")
    sink.delete("bronze/a/date=2024-01-02/daily.parquet")  # deleting what is gone succeeds
    assert sink.keys("bronze") == ["bronze/b/date=2024-01-02/daily.parquet"]
