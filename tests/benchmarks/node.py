"""Benchmark the real local node and the images: node start to Ready, image builds, image sizes, and the
time from `kubectl apply` of a MarketFeed to bronze objects written by a real ingest pod.

    .venv/bin/python -m tests.benchmarks.node [--runs 3] [--cold-build]

Start time is from the node's prepare (bridge, cgroups) to the node Ready and schedulable, with the control
plane started in between, as `anthill dev cluster up` does. "Image rebuild, nothing changed" is a second
`build` of each image with every input unchanged. `--cold-build` also builds kubelet and kube-scheduler into
an empty tool cache and Go build cache (minutes), and the base and images into an empty image cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import yaml
from moto.server import ThreadedMotoServer
from rich.console import Console
from rich.table import Table

from anthill_devkit.cluster import node_binaries
from anthill_devkit.controlplane import Binaries, ControlPlane, free_ports, wait_for
from anthill_devkit.images import IMAGES, Builder
from anthill_devkit.node import Node, ensure_debian_packages, missing_packages
from anthill_devkit.toolchain import CONTROL_PLANE_TOOLS, NODE_TOOLS, Toolchain
from anthill_sandbox.server import SandboxServer
from tests.benchmarks.report import publish

REPO = Path(__file__).resolve().parents[2]


def _cold_tool_build(console: Console) -> dict[str, float]:
    seconds = {}
    with tempfile.TemporaryDirectory(prefix="anthill-bench-tools-") as cache:
        env = {**os.environ, "ANTHILL_TOOLS_DIR": cache, "GOCACHE": str(Path(cache) / "go-build")}
        for tool in NODE_TOOLS:
            began = time.monotonic()
            subprocess.run(
                [str(REPO / ".venv/bin/anthill"), "dev", "tools", "build", tool], env=env, check=True
            )
            seconds[tool] = time.monotonic() - began
            console.print(f"cold build of {tool}: {seconds[tool]:.0f}s")
    return seconds


def _feed_to_bronze(plane: ControlPlane, node: Node, builder: Builder, binaries: Binaries) -> float:
    """Seconds from `kubectl apply` of a feed (operator running in-cluster from its image is not needed
    here: the CronJob is what the operator renders) to the first bronze object in S3."""
    kubectl = [str(binaries.kubectl), f"--kubeconfig={plane.kubeconfig}"]
    ingest = builder.build("ingest")
    node.import_image(ingest.archive)
    sandbox = SandboxServer(host=node.gateway).start()
    (port,) = free_ports(1)
    moto = ThreadedMotoServer(ip_address=node.gateway, port=port, verbose=False)
    moto.start()
    try:
        s3 = boto3.client("s3", endpoint_url=f"http://{node.gateway}:{port}", region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
        s3.create_bucket(Bucket="bench")
        subprocess.run(
            [*kubectl, "apply", "--server-side", "-f", str(REPO / "crds")], check=True, capture_output=True
        )
        subprocess.run(
            [*kubectl, "wait", "--for=condition=Established", "crd", "--all"], check=True, capture_output=True
        )
        subprocess.run([*kubectl, "create", "secret", "generic", "massive-api", "--from-literal=apiKey=sandbox"],
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run([*kubectl, "create", "secret", "generic", "lake", "--from-literal=AWS_ACCESS_KEY_ID=bench",
                        "--from-literal=AWS_SECRET_ACCESS_KEY=bench"], check=True, capture_output=True)  # fmt: skip
        operator_env = {
            **os.environ,
            "ANTHILL_INGEST_IMAGE": ingest.reference,
            "ANTHILL_IMAGE_PULL_POLICY": "Never",
            "ANTHILL_MARKET_DATA_URL": sandbox.url,
            "ANTHILL_S3_ENDPOINT_URL": f"http://{node.gateway}:{port}",
            "ANTHILL_S3_REGION": "us-east-1",
            "ANTHILL_S3_CREDENTIALS_SECRET": "lake",
            "ANTHILL_NAMESPACES": "default",
            "ANTHILL_METRICS_PORT": "0",
            "ANTHILL_HEALTH_PORT": "0",
            "KUBECONFIG": str(plane.kubeconfig),
        }
        operator = subprocess.Popen([str(REPO / ".venv/bin/anthill"), "operator", "run", "--standalone"],
                                    env=operator_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            feed = {
                "apiVersion": "anthill.io/v1alpha1", "kind": "MarketFeed", "metadata": {"name": "bench"},
                "spec": {"dataset": "aggregates", "assetClass": "stocks", "tickers": ["AAPL"],
                         "bars": {"multiplier": 1, "timespan": "day"}, "schedule": "* * * * *",
                         "backfill": {"from": "2026-11-02"}, "destination": {"uri": "s3://bench/lake"},
                         "apiKeySecretRef": {"name": "massive-api", "key": "apiKey"}},
            }  # fmt: skip
            began = time.monotonic()
            subprocess.run([*kubectl, "apply", "-f", "-"], input=yaml.safe_dump(feed), text=True, check=True,
                           capture_output=True)  # fmt: skip
            wait_for(lambda: subprocess.run([*kubectl, "get", "cronjob", "bench"], capture_output=True, check=False).returncode == 0,
                     60, "the feed's CronJob")  # fmt: skip
            subprocess.run(
                [*kubectl, "create", "job", "bench-run", "--from=cronjob/bench"],
                check=True,
                capture_output=True,
            )
            wait_for(lambda: bool(s3.list_objects_v2(Bucket="bench", Prefix="lake/bronze/").get("Contents")),
                     180, "bronze objects from the ingest pod", interval=0.25)  # fmt: skip
            return time.monotonic() - began
        finally:
            operator.terminate()
            operator.wait(timeout=30)
    finally:
        moto.stop()
        sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="nodes to start one after another")
    parser.add_argument("--cold-build", action="store_true", help="also time cold tool and image builds")
    args = parser.parse_args()
    console = Console(stderr=True)
    ensure_debian_packages(missing_packages(), console.print)
    toolchain = Toolchain.from_environment(REPO)
    binaries = Binaries(*(toolchain.ensure(tool) for tool in CONTROL_PLANE_TOOLS))
    table = Table(title="local node and images (2 cores)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    if args.cold_build:
        for tool, seconds in _cold_tool_build(console).items():
            table.add_row(f"cold build of {tool} (empty Go cache)", f"{seconds:.0f} s")
        with tempfile.TemporaryDirectory(prefix="anthill-bench-images-") as cache:
            cold = Builder(repo=REPO, cache=Path(cache), progress=console.print)
            began = time.monotonic()
            cold.ensure_base()
            table.add_row("base image (debootstrap), cold", f"{time.monotonic() - began:.0f} s")
            for image in IMAGES:
                built = cold.build(image)
                table.add_row(f"{image} image build, cold base cache", f"{built.seconds:.0f} s")
    builder = Builder(repo=REPO, cache=toolchain.cache, progress=console.print)
    for image in IMAGES:
        builder.build(image)  # warm: whatever changed is built before measuring
        again = builder.build(image)
        table.add_row(f"{image} image rebuild, nothing changed", f"{again.seconds:.2f} s")
        table.add_row(f"{image} image size", f"{again.size / 2**20:.0f} MiB")
    starts = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="anthill-bench-node-") as workdir:
            node = Node(binaries=node_binaries(toolchain), workdir=Path(workdir), name="anthill-bench")
            began = time.monotonic()
            node.prepare()
            with ControlPlane(
                binaries=binaries, workdir=Path(workdir), host=node.gateway, node_name=node.name
            ) as plane:
                try:
                    node.start(plane)
                    starts.append(time.monotonic() - began)
                    console.print(f"run {run}/{args.runs}: control plane + node Ready in {starts[-1]:.2f}s")
                    if run == args.runs:
                        seconds = _feed_to_bronze(plane, node, builder, binaries)
                        table.add_row(
                            "kubectl apply of a feed to bronze objects (real pod)", f"{seconds:.1f} s"
                        )
                finally:
                    node.stop()
    table.add_row("control plane + node to Ready, median", f"{statistics.median(starts):.2f} s")
    table.add_row("control plane + node to Ready, min / max", f"{min(starts):.2f} / {max(starts):.2f} s")
    publish(table)


if __name__ == "__main__":
    main()
