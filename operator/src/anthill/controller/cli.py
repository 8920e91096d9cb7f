"""``anthill operator run`` and ``anthill render``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console

from anthill.marketfeed.desired import Feed, desired_configmap, desired_cronjob, owner_reference
from anthill.marketstream.desired import Stream, desired_deployment
from anthill.marketstream.desired import desired_configmap as stream_configmap
from anthill.marketstream.desired import owner_reference as stream_owner
from anthill.pipeline.desired import Pipeline, bronze_locations
from anthill.pipeline.kubernetes import desired_spark_cronjob
from anthill.pipeline.kubernetes import owner_reference as pipeline_owner
from anthill.settings import OperatorSettings
from anthill.workload import workload_lake_environment
from anthill.yamlio import dump_all
from anthill_api.common import API_VERSION
from anthill_api.errors import describe_validation_error
from anthill_api.marketfeed import MarketFeedSpec
from anthill_api.marketstream import MarketStreamSpec
from anthill_api.pipeline import MedallionPipelineSpec

err = Console(stderr=True, soft_wrap=True)
RENDERABLE = frozenset({"MarketFeed", "MarketStream", "MedallionPipeline", "DatabricksConnection"})
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
    from anthill.controller.run import run  # noqa: PLC0415 - kopf loads only when the operator runs

    overrides: dict[str, Any] = {}
    if standalone is not None:
        overrides["standalone"] = standalone
    if namespace:
        overrides["namespaces"] = namespace
    settings = OperatorSettings(**overrides)
    run(settings)


def render_documents(docs: list[dict[str, Any]], settings: OperatorSettings) -> list[dict[str, Any]]:
    """The Kubernetes objects the operator would create for each resource in ``docs``.

    MarketFeeds give a ConfigMap and a CronJob, MarketStreams a ConfigMap and a Deployment, MedallionPipelines on the Kubernetes runtime a CronJob;
    DatabricksConnections and pipelines on Databricks have no Kubernetes children and give nothing. A
    pipeline reads the bronze of the feeds in ``docs`` it names; one ``docs`` lacks is taken to write to
    the pipeline's lake.
    """
    children: list[dict[str, Any]] = []
    destinations = {
        ((doc.get("metadata") or {}).get("namespace", "default"), (doc.get("metadata") or {}).get("name")): (
            MarketFeedSpec.model_validate(doc.get("spec") or {}).destination.uri
        )
        for doc in docs
        if doc.get("kind") == "MarketFeed"
    } | {
        ((doc.get("metadata") or {}).get("namespace", "default"), (doc.get("metadata") or {}).get("name")): (
            MarketStreamSpec.model_validate(doc.get("spec") or {}).destination.uri
        )
        for doc in docs
        if doc.get("kind") == "MarketStream"
    }
    for doc in docs:
        kind = doc.get("kind")
        meta = doc.get("metadata") or {}
        if doc.get("apiVersion") != API_VERSION or kind not in RENDERABLE:
            raise ValueError(
                f"cannot render {kind} {meta.get('name')}: not an anthill.io/v1alpha1 "
                f"{', '.join(sorted(RENDERABLE))}"
            )
        name, namespace = meta.get("name", "unnamed"), meta.get("namespace", "default")
        if kind == "MarketFeed":
            feed = Feed(name, namespace, MarketFeedSpec.model_validate(doc.get("spec") or {}), uid="<uid>")
            for child in (desired_configmap(feed), desired_cronjob(feed, settings)):
                child["metadata"]["ownerReferences"] = [owner_reference(feed)]
                children.append(child)
        elif kind == "MarketStream":
            stream = Stream(
                name, namespace, MarketStreamSpec.model_validate(doc.get("spec") or {}), uid="<uid>"
            )
            for child in (stream_configmap(stream), desired_deployment(stream, settings)):
                child["metadata"]["ownerReferences"] = [stream_owner(stream)]
                children.append(child)
        elif kind == "MedallionPipeline":
            spec = MedallionPipelineSpec.model_validate(doc.get("spec") or {})
            if spec.runtime.kubernetes is not None:
                feeds = {
                    ref.name: destinations.get((namespace, ref.name), spec.lake.uri) for ref in spec.feeds
                }
                pipeline = Pipeline(
                    name, namespace, spec, uid="<uid>", bronze=bronze_locations(namespace, spec, feeds)
                )
                cronjob = desired_spark_cronjob(pipeline, workload_lake_environment(settings))
                cronjob["metadata"]["ownerReferences"] = [pipeline_owner(pipeline)]
                children.append(cronjob)
    return children


def render(
    manifest: Annotated[
        Path, typer.Argument(help="Anthill resources as YAML (multi-document), or - for stdin.")
    ],
) -> None:
    """Print the Kubernetes objects a manifest would produce, without a cluster.

    MarketFeeds, MarketStreams and MedallionPipelines on the Kubernetes runtime have children; a pipeline on Databricks
    becomes a Databricks job instead, and prints nothing.
    """
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
