"""The ``anthill`` command.

Subcommands of the workspace's other packages plug in through the ``anthill.cli`` entry-point group: each
entry point names a ``typer.Typer`` that is mounted under the entry point's name, so installing a package
adds its commands and the operator image carries none of the Spark ones.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Annotated

import typer

from anthill import __version__
from anthill.api.cli import app as crds_app
from anthill.controller.cli import operator_app, render
from anthill.demo.cli import demo
from anthill.dev.cli import app as dev_app

app = typer.Typer(
    name="anthill",
    help="Anthill: Kubernetes-native market data. Declare MarketFeeds and MedallionPipelines; "
    "the operator keeps the world in line.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(dev_app, name="dev")
app.add_typer(crds_app, name="crds")
app.add_typer(operator_app, name="operator")
app.command("render")(render)
app.command("demo")(demo)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"anthill {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Anthill: Kubernetes-native market data."""


def _mount_plugins() -> None:
    for entry in entry_points(group="anthill.cli"):
        plugin = entry.load()
        if not isinstance(plugin, typer.Typer):
            raise TypeError(f"entry point anthill.cli:{entry.name} is not a typer.Typer")
        app.add_typer(plugin, name=entry.name)


def main() -> None:
    _mount_plugins()
    app()
