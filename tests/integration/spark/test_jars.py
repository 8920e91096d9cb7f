"""Jars come through the real Maven, and a jar whose bytes are not the pinned ones never reaches the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from anthill_spark import jars

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# The smallest of the pinned jars (about 30 kB): the fetch itself is what is under test.
COORDINATE = "io.delta:delta-storage:4.0.1"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANTHILL_TOOLS_DIR", str(tmp_path))
    return tmp_path / "jars"


def test_a_jar_with_its_pinned_checksum_is_cached(cache: Path) -> None:
    [path] = jars.ensure_jars((COORDINATE,))
    assert path == cache / "delta-storage-4.0.1.jar"
    assert jars.sha256(path) == jars.SHA256[path.name]
    assert sorted(p.name for p in cache.iterdir() if not p.name.startswith(".")) == [path.name]


def test_a_jar_whose_bytes_differ_from_the_pin_is_refused(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if a mirror or a proxy served other bytes: the pin no longer matches what Maven hands over."""
    monkeypatch.setitem(jars.SHA256, "delta-storage-4.0.1.jar", "0" * 64)
    with pytest.raises(jars.JarsError, match="not the pinned"):
        jars.ensure_jars((COORDINATE,))
    assert not (cache / "delta-storage-4.0.1.jar").exists()
    assert not (cache / ".incoming").exists()


def test_a_jar_without_a_pin_is_not_fetched(cache: Path) -> None:
    with pytest.raises(jars.JarsError, match="no SHA-256 pinned"):
        jars.ensure_jars(("io.delta:delta-storage:3.3.0",))
    assert not list(cache.glob("*.jar"))
