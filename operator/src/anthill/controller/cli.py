"""``anthill operator run`` and ``anthill render``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console

from anthill.api.common import API_VERSION
from anthill.api.errors import describe_validation_error
from anthill.api.marketfeed import MarketFeedSpec
from anthill.marketfeed.desired import Feed, desired_configmap, desired_cronjob, owner_reference
from anthill.settings import OperatorSettings
from anthill.yamlio import dump_all

err = Console(stderr=True, soft_wrap=True)
operator_app = typer.Typer(help="The Anthill operator.", no_args_is_help=True)


@operator_app.command("run")
def run_operator(
    standalone: Annotated[
        bool | None, typer.Option("--standalone/--peering", help="Skip kopf peering (one replica only).")
    ] = None,
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", "-n", help="Watch only these namespaces (repeatable).")
    ] = None,
) -> None:
    """Run the operator against the current kubeconfig (or in-cluster credentials) until interrupted.

    Settings come from ANTHILL_* environment variables; flags override them.
    """
    try:
        from anthill.controller.run import run  # noqa: PLC0415 - kopf loads only when the operator runs
    except ModuleNotFoundError as exc:
        err.print(f"[red]error:[/] the operator needs the `anthill[operator]` extra ({exc.name} is missing)")
        raise typer.Exit(1) from exc

    overrides: dict[str, Any] = {}
    if standalone is not None:
        overrides["standalone"] = standalone
    if namespace:
        overrides["namespaces"] = namespace
    settings = OperatorSettings(**overrides)
    run(settings)


def render_documents(docs: list[dict[str, Any]], settings: OperatorSettings) -> list[dict[str, Any]]:
    """The children the operator would create for each MarketFeed in ``docs``."""
    children: list[dict[str, Any]] = []
    for doc in docs:
        if doc.get("apiVersion") != API_VERSION or doc.get("kind") != "MarketFeed":
            raise ValueError(
                f"cannot render {doc.get('kind')} {doc.get('metadata', {}).get('name')}: "
                "only anthill.io/v1alpha1 MarketFeeds have Kubernetes children"
            )
        meta = doc.get("metadata") or {}
        spec = MarketFeedSpec.model_validate(doc.get("spec") or {})
        feed = Feed(meta.get("name", "unnamed"), meta.get("namespace", "default"), spec, uid="<uid>")
        for child in (desired_configmap(feed), desired_cronjob(feed, settings)):
            child["metadata"]["ownerReferences"] = [owner_reference(feed)]
            children.append(child)
    return children


def render(
    manifest: Annotated[Path, typer.Argument(help="MarketFeed YAML file (multi-document), or - for stdin.")],
) -> None:
    """Print the objects a manifest would produce, without a cluster."""
    text = sys.stdin.read() if str(manifest) == "-" else manifest.read_text()
    docs = [doc for doc in yaml.safe_load_all(text) if doc]
    try:
        children = render_documents(docs, OperatorSettings())
    except ValidationError as exc:
        err.print(f"[red]invalid spec:[/] {describe_validation_error(exc)}", highlight=False)
        raise typer.Exit(1) from exc
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    typer.echo(dump_all(children), nl=False)
