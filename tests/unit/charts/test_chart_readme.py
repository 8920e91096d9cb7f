"""The chart README's values table is current and every value is described."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import yaml

from tests.helpers import REPO
from tests.unit.charts.helm import CHART

SCRIPT = REPO / "hack" / "chart-readme.py"


def leaves(values: dict[str, Any], prefix: str = "") -> set[str]:
    found = set()
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        found |= leaves(value, f"{dotted}.") if isinstance(value, dict) and value else {dotted}
    return found


def test_readme_values_table_is_current() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True,
                            check=False, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_every_value_is_described() -> None:
    """A key is described itself (`# --` above it) or through the key it belongs to."""
    readme = (CHART / "README.md").read_text()
    documented = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    undocumented = {
        key for key in leaves(values)
        if not any(key == d or key.startswith(f"{d}.") for d in documented)
    }  # fmt: skip
    assert not undocumented
