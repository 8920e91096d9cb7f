"""What each image in ``docker/`` installs: the workspace packages its Dockerfile names, and their closure.

Each Dockerfile's build stage names the workspace packages it installs in one line, ``ARG PACKAGES="..."``;
the third-party packages come from ``uv export`` of those packages, so the lock file says the rest.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from anthill_devkit.images import IMAGES, instructions

__all__ = [
    "IMAGES",
    "arg_defaults",
    "closure",
    "copied_sources",
    "export_extras",
    "final_stage",
    "install_set",
    "instructions",
    "members",
]

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"


def dockerfile(image: str) -> str:
    return (DOCKER / f"{image}.Dockerfile").read_text()


def arg_defaults(text: str) -> dict[str, str]:
    return dict(arg.split("=", 1) for kind, arg in instructions(text) if kind == "ARG" and "=" in arg)


def final_stage(text: str) -> list[tuple[str, str]]:
    steps = instructions(text)
    last_from = max(i for i, (kind, _) in enumerate(steps) if kind == "FROM")
    return steps[last_from:]


def install_set(image: str) -> tuple[str, ...]:
    """The workspace packages ``docker/<image>.Dockerfile`` builds and installs, as its PACKAGES line names them."""
    found = [
        arg for kind, arg in instructions(dockerfile(image)) if kind == "ARG" and arg.startswith("PACKAGES=")
    ]
    if len(found) != 1:
        raise AssertionError(
            f"docker/{image}.Dockerfile must name its packages in exactly one ARG PACKAGES line"
        )
    return tuple(found[0].removeprefix("PACKAGES=").strip('"').split())


def export_extras(image: str) -> tuple[str, ...]:
    """The extras the Dockerfile's ``uv export`` installs (``--extra local``: the Spark image's PySpark)."""
    run = " ".join(
        arg for kind, arg in instructions(dockerfile(image)) if kind == "RUN" and "uv export" in arg
    )
    return tuple(re.findall(r"--extra[ =]([A-Za-z0-9_-]+)", run))


def copied_sources(image: str) -> set[str]:
    """The workspace folders whose sources the Dockerfile copies into its build stage."""
    copies = (arg.split() for kind, arg in instructions(dockerfile(image)) if kind == "COPY")
    return {source.removesuffix("/src/") for source, *rest in copies
            if source.endswith("/src/") and rest == [source]}  # fmt: skip


@cache
def members() -> dict[str, str]:
    """Workspace package name -> its folder."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    folders = root["tool"]["uv"]["workspace"]["members"]
    return {tomllib.loads((REPO / f / "pyproject.toml").read_text())["project"]["name"]: f for f in folders}


@cache
def _locked() -> dict[str, dict[str, Any]]:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return {package["name"]: package for package in lock["package"]}


def closure(packages: tuple[str, ...], extras: tuple[str, ...] = ()) -> set[str]:
    """Every package the lock file installs with ``packages`` and those of their ``extras`` (no dev groups),
    themselves included."""
    locked = _locked()
    seen: set[str] = set()
    todo = list(packages)
    for name in packages:
        optional = locked[name].get("optional-dependencies", {})
        todo.extend(dep["name"] for extra in extras for dep in optional.get(extra, []))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(dep["name"] for dep in locked[name].get("dependencies", []))
    return seen
