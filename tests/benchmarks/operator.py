"""Benchmark the MarketFeed operator on the real local control plane.

    .venv/bin/python -m tests.benchmarks.operator [--feeds 500] [--drift 10] [--passes 3]

Applies N MarketFeeds at once and reports the seconds until all are Ready, then lets the operator idle
through drift passes and counts the writes the API server received for feeds, CronJobs and ConfigMaps
(from kube-apiserver's own request metrics, so kopf's writes count too), and the operator's RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from anthill_devkit.controlplane import (
    Binaries,
    ControlPlane,
    free_ports,
    probe,
    rss_bytes,
    terminate,
    wait_for,
)
from anthill_devkit.toolchain import CONTROL_PLANE_TOOLS, Toolchain
from tests.benchmarks.report import publish
from tests.helpers import api_writes

REPO = Path(__file__).resolve().parents[2]
RESOURCES = {"marketfeeds", "cronjobs", "configmaps"}


def feeds_yaml(count: int, namespace: str) -> str:
    base = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    docs = []
    for index in range(count):
        doc = json.loads(json.dumps(base))
        doc["metadata"] = {"name": f"feed-{index:04d}", "namespace": namespace}
        doc["spec"]["schedule"] = f"{index % 60} 18 * * 1-5"
        docs.append(doc)
    return yaml.safe_dump_all(docs)


def metric(url: str, name: str, **labels: str) -> float:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def ready_count(kubectl: list[str], namespace: str) -> int:
    out = subprocess.run([*kubectl, "get", "mf", "-n", namespace, "-o",
                          'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return out.split().count("True")


def install(kubectl: list[str]) -> None:
    """CRDs, a namespace and the feeds' API-key Secret."""
    steps = [
        ["apply", "--server-side", "-f", str(REPO / "crds")],
        ["wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=anthill"],
        ["create", "namespace", "bench"],
        ["create", "secret", "generic", "massive-api", "-n", "bench", "--from-literal=apiKey=k"],
    ]
    for step in steps:
        subprocess.run([*kubectl, *step], check=True, capture_output=True)


def start_operator(plane: ControlPlane, drift: float, log: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    metrics_port, health_port = free_ports(2)
    # Loopback hosts allowed: the pipeline benchmark's sandbox Jobs API serves on 127.0.0.1.
    env = {**os.environ, "KUBECONFIG": str(plane.kubeconfig), "ANTHILL_STANDALONE": "true",
           "ANTHILL_DRIFT_INTERVAL": str(drift), "ANTHILL_METRICS_PORT": str(metrics_port),
           "ANTHILL_HEALTH_PORT": str(health_port),
           "ANTHILL_ALLOW_LOOPBACK_HOSTS": "true"}  # fmt: skip
    with log.open("wb") as out:
        operator = subprocess.Popen([str(Path(sys.executable).parent / "anthill"), "operator", "run"], env=env,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    wait_for(lambda: probe(f"http://127.0.0.1:{health_port}/healthz"), 60, "the operator")
    return operator, f"http://127.0.0.1:{metrics_port}/metrics", rss_bytes(operator.pid) or 0


def measure_ready(kubectl: list[str], feeds: int, console: Console) -> dict[str, float]:
    console.print(f"applying {feeds} MarketFeeds")
    started = time.monotonic()
    subprocess.run([*kubectl, "apply", "-f", "-"], input=feeds_yaml(feeds, "bench"), text=True, check=True,
                   capture_output=True)  # fmt: skip
    applied = time.monotonic() - started
    with console.status("waiting for all feeds to be Ready") as status:

        def all_ready() -> bool:
            count = ready_count(kubectl, "bench")
            status.update(f"{count}/{feeds} Ready after {time.monotonic() - started:.0f}s")
            return count == feeds

        wait_for(all_ready, 1800, "every feed to be Ready", interval=0.5)
    return {"applied": applied, "ready": time.monotonic() - started}


def measure_idle(
    plane: ControlPlane, metrics_url: str, feeds: int, drift: float, passes: int
) -> dict[str, float]:
    """Writes the API server receives while the operator runs ``passes`` drift passes over unchanged feeds."""

    def timer_runs() -> float:
        return metric(metrics_url, "anthill_reconcile_total", trigger="timer")

    settle = timer_runs() + feeds  # one full pass lets the creation burst's events die down
    wait_for(lambda: timer_runs() >= settle, drift * 4 + 120, "one full drift pass", interval=0.5)
    writes_before = api_writes(plane, RESOURCES)
    target = timer_runs() + feeds * passes
    started = time.monotonic()
    wait_for(lambda: timer_runs() >= target, drift * (passes + 4) + 300, "idle drift passes", interval=0.5)
    writes = api_writes(plane, RESOURCES)
    writes.subtract(writes_before)
    return {
        "pass_seconds": (time.monotonic() - started) / passes,
        "idle_writes_per_pass": writes.total() / passes,
        **{f"idle: {what}": count / passes for what, count in writes.items() if count},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--drift", type=float, default=10.0, help="operator drift interval, seconds")
    parser.add_argument("--passes", type=int, default=3, help="idle drift passes to measure")
    args = parser.parse_args()
    console = Console(stderr=True)
    toolchain = Toolchain.from_environment(REPO)
    binaries = Binaries(*(toolchain.ensure(tool) for tool in CONTROL_PLANE_TOOLS))
    with (
        tempfile.TemporaryDirectory(prefix="anthill-bench-") as tmp,
        ControlPlane(binaries=binaries, workdir=Path(tmp)) as plane,
    ):
        kubectl = [str(binaries.kubectl), f"--kubeconfig={plane.kubeconfig}"]
        install(kubectl)
        operator, metrics_url, rss_empty = start_operator(plane, args.drift, Path(tmp) / "operator.log")
        try:
            results = measure_ready(kubectl, args.feeds, console)
            with console.status(f"idling through {args.passes} drift passes"):
                results |= measure_idle(plane, metrics_url, args.feeds, args.drift, args.passes)
            rss = rss_bytes(operator.pid) or 0
            p50 = _reconcile_p50(metrics_url)
        finally:
            terminate(operator.pid)
            operator.wait(timeout=10)

    table = Table(title=f"MarketFeed operator ({args.feeds} feeds, drift every {args.drift:.0f}s)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row(f"kubectl apply of {args.feeds} feeds", f"{results['applied']:.1f} s")
    table.add_row(f"apply -> all {args.feeds} Ready", f"{results['ready']:.1f} s")
    table.add_row("API writes per idle drift pass (feeds, CronJobs, ConfigMaps)",
                  f"{results['idle_writes_per_pass']:.1f}")  # fmt: skip
    for what, per_pass in sorted(results.items()):
        if what.startswith("idle: "):
            table.add_row(f"  of which {what[6:]}", f"{per_pass:.1f}")
    table.add_row("one drift pass over all feeds", f"{results['pass_seconds']:.1f} s")
    table.add_row("reconcile duration, median bucket", p50)
    table.add_row("operator RSS, no feeds", f"{rss_empty / 2**20:.0f} MiB")
    table.add_row(f"operator RSS, {args.feeds} feeds", f"{rss / 2**20:.0f} MiB")
    publish(table)


def _reconcile_p50(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "anthill_reconcile_duration_seconds_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    for bound, count in buckets:
        if count >= total / 2:
            return f"<= {bound * 1000:.0f} ms"
    return "-"


if __name__ == "__main__":
    main()
