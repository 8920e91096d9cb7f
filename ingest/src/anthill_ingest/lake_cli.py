"""``anthill lake``: one-off maintenance of a lake the ingest writes (``migrate``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from anthill_api.lake import is_key_segment

app = typer.Typer(help="Maintenance of a lake's bronze layer and feed state.", no_args_is_help=True)
out = Console(soft_wrap=True, highlight=False)


@app.callback()
def lake() -> None:
    """Maintenance of a lake's bronze layer and feed state."""


def _kubernetes_name(value: str) -> str:
    if not is_key_segment(value):
        raise typer.BadParameter("must be a Kubernetes name (lower case, digits, '-' and '.')")
    return value


@app.command("migrate")
def migrate(
    lake: Annotated[
        str, typer.Option(help="The feed's spec.destination.uri: s3://bucket/prefix or file:///path.")
    ],
    namespace: Annotated[str, typer.Option(help="Namespace of the MarketFeed.", callback=_kubernetes_name)],
    feed: Annotated[str, typer.Option(help="Name of the MarketFeed.", callback=_kubernetes_name)],
    apply: Annotated[
        bool, typer.Option("--apply", help="Move the objects (default: only list them).")
    ] = False,
) -> None:
    """Move a feed's objects from the layout without namespaces into <namespace>/<feed> keys.

    Lists what it would move unless --apply is given. Running it again, after it finished or was interrupted, is safe.
    """
    from anthill_ingest import migrate as migration  # noqa: PLC0415 - boto3 loads here, not at `anthill`
    from anthill_ingest.sink import open_sink  # noqa: PLC0415

    try:
        sink = open_sink(lake)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lake") from None
    count = migration.migrate(sink, namespace, feed, apply, out.print)
    if not count:
        out.print(f"nothing of {namespace}/{feed} in the old layout under {sink.uri}")
    elif not apply:
        out.print(f"{count} objects would move; run again with --apply to move them")
    else:
        out.print(f"{count} objects moved")
