"""The README's promise: a quickstart of exactly two commands, both real Makefile targets."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quickstart_is_exactly_make_demo_and_make_test() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    first_block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert first_block is not None
    assert first_block.group(1).split("\n")[:-1] == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    assert "exec make test" in (REPO / ".ci" / "run").read_text()
    targets = re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert {"demo", "test"} <= set(targets)
