"""Benchmark MedallionPipelines on Databricks: the operator, the real SDK and the sandbox Jobs API.

    .venv/bin/python -m tests.benchmarks.pipeline [--pipelines 200] [--poll 10] [--passes 3]

Applies N pipelines at once and reports the seconds until every one is Ready (each a created Databricks job),
then lets the operator poll unchanged pipelines and counts, per poll of one pipeline, the calls the Jobs API
received (from the sandbox's own request counts) and the writes the API server received for pipelines.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import yaml
from rich.console import Console
from rich.table import Table

from anthill_devkit.controlplane import Binaries, ControlPlane, rss_bytes, terminate, wait_for
from anthill_devkit.toolchain import CONTROL_PLANE_TOOLS, Toolchain
from anthill_sandbox.databricks import DEFAULT_TOKEN, DatabricksServer
from tests.benchmarks.operator import metric, start_operator
from tests.benchmarks.report import publish
from tests.helpers import api_writes

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "bench"
CLUSTER = {"sparkVersion": "15.4.x-scala2.12", "nodeTypeId": "i3.xlarge", "numWorkers": 2}


def manifests(count: int, server: DatabricksServer) -> str:
    docs: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "databricks", "namespace": NAMESPACE,
                                                    "labels": {"anthill.io/credentials": "true"}},
         "stringData": {"token": DEFAULT_TOKEN}},
        {"apiVersion": "anthill.io/v1alpha1", "kind": "DatabricksConnection",
         "metadata": {"name": "sandbox", "namespace": NAMESPACE},
         "spec": {"host": server.url, "credentialsSecretRef": {"name": "databricks"}}},
        # The feed the pipelines read: the operator resolves its bronze location before any job is made.
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "massive-api", "namespace": NAMESPACE},
         "stringData": {"apiKey": "sandbox"}},
        {"apiVersion": "anthill.io/v1alpha1", "kind": "MarketFeed",
         "metadata": {"name": "us-equities-daily", "namespace": NAMESPACE},
         "spec": {"dataset": "aggregates", "tickers": ["AAPL"], "schedule": "0 18 * * 1-5",
                  "destination": {"uri": "s3://anthill-lake/market"},
                  "apiKeySecretRef": {"name": "massive-api", "key": "apiKey"}}},
    ]  # fmt: skip
    for index in range(count):
        docs.append({
            "apiVersion": "anthill.io/v1alpha1", "kind": "MedallionPipeline",
            "metadata": {"name": f"pipeline-{index:04d}", "namespace": NAMESPACE},
            "spec": {"feeds": [{"name": "us-equities-daily"}], "lake": {"uri": "s3://anthill-lake/market"},
                     "catalog": {"name": "anthill"}, "schedule": f"{index % 60} 19 * * 1-5",
                     "timeZone": "America/New_York",
                     "runtime": {"databricks": {"connectionRef": {"name": "sandbox"}, "cluster": CLUSTER}}},
        })  # fmt: skip
    return yaml.safe_dump_all(docs)


def jobs_api_calls(server: DatabricksServer) -> dict[str, int]:
    """Requests the Jobs API served, per endpoint."""
    answer: dict[str, int] = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["requests"]
    return answer


def pipeline_writes(plane: ControlPlane) -> int:
    """Writes the API server served for medallionpipelines (objects and status) since it started."""
    return sum(api_writes(plane, {"medallionpipelines"}).values())


def ready_count(kubectl: list[str]) -> int:
    out = subprocess.run([*kubectl, "get", "mp", "-n", NAMESPACE, "-o",
                          'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return out.split().count("True")


def measure_idle(
    plane: ControlPlane,
    server: DatabricksServer,
    metrics_url: str,
    args: argparse.Namespace,
    console: Console,
) -> dict[str, Any]:
    """Jobs API calls and pipeline writes while the operator polls unchanged pipelines ``args.passes`` times."""

    def polls() -> float:
        return metric(metrics_url, "anthill_reconcile_total", kind="MedallionPipeline", trigger="timer")

    with console.status(f"idling through {args.passes} polls of every pipeline"):
        settle = polls() + args.pipelines
        wait_for(lambda: polls() >= settle, args.poll * 4 + 300, "one full poll", interval=0.5)
        calls_before, writes_before, polls_before = jobs_api_calls(server), pipeline_writes(plane), polls()
        target = polls_before + args.pipelines * args.passes
        started = time.monotonic()
        wait_for(lambda: polls() >= target, args.poll * (args.passes + 4) + 600, "idle polls", interval=0.5)
        polled = polls() - polls_before
        after = jobs_api_calls(server)
        return {
            "polled": polled,
            # The Jobs API only: the DatabricksConnection's own credential checks are not polls of a pipeline.
            "calls": {key: after[key] - calls_before.get(key, 0) for key in after if key.startswith("jobs/")},
            "writes": pipeline_writes(plane) - writes_before,
            "pass_seconds": (time.monotonic() - started) / args.passes,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pipelines", type=int, default=200)
    parser.add_argument("--poll", type=float, default=10.0, help="operator poll (drift) interval, seconds")
    parser.add_argument("--passes", type=int, default=3, help="idle polls of every pipeline to measure")
    args = parser.parse_args()
    console = Console(stderr=True)
    toolchain = Toolchain.from_environment(REPO)
    binaries = Binaries(*(toolchain.ensure(tool) for tool in CONTROL_PLANE_TOOLS))
    server = DatabricksServer().start()
    with (
        tempfile.TemporaryDirectory(prefix="anthill-bench-") as tmp,
        ControlPlane(binaries=binaries, workdir=Path(tmp)) as plane,
    ):
        kubectl = [str(binaries.kubectl), f"--kubeconfig={plane.kubeconfig}"]
        for step in (["apply", "--server-side", "-f", str(REPO / "crds")],
                     ["wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=anthill"],
                     ["create", "namespace", NAMESPACE]):  # fmt: skip
            subprocess.run([*kubectl, *step], check=True, capture_output=True)
        operator, metrics_url, _ = start_operator(plane, args.poll, Path(tmp) / "operator.log")
        try:
            console.print(f"applying {args.pipelines} MedallionPipelines")
            started = time.monotonic()
            subprocess.run([*kubectl, "apply", "-f", "-"], input=manifests(args.pipelines, server), text=True,
                           check=True, capture_output=True)  # fmt: skip
            with console.status("waiting for every pipeline to be Ready") as status:

                def all_ready() -> bool:
                    count = ready_count(kubectl)
                    status.update(f"{count}/{args.pipelines} Ready after {time.monotonic() - started:.0f}s")
                    return bool(count == args.pipelines)

                wait_for(all_ready, 1800, "every pipeline to be Ready", interval=0.5)
            ready = time.monotonic() - started
            creates = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["requests"][
                "jobs/create"
            ]

            idle = measure_idle(plane, server, metrics_url, args, console)
            rss = rss_bytes(operator.pid) or 0
        finally:
            terminate(operator.pid)
            operator.wait(timeout=10)
            server.stop()

    table = Table(
        title=f"MedallionPipeline operator ({args.pipelines} pipelines, poll every {args.poll:.0f}s)"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row(f"apply -> all {args.pipelines} Ready (jobs created)", f"{ready:.1f} s")
    table.add_row("jobs/create calls", str(creates))
    polled, calls = idle["polled"], idle["calls"]
    per_endpoint = ", ".join(f"{key} {count / polled:.2f}" for key, count in sorted(calls.items()) if count)
    table.add_row("Jobs API calls per idle poll of one pipeline", f"{sum(calls.values()) / polled:.2f}")
    table.add_row("  by endpoint", per_endpoint)
    table.add_row("Kubernetes writes per idle poll of one pipeline", f"{idle['writes'] / polled:.2f}")
    table.add_row("one poll over all pipelines", f"{idle['pass_seconds']:.1f} s")
    table.add_row(f"operator RSS, {args.pipelines} pipelines", f"{rss / 2**20:.0f} MiB")
    publish(table)


if __name__ == "__main__":
    main()
