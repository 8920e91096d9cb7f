"""Image build inputs: what a Dockerfile copies, .dockerignore, the hash in the tag, the apt mirror."""

from __future__ import annotations

from pathlib import Path

import pytest

from anthill_devkit.images import (
    ImageError,
    apt_mirror,
    context_files,
    copied_paths,
    dockerignore_patterns,
    ignored,
)
from anthill_devkit.toolchain import input_hash, repo_root

REPO = repo_root(Path(__file__))


def test_copied_paths_skip_other_stages() -> None:
    dockerfile = (
        "FROM x AS a\nCOPY a.txt b/ ./\nCOPY --from=a /opt /opt\nADD --chmod=644 c.tar /c\nRUN true\n"
    )
    assert copied_paths(dockerfile) == ["a.txt", "b/", "c.tar"]


def test_dockerignore_last_match_wins() -> None:
    patterns = dockerignore_patterns("# comment\n**/__pycache__\n.venv\n*.md\n!README.md\n")
    assert ignored(".venv/lib/x.py", patterns)
    assert ignored("docs/guide.md", patterns)
    assert not ignored("README.md", patterns)
    assert not ignored("operator/src/anthill/app.py", patterns)


def test_operator_image_inputs_are_its_packages_not_the_others() -> None:
    text = (REPO / "docker" / "operator.Dockerfile").read_text()
    patterns = dockerignore_patterns((REPO / ".dockerignore").read_text())
    files = {p.relative_to(REPO).as_posix() for p in context_files(REPO, text, patterns)}
    assert "uv.lock" in files
    assert any(f.startswith("operator/src/anthill/") for f in files)
    assert "spark/pyproject.toml" in files  # uv reads every member's pyproject
    assert not any(f.startswith(("spark/src/", "sandbox/src/", "devkit/src/", "tests/")) for f in files)


def test_input_hash_changes_with_any_input() -> None:
    base = [("a", b"1"), ("b", b"2")]
    assert input_hash(base) == input_hash(list(base))
    assert input_hash(base) != input_hash([("a", b"1"), ("b", b"3")])
    assert input_hash(base) != input_hash([("a", b"1"), ("c", b"2")])


def test_apt_mirror_from_deb822_or_one_line_sources() -> None:
    deb822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"
    security = (
        "Types: deb\nURIs: http://mirror.example/security\nSuites: bookworm-security\nComponents: main\n"
    )
    assert apt_mirror({"a.sources": security + "\n" + deb822}) == "http://mirror.example/debian"
    assert apt_mirror({"sources.list": "deb http://m.example/debian bookworm main contrib\n"}) == (
        "http://m.example/debian"
    )
    with pytest.raises(ImageError, match="no source for Debian bookworm"):
        apt_mirror({"sources.list": "deb http://m.example/debian trixie main\n"})
