"""Benchmark the MarketFeed operator on the real local control plane, this tree beside a baseline.

    .venv/bin/python -m tests.benchmarks.operator [--feeds 1000 --feeds 5000] [--baseline main]
        [--drift 10] [--passes 3] [--idle-max 1000] [--edits 5]

For each feed count, in a control plane of its own: applies N MarketFeeds at once and reports the seconds until
all are Ready (from the apply's start and from its end), then lets the operator idle through drift passes and
counts the writes the API server received for feeds, CronJobs and ConfigMaps (from kube-apiserver's own
request metrics, so kopf's writes count too), the time a spec edit takes to reach its CronJob with all N feeds
present, and the operator's RSS. With ``--baseline REF`` every count runs a second time with REF's operator
packages first on the operator's path.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from anthill.marketfeed.desired import FEED_LABEL
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
from tests.benchmarks.report import baseline_sources, publish, revision
from tests.helpers import api_writes

REPO = Path(__file__).resolve().parents[2]
RESOURCES = {"marketfeeds", "cronjobs", "configmaps"}
# The operator's packages: a baseline runs these from its own tree.
PACKAGES = ("crds/src", "operator/src")


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


def start_operator(
    plane: ControlPlane, drift: float, log: Path, path: list[Path] | None = None
) -> tuple[subprocess.Popen[bytes], str, int]:
    """The operator, with ``path`` (a baseline's package sources) first on its PYTHONPATH."""
    metrics_port, health_port = free_ports(2)
    # Loopback hosts allowed: the pipeline benchmark's sandbox Jobs API serves on 127.0.0.1.
    env = {**os.environ, "KUBECONFIG": str(plane.kubeconfig), "ANTHILL_STANDALONE": "true",
           "ANTHILL_DRIFT_INTERVAL": str(drift), "ANTHILL_METRICS_PORT": str(metrics_port),
           "ANTHILL_HEALTH_PORT": str(health_port),
           "ANTHILL_ALLOW_LOOPBACK_HOSTS": "true"}  # fmt: skip
    if path:
        env["PYTHONPATH"] = os.pathsep.join([*map(str, path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
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
    ready = time.monotonic() - started
    return {"applied": applied, "ready": ready, "ready_after_apply": ready - applied}


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


def edit_latency(plane: ControlPlane, kubectl: list[str], feeds: int, edits: int) -> list[float]:
    """Seconds from a schedule edit of one feed to its CronJob carrying the new schedule, for ``edits`` feeds
    spread over all of them (one at a time, so each is timed alone)."""
    api: k8s.ApiClient = k8s_config.new_client_from_config(str(plane.kubeconfig))  # type: ignore[no-untyped-call]
    batch = k8s.BatchV1Api(api)
    seconds = []
    try:
        for step in range(edits):
            name = f"feed-{(step * feeds // max(edits, 1)) % feeds:04d}"
            schedule = f"{step % 60} 3 * * 2"  # differs from every schedule feeds_yaml gives

            def carried(name: str = name, schedule: str = schedule) -> bool:
                jobs = batch.list_namespaced_cron_job("bench", label_selector=f"{FEED_LABEL}={name}").items
                return bool(jobs) and jobs[0].spec.schedule == schedule

            started = time.monotonic()
            subprocess.run([*kubectl, "patch", "mf", name, "-n", "bench", "--type=merge",
                            "-p", json.dumps({"spec": {"schedule": schedule}})],
                           check=True, capture_output=True)  # fmt: skip
            wait_for(carried, 600, f"{name}'s CronJob to carry its edited schedule", interval=0.05)
            seconds.append(time.monotonic() - started)
    finally:
        api.close()  # type: ignore[no-untyped-call]
    return seconds


def bench(
    feeds: int, args: argparse.Namespace, binaries: Binaries, path: list[Path], console: Console
) -> dict[str, Any]:
    """Every figure for one tree (its packages first on ``path``) at one feed count, in a fresh control plane."""
    with (
        tempfile.TemporaryDirectory(prefix="anthill-bench-") as tmp,
        ControlPlane(binaries=binaries, workdir=Path(tmp)) as plane,
    ):
        kubectl = [str(binaries.kubectl), f"--kubeconfig={plane.kubeconfig}"]
        install(kubectl)
        operator, metrics_url, rss_empty = start_operator(plane, args.drift, Path(tmp) / "operator.log", path)
        try:
            results: dict[str, Any] = dict(measure_ready(kubectl, feeds, console))
            if args.passes and feeds <= args.idle_max:
                with console.status(f"idling through {args.passes} drift passes"):
                    results |= measure_idle(plane, metrics_url, feeds, args.drift, args.passes)
            if args.edits:
                with console.status(f"timing {args.edits} spec edits"):
                    edits = edit_latency(plane, kubectl, feeds, args.edits)
                results |= {"edit_median": statistics.median(edits), "edit_max": max(edits)}
            results |= {"rss_empty": rss_empty / 2**20, "rss": (rss_bytes(operator.pid) or 0) / 2**20}
            results["p50"] = _reconcile_p50(metrics_url)
        finally:
            terminate(operator.pid)
            operator.wait(timeout=10)
    return results


ROWS = [  # (figure, how it prints)
    ("applied", "kubectl apply of all feeds, s", "{:.1f}"),
    ("ready_after_apply", "apply finished -> all Ready, s (goal < 30 at 1,000)", "{:.1f}"),
    ("ready", "apply started -> all Ready, s", "{:.1f}"),
    ("idle_writes_per_pass", "API writes per idle drift pass (goal 0)", "{:.1f}"),
    ("pass_seconds", "one drift pass over all feeds, s", "{:.1f}"),
    ("edit_median", "spec edit -> its CronJob, median, s", "{:.2f}"),
    ("edit_max", "spec edit -> its CronJob, slowest, s", "{:.2f}"),
    ("p50", "reconcile duration, median bucket", "{}"),
    ("rss_empty", "operator RSS, no feeds, MiB (goal <= 150 at 1,000 feeds)", "{:.0f}"),
    ("rss", "operator RSS, all feeds, MiB", "{:.0f}"),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, action="append", help="feed count; repeat for several (500)")
    parser.add_argument("--baseline", help="git ref whose operator runs beside this tree's, at every count")
    parser.add_argument("--drift", type=float, default=10.0, help="operator drift interval, seconds")
    parser.add_argument("--passes", type=int, default=3, help="idle drift passes to measure (0: none)")
    parser.add_argument(
        "--idle-max", type=int, default=1000, help="measure idle passes up to this many feeds"
    )
    parser.add_argument("--edits", type=int, default=5, help="spec edits to time at each count (0: none)")
    args = parser.parse_args()
    counts = args.feeds or [500]
    console = Console(stderr=True)
    toolchain = Toolchain.from_environment(REPO)
    binaries = Binaries(*(toolchain.ensure(tool) for tool in CONTROL_PLANE_TOOLS))
    columns: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="anthill-baseline-") as root:
        trees: list[tuple[str, list[Path]]] = [("this tree", [])]
        if args.baseline:
            sources = baseline_sources(args.baseline, Path(root), PACKAGES)
            trees.insert(0, (f"baseline {revision(args.baseline)}", sources))
        for feeds in counts:
            for tree, path in trees:
                console.print(f"[bold]{tree}, {feeds:,} feeds[/bold] (load {os.getloadavg()[0]:.1f})")
                columns.append((f"{tree}\n{feeds:,} feeds", bench(feeds, args, binaries, path, console)))
    table = Table(
        title=f"MarketFeed operator (drift every {args.drift:.0f}s; load {os.getloadavg()[0]:.1f} at the end)"
    )
    table.add_column("figure")
    for header, _ in columns:
        table.add_column(header, justify="right")
    for key, label, form in ROWS:
        if any(key in results for _, results in columns):
            table.add_row(label, *(form.format(r[key]) if key in r else "-" for _, r in columns))
    for what in sorted({k for _, r in columns for k in r if k.startswith("idle: ")}):
        table.add_row(f"  of which {what[6:]}", *(f"{r.get(what, 0):.1f}" for _, r in columns))
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
