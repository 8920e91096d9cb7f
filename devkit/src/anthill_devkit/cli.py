"""``anthill dev``: the local control plane and the pinned tools it is built from."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import yaml
from rich.console import Console
from rich.table import Table

from anthill_devkit import cluster as clusters
from anthill_devkit import gitops
from anthill_devkit.controlplane import Binaries, ControlPlane, ControlPlaneError
from anthill_devkit.images import IMAGES, Builder, ImageError, missing_build_packages
from anthill_devkit.node import NodeError, NodeRecord, ensure_debian_packages, import_image
from anthill_devkit.toolchain import (
    CONTROL_PLANE_TOOLS,
    DEFAULT_TOOLS,
    NODE_TOOLS,
    TOOLS,
    Toolchain,
    ToolchainError,
    repo_root,
)

err = Console(stderr=True, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

app = typer.Typer(help="Developer tooling: the local control plane and pinned tools.", no_args_is_help=True)
cluster_app = typer.Typer(
    help="A real local Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager), "
    "or a kind cluster where Docker is available.",
    no_args_is_help=True,
)
tools_app = typer.Typer(
    help="Pinned Go binaries (etcd, kube-apiserver, kube-controller-manager, kubectl, helm, ...) "
    "built once into ~/.cache/anthill.",
    no_args_is_help=True,
)
images_app = typer.Typer(
    help="The operator, ingest and Spark images, built here from docker/*.Dockerfile with buildah over a "
    "local Debian base, and imported into the local node.",
    no_args_is_help=True,
)
app.add_typer(cluster_app, name="cluster")
app.add_typer(tools_app, name="tools")
app.add_typer(images_app, name="images")

NameOption = Annotated[str, typer.Option("--name", "-n", help="Cluster name; several can run side by side.")]


def _toolchain() -> Toolchain:
    try:
        return Toolchain.from_environment()
    except ToolchainError as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _announce_build(name: str, version: str) -> None:
    err.print(f"[yellow]building[/] {name} {version} from source (first time only; minutes on 2 cores)")


def _ensure(toolchain: Toolchain, name: str) -> Path:
    started = time.monotonic()
    built = False

    def on_build(tool: str, version: str) -> None:
        nonlocal built
        built = True
        _announce_build(tool, version)

    with err.status(f"checking {name}"):
        path = toolchain.ensure(name, on_build)
    if built:
        err.print(f"[green]built[/] {name} in {time.monotonic() - started:.0f}s -> {path}")
    return path


@tools_app.command("build")
def tools_build(
    tools: Annotated[
        list[str] | None, typer.Argument(help=f"Tools to build (default: {' '.join(DEFAULT_TOOLS)}).")
    ] = None,
) -> None:
    """Build the pinned tools that are missing from the cache (idempotent)."""
    toolchain = _toolchain()
    try:
        for name in tools or DEFAULT_TOOLS:
            _ensure(toolchain, name)
    except ToolchainError as exc:
        _fail(str(exc))
    err.print(f"tools ready in {toolchain.cache}")


@tools_app.command("list")
def tools_list() -> None:
    """Show each tool's pinned version and where its binary is (or would be built)."""
    toolchain = _toolchain()
    table = Table("tool", "version", "status", "path", "purpose")
    for name, tool in TOOLS.items():
        found = toolchain.find(name)
        table.add_row(
            name,
            toolchain.version(name),
            "[green]ready[/]" if found else "[yellow]not built[/]",
            str(found or toolchain.cached_path(name)),
            tool.purpose,
        )
    out.print(table)


@tools_app.command("path")
def tools_path(tool: Annotated[str, typer.Argument(help="Tool name, e.g. kubectl.")]) -> None:
    """Print the path of a tool's binary, building it first if needed."""
    try:
        path = _ensure(_toolchain(), tool)
    except ToolchainError as exc:
        _fail(str(exc))
    typer.echo(str(path))


@cluster_app.command("up")
def cluster_up(
    name: NameOption = "anthill",
    kind: Annotated[
        bool, typer.Option("--kind", help="Create a kind cluster instead (needs Docker and kind).")
    ] = False,
    node: Annotated[
        bool,
        typer.Option(
            "--node/--no-node",
            help="Add a real node (containerd, runc, CNI bridge, kubelet, kube-scheduler) so pods run; "
            "needs root, installs the Debian packages it lacks.",
        ),
    ] = True,
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Stay attached; stop the control plane on Ctrl-C.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for each component to become healthy.")
    ] = 90.0,
) -> None:
    """Start a local cluster (idempotent: a running one is left as it is) and print how to reach it."""
    existing = clusters.load_state(name)
    if existing is not None and clusters.is_running(existing) and not foreground:
        err.print(f"cluster [bold]{name}[/] is already running ({existing.mode}, {existing.server})")
        _print_reach(existing)
        return
    if existing is not None:
        clusters.down(existing)  # stale: some process died; start clean
    try:
        if foreground:
            _run_foreground(name, timeout)
            return
        toolchain = _toolchain()
        tools = [_ensure(toolchain, tool) for tool in ("kubectl", "helm")]
        with err.status("starting the cluster") as status:
            if kind:
                state = clusters.up_kind(name, progress=status.update, path_dirs=[t.parent for t in tools])
            else:
                for tool in (*CONTROL_PLANE_TOOLS, *(NODE_TOOLS if node else ())):
                    _ensure(toolchain, tool)
                state = clusters.up_local(
                    name, toolchain, progress=status.update, timeout=timeout, with_node=node
                )
    except (ControlPlaneError, ToolchainError) as exc:
        _fail(str(exc))
    with_node = f" with node {state.node}" if state.node else ""
    err.print(f"[green]cluster {name} ready[/]{with_node} in {state.start_seconds:.1f}s at {state.server}")
    _print_reach(state)


def _run_foreground(name: str, timeout: float) -> None:
    toolchain = _toolchain()
    binaries = Binaries(*(_ensure(toolchain, tool) for tool in CONTROL_PLANE_TOOLS))
    workdir = clusters.cluster_dir(name)
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ControlPlane(binaries=binaries, workdir=workdir, progress=err.print) as plane:
        err.print(f"[green]control plane ready[/] in {plane.started_in:.1f}s at {plane.server}")
        err.print(f"export KUBECONFIG={plane.kubeconfig}   # Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        err.print("stopping")


def _print_reach(state: clusters.ClusterState) -> None:
    anthill = Path(sys.argv[0]).resolve()
    flag = "" if state.name == "anthill" else f" --name {state.name}"
    err.print(
        "\nReach it with:\n"
        f'  eval "$({anthill} dev cluster env{flag})"\n'
        "  kubectl get namespaces\n"
        f"Stop it with:\n  {anthill} dev cluster down{flag}\n",
        highlight=False,
    )


def _running_state(name: str) -> clusters.ClusterState:
    state = clusters.load_state(name)
    if state is None:
        _fail(f"no cluster named {name!r}; start one with `anthill dev cluster up`")
    return state


@cluster_app.command("down")
def cluster_down(name: NameOption = "anthill") -> None:
    """Stop a cluster and delete its files (etcd data included). Safe to run twice."""
    state = clusters.load_state(name)
    if state is None:
        err.print(f"no cluster named {name!r} is running")
        return
    with err.status(f"stopping {name}"):
        clusters.down(state)
    err.print(f"cluster [bold]{name}[/] stopped")


@cluster_app.command("status")
def cluster_status(
    name: NameOption = "anthill",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show whether the cluster is up: each process with its pid and memory, and API readiness."""
    state = _running_state(name)
    processes = clusters.process_status(state)
    running = clusters.is_running(state)
    ready = running and clusters.api_ready(state)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "name": state.name,
                    "mode": state.mode,
                    "server": state.server,
                    "node": state.node,
                    "ready": ready,
                    "kubeconfig": str(state.kubeconfig),
                    "startSeconds": state.start_seconds,
                    "processes": [
                        {"name": p.name, "pid": p.pid, "alive": p.alive, "rssBytes": p.rss} for p in processes
                    ],
                },
                indent=2,
            )
        )
    else:
        table = Table("process", "pid", "state", "RSS", title=f"{state.name} ({state.mode}) {state.server}")
        for proc in processes:
            rss = f"{proc.rss / 2**20:.0f} MiB" if proc.rss else "-"
            table.add_row(
                proc.name, str(proc.pid), "[green]running[/]" if proc.alive else "[red]gone[/]", rss
            )
        out.print(table)
        out.print(
            f"API ready: {'[green]yes[/]' if ready else '[red]no[/]'}; started in {state.start_seconds}s"
        )
    if not ready:
        raise typer.Exit(1)


@cluster_app.command("env")
def cluster_env(name: NameOption = "anthill") -> None:
    """Print shell exports for the cluster: use as eval "$(anthill dev cluster env)"."""
    state = _running_state(name)
    venv_bin = Path(sys.executable).parent
    typer.echo(
        clusters.render_env(state, extra_path=[venv_bin], current_path=os.environ.get("PATH", "")), nl=False
    )


@images_app.command("build")
def images_build(
    images: Annotated[
        list[str] | None, typer.Argument(help=f"Images to build (default: {' '.join(IMAGES)}).")
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option("--import-to", help="Also import them into this running cluster's node."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Build the images whose inputs changed (a hash of the inputs is the tag) and print their references."""
    unknown = sorted(set(images or ()) - set(IMAGES))
    if unknown:
        _fail(f"unknown image(s) {', '.join(unknown)}; known: {', '.join(IMAGES)}")
    toolchain = _toolchain()
    node: NodeRecord | None = None
    if cluster is not None:
        state = _running_state(cluster)
        if state.node is None:
            _fail(
                f"cluster {cluster!r} has no node to import into; start it with `anthill dev cluster up --node`"
            )
        node = clusters.node_record(state)
    builder = Builder(repo=toolchain.root, cache=toolchain.cache, progress=err.print)
    results = []
    try:
        ensure_debian_packages(missing_build_packages(), err.print, what="image builds")
        for image in images or IMAGES:
            with err.status(f"checking {image}"):
                built = builder.build(image)
            if node is not None:
                with err.status(f"importing {built.reference} into {node.name}"):
                    import_image(node, built.archive)
            results.append(built)
    except (ImageError, NodeError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"image": r.name, "tag": r.tag, "reference": r.reference, "archive": str(r.archive),
                     "sizeBytes": r.size, "seconds": round(r.seconds, 2), "built": r.built}
                    for r in results
                ],
                indent=2,
            )
        )  # fmt: skip
        return
    table = Table("image", "size", "build", "reference")
    for r in results:
        table.add_row(
            r.name, f"{r.size / 2**20:.0f} MiB", f"{r.seconds:.1f}s" if r.built else "cached", r.reference
        )
    out.print(table)


@images_app.command("prune")
def images_prune() -> None:
    """Remove the cached layers of earlier builds (the next build of a changed image takes longer)."""
    toolchain = _toolchain()
    with err.status("pruning the image storage"):
        freed = Builder(repo=toolchain.root, cache=toolchain.cache).prune()
    err.print(f"freed {freed / 2**20:.0f} MiB")


@app.command("gitops-values")
def gitops_values(
    environment: Annotated[str, typer.Option("--env", help="Environment: dev, staging or prod.")],
    platform: Annotated[
        Path,
        typer.Option("--platform", help="`terraform output -json platform` of the environment, as a file."),
    ],
    innovation: Annotated[
        Path, typer.Option("--innovation", help="`terraform output -json innovation` of the environment.")
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Directory to write into; default gitops/envs/<env>/generated of this checkout."
        ),
    ] = None,
) -> None:
    """Write what the environment's cluster takes from Terraform (generated/anthill.yaml and market.yaml)."""
    if environment not in gitops.ENVIRONMENTS:
        _fail(f"--env must be one of {', '.join(gitops.ENVIRONMENTS)}, not {environment!r}", code=2)
    try:
        documents = {name: json.loads(path.read_text()) for name, path in (("platform", platform),
                                                                          ("innovation", innovation))}  # fmt: skip
    except (OSError, json.JSONDecodeError) as exc:
        _fail(f"cannot read Terraform's outputs: {exc}", code=2)
    try:
        outputs = gitops.Outputs(
            environment,
            gitops.unwrap(documents["platform"], "platform"),
            gitops.unwrap(documents["innovation"], "innovation"),
        )
        files = {"anthill.yaml": gitops.chart_values(outputs), "market.yaml": gitops.market_values(outputs)}
    except gitops.GitopsValuesError as exc:
        _fail(str(exc))
    target = out_dir or repo_root() / "gitops" / "envs" / environment / "generated"
    target.mkdir(parents=True, exist_ok=True)
    header = gitops.HEADER.format(env=environment, workflow=gitops.WORKFLOW)
    for name, values in files.items():
        path = target / name
        text = header + yaml.safe_dump(values, sort_keys=False, default_flow_style=False)
        changed = not path.exists() or path.read_text() != text
        path.write_text(text)
        err.print(f"{'wrote' if changed else 'unchanged'} {path}")
