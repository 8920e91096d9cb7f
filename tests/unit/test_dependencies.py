"""Each workspace package declares every third-party package it imports, not only what arrives through another.

An image installs a package's declared dependencies and their closure; an import that only works because some
other dependency happens to pull its distribution in breaks when that dependency changes.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.dockerfiles import REPO, members

# Imports a package may make without declaring them, and why.
PROVIDED = {
    # PySpark's own bridge to the JVM: it comes with whichever Spark runs the jobs (local or Databricks).
    "anthill-spark": {"py4j"},
    # The Databricks server's task launcher runs in the runtime environment it builds, which provides PySpark.
    "anthill-sandbox": {"pyspark"},
}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(source: Path) -> set[str]:
    """Top-level names of the absolute imports in every module under ``source``."""
    names: set[str] = set()
    for path in source.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def declared(folder: str) -> set[str]:
    """What the package requires, and what its extras add (the Spark wheel's PySpark and Delta: the `local`
    extra, since Databricks Runtime provides them, see test_runtime_provided_imports_come_from_an_extra)."""
    project = tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]
    specs = [
        *project["dependencies"],
        *(s for extra in project.get("optional-dependencies", {}).values() for s in extra),
    ]
    return {_normalise(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in specs}


def source_package(folder: str) -> Path:
    (source,) = [p for p in (REPO / folder / "src").iterdir() if p.is_dir() and not p.name.startswith("__")]
    return source


@pytest.mark.parametrize("package", sorted(members()))
def test_every_import_of_another_package_is_declared(package: str) -> None:
    """Third-party packages and the workspace's own (whose editable installs the lookup below cannot see)."""
    folder = members()[package]
    ours = {source_package(f).name: _normalise(name) for name, f in members().items()}
    distributions = packages_distributions()
    missing = []
    for module in sorted(imported_modules(source_package(folder)) - set(sys.stdlib_module_names)):
        if module == "__future__" or module in PROVIDED.get(package, set()):
            continue
        providers = (
            {ours[module]} if module in ours else {_normalise(d) for d in distributions.get(module, [])}
        )
        if _normalise(package) not in providers and not providers & declared(folder):
            missing.append(f"{module} ({', '.join(sorted(providers)) or 'not installed'})")
    assert not missing, f"{package} imports but does not declare: {', '.join(missing)}"


def test_runtime_provided_imports_come_from_an_extra() -> None:
    """The Spark wheel imports PySpark and Delta, which Databricks Runtime provides: they are declared, but only
    in the `local` extra, never as install requirements of the wheel a cluster installs."""
    project = tomllib.loads((REPO / "spark" / "pyproject.toml").read_text())["project"]
    required = {
        _normalise(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in project["dependencies"]
    }
    extra = {
        _normalise(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0])
        for spec in project["optional-dependencies"]["local"]
    }
    assert {"pyspark", "delta-spark"} <= extra
    assert not required & {"pyspark", "delta-spark"}
