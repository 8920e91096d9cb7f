"""``anthill crds``: write or check the CustomResourceDefinitions generated from the models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from anthill.api import KINDS
from anthill.api.crdgen import render_crd

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
    stale = []
    for path, content in crd_files(out).items():
        current = path.read_text() if path.exists() else None
        if current == content:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            err.print(f"wrote {path}")
    if check and stale:
        err.print(f"[red]stale:[/] {', '.join(map(str, stale))}; run `anthill crds generate`")
        raise typer.Exit(1)
    if not stale:
        err.print(f"CRDs in {out} are current")
