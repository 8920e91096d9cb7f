#!/usr/bin/env python3
"""Write the values table of charts/anthill/README.md from the `# --` comments in values.yaml.

Each key whose comment starts with `# --` gets a row (key, type, default, description); the comment may go
on over more `#` lines. The table sits between the BEGIN/END markers in the README; the rest of the README
is written by hand. tests/unit/charts/test_chart_readme.py fails while the README is stale.

Usage: python3 hack/chart-readme.py [--check]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[1] / "charts" / "anthill"
BEGIN = "<!-- BEGIN VALUES (hack/chart-readme.py) -->"
END = "<!-- END VALUES -->"
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z][\w.-]*):")


def described_keys(text: str) -> list[tuple[str, str]]:
    """(dotted key, description) for every key preceded by a `# --` comment, in file order."""
    rows: list[tuple[str, str]] = []
    path: list[tuple[int, str]] = []
    description: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            description = [stripped.removeprefix("# --").strip()]
        elif stripped.startswith("#") and description is not None:
            description.append(stripped.removeprefix("#").strip())
        elif match := KEY.match(line):
            indent = len(match["indent"])
            path = [(i, k) for i, k in path if i < indent] + [(indent, match["key"])]
            if description is not None:
                rows.append((".".join(k for _, k in path), " ".join(description)))
            description = None
        elif not stripped.startswith("-"):
            description = None
    return rows


def lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node[part]
    return node


def type_name(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}.get(
        type(value), "null"
    )


def table(values_text: str) -> str:
    values = yaml.safe_load(values_text)
    lines = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for key, description in described_keys(values_text):
        value = lookup(values, key)
        default = json.dumps(value, separators=(",", ":")).replace("|", "\\|")
        text = description.replace("|", "\\|")
        lines.append(f"| `{key}` | {type_name(value)} | `{default}` | {text} |")
    return "\n".join(lines)


def render(readme: str, values_text: str) -> str:
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(values_text)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    readme_path = CHART / "README.md"
    readme = readme_path.read_text()
    wanted = render(readme, (CHART / "values.yaml").read_text())
    if wanted == readme:
        return 0
    if "--check" in argv:
        print(f"{readme_path} is stale: run python3 hack/chart-readme.py", file=sys.stderr)
        return 1
    readme_path.write_text(wanted)
    print(f"wrote {readme_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
