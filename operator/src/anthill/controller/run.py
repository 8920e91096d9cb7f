"""Start the operator: settings, Kubernetes client, kopf registry, metrics and health endpoints, peering."""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from typing import Any

import kopf
from prometheus_client import start_http_server

from anthill.controller import marketfeed, marketstream, pipeline
from anthill.controller.filters import KOPF_PREFIX
from anthill.controller.sweep import active_replica
from anthill.kube import Store, connect
from anthill.marketfeed.reconcile import Reconciler
from anthill.marketstream.reconcile import StreamReconciler
from anthill.pipeline.connection_reconcile import ConnectionReconciler
from anthill.pipeline.connections import Connections
from anthill.pipeline.reconcile import PipelineReconciler
from anthill.runs import heartbeat
from anthill.settings import OperatorSettings

TIMER_EXIT_WAIT = 0.1  # seconds a deletion waits for a running timer tick before polling for its end
TIMER_EXIT_POLL = 1.0  # seconds between those polls


def ensure_peering(store: Store, settings: OperatorSettings) -> None:
    """Create the peering object replicas meet in (kopf expects it to exist); an existing one is kept."""
    for namespace in settings.scopes:
        store.ensure_peering(settings.peering, namespace)


def build_registry(operator_settings: OperatorSettings, reconciler: Reconciler) -> kopf.OperatorRegistry:
    """Every handler, around one Store: MarketFeeds, MarketStreams, MedallionPipelines and
    DatabricksConnections."""
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        """Same credentials as the reconcilers' client: in-cluster, else the kubeconfig."""
        return kopf.login_via_client(**kwargs)

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        if not operator_settings.standalone:
            ensure_peering(reconciler.store, operator_settings)
        # Handler progress and the last-handled spec live in annotations: the status subresource is ours,
        # and its schema prunes anything it does not declare.
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=KOPF_PREFIX)
        settings.persistence.finalizer = f"{KOPF_PREFIX}/finalizer"
        settings.posting.level = logging.WARNING  # Kubernetes Events for problems only
        settings.posting.reporting_component = "anthill-operator"
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        settings.execution.max_workers = 8
        settings.peering.lifetime = operator_settings.peering_lifetime
        # A deleted object keeps its finalizer until its timers have exited. A timer whose tick is still
        # running when the deletion arrives (a Databricks call in flight) is checked again only after
        # cancellation_polling, 60 s by default, which kept `kubectl delete` waiting a minute after the
        # delete handler had finished. Wait briefly for the tick to end, then check every second.
        settings.background.instant_exit_timeout = TIMER_EXIT_WAIT
        settings.background.cancellation_polling = TIMER_EXIT_POLL

    active = active_replica(reconciler.store, operator_settings)
    marketfeed.register(registry, reconciler, operator_settings, active)
    streams = StreamReconciler(reconciler.store, operator_settings)
    marketstream.register(registry, streams, operator_settings, active)
    clients = Connections(reconciler.store, operator_settings)
    pipeline.register(
        registry,
        PipelineReconciler(reconciler.store, operator_settings, clients),
        ConnectionReconciler(reconciler.store, operator_settings, clients),
        operator_settings,
    )
    return registry


def run(
    settings: OperatorSettings,
    stop_flag: threading.Event | None = None,
    ready_flag: threading.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop_flag``)."""
    kopf.configure(log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.FULL)
    # One INFO line per handler run is noise at hundreds of feeds; reconcilers log what they change.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # The SDK's DEBUG lines are whole request and response bodies: never in the operator's log.
    logging.getLogger("databricks.sdk").setLevel(logging.INFO)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
    if settings.priority is None:  # settled here: the drift sweeps compare it with the peering object's
        settings = settings.model_copy(update={"priority": secrets.randbelow(1_000_000) + 1})
    reconciler = Reconciler(store=Store(connect()), settings=settings)
    registry = build_registry(settings, reconciler)
    liveness = f"http://0.0.0.0:{settings.health_port}/healthz" if settings.health_port else None
    beating = threading.Event()
    if settings.heartbeat_interval:
        threading.Thread(target=heartbeat, args=(settings.heartbeat_interval, beating), daemon=True).start()
    try:
        asyncio.run(
            kopf.operator(
                registry=registry,
                standalone=settings.standalone,
                peering_name=None if settings.standalone else settings.peering,
                priority=settings.priority,
                clusterwide=not settings.namespaces,
                namespaces=settings.namespaces,
                liveness_endpoint=liveness,
                stop_flag=stop_flag,
                ready_flag=ready_flag,
            )
        )
    finally:
        beating.set()
