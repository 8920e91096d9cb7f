"""The node's cgroup cleanup walks trees whose leaves vanish under it (containers exiting as it walks)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from anthill_devkit import node


@pytest.fixture
def hierarchy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cgroup-like tree: pods/<pod>/<container>, each with a cgroup.procs file, under one hierarchy."""
    top = tmp_path / "cpuacct"
    for pod in ("pod-a", "pod-b"):
        for container in ("c1", "c2"):
            leaf = top / "anthill-x" / "kubepods" / pod / container
            leaf.mkdir(parents=True)
            (leaf / "cgroup.procs").write_text("")
        (top / "anthill-x" / "kubepods" / pod / "cgroup.procs").write_text("")
    monkeypatch.setattr(node, "cgroup_hierarchies", lambda: [top])
    return top


def vanish_on_scan(monkeypatch: pytest.MonkeyPatch, doomed: Path) -> list[Path]:
    """Remove ``doomed`` at the moment the walk is about to list it, as runc does to an exited container."""
    real_scandir = os.scandir
    removed: list[Path] = []

    def scandir(path: int | str | os.PathLike[str] = ".") -> Iterator[os.DirEntry[str]]:
        if not isinstance(path, int) and Path(path) == doomed and doomed.exists():
            shutil.rmtree(doomed)
            removed.append(doomed)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return removed


def test_killing_tasks_survives_a_container_cgroup_vanishing_mid_walk(
    hierarchy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = hierarchy / "anthill-x" / "kubepods" / "pod-a" / "c1"
    removed = vanish_on_scan(monkeypatch, doomed)
    node._kill_cgroup_tasks("anthill-x")
    assert removed == [doomed]


def test_removing_cgroups_survives_a_vanishing_directory_and_removes_the_rest(
    hierarchy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = hierarchy / "anthill-x" / "kubepods" / "pod-b"
    for procs in hierarchy.rglob("cgroup.procs"):
        procs.unlink()  # a real cgroupfs directory is removable with its interface files in it; a plain one is not
    removed = vanish_on_scan(monkeypatch, doomed)
    node._remove_cgroups("anthill-x", timeout=1.0)
    assert removed == [doomed]
    assert not (hierarchy / "anthill-x").exists()
