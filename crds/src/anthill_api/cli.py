"""``anthill crds``: write or check the CustomResourceDefinitions generated from the models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from anthill_api import KINDS
from anthill_api.crdgen import render_crd
from anthill_api.reference import reference

err = Console(stderr=True, soft_wrap=True)
app = typer.Typer(help="CustomResourceDefinitions, generated from the API models.", no_args_is_help=True)


def crd_files(directory: Path) -> dict[Path, str]:
    """Each kind's CRD file under ``directory`` with the content it must have."""
    return {directory / f"{kind.name}.yaml": render_crd(kind) for kind in KINDS}


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="Directory to write the CRDs to.")] = Path("crds"),
    check: Annotated[
        bool, typer.Option("--check", help="Only verify the files are current; exit 1 if not.")
    ] = False,
) -> None:
    """Write crds/<plural>.anthill.io.yaml from the pydantic models (or check they are current)."""
    _write_or_check(crd_files(out), check, "anthill crds generate", f"CRDs in {out} are current")


@app.command("reference")
def write_reference(
    out: Annotated[Path, typer.Option(help="Markdown file to write.")] = Path("docs/api-reference.md"),
    check: Annotated[
        bool, typer.Option("--check", help="Only verify the file is current; exit 1 if not.")
    ] = False,
) -> None:
    """Write the API reference (every field, constraint, default and admission rule) from the models."""
    _write_or_check({out: reference(KINDS)}, check, "anthill crds reference", f"{out} is current")


def _write_or_check(files: dict[Path, str], check: bool, command: str, current: str) -> None:
    """Write the files whose content differs from ``files``; with ``check``, only name them and exit 1."""
    stale = [
        path for path, content in files.items() if (path.read_text() if path.exists() else None) != content
    ]
    if check and stale:
        err.print(f"[red]stale:[/] {', '.join(map(str, stale))}; run `{command}`")
        raise typer.Exit(1)
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path])
        err.print(f"wrote {path}")
    if not stale:
        err.print(current)
