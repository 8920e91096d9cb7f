"""The ``anthill`` command: a root that every image carries, and the subcommands its packages plug in.

Each workspace package adds its subcommands through the ``anthill.cli`` entry-point group. An entry point
names either a ``typer.Typer``, mounted as a command group under the entry point's name, or a plain function,
mounted as a single command. Installing a package adds its commands and nothing else: the ingest image has
``anthill ingest`` and no operator, and with only the operator installed ``anthill --help`` lacks ``dev``,
``demo`` and ``sandbox``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Annotated, Any

import typer

from anthill_api import __version__

ENTRY_POINT_GROUP = "anthill.cli"


def build_app() -> typer.Typer:
    """The root command with every installed package's subcommands mounted."""
    app = typer.Typer(
        name="anthill",
        help="Anthill: Kubernetes-native market data. Declare MarketFeeds and MedallionPipelines; "
        "the operator keeps the world in line.",
        no_args_is_help=True,
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        mount(app, entry.name, entry.load())
    return app


def mount(app: typer.Typer, name: str, plugin: Any) -> None:
    """Add ``plugin`` (a Typer: a group; a function: a command) to ``app`` as ``name``."""
    if isinstance(plugin, typer.Typer):
        app.add_typer(plugin, name=name)
    elif callable(plugin):
        command: Callable[..., Any] = plugin
        app.command(name)(command)
    else:
        raise TypeError(f"entry point {ENTRY_POINT_GROUP}:{name} is neither a typer.Typer nor a function")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"anthill {__version__}")
        raise typer.Exit


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Anthill: Kubernetes-native market data."""


def main() -> None:
    build_app()()
