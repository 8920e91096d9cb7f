"""Pinned tools the local platform and its checks need, built once into a cache outside the repository.

Each Go tool is built from a wrapper module under ``hack/tools/<module>/`` whose ``go.mod`` pins the
version (and, for Kubernetes and OpenTofu, copies the replace directives ``go install`` refuses). The version
read from that ``go.mod`` names the cache directory, so a bump rebuilds and a fresh clone reuses what an
earlier clone built:

    ${ANTHILL_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/anthill}/<module>/<version>/<binary>

Python tools whose pins would clash with the workspace's (checkov pins its own boto3) are installed with uv
from a hashed ``hack/tools/<name>/requirements.txt`` into a virtualenv of their own:

    ${ANTHILL_TOOLS_DIR:-...}/<name>/<version>/bin/<name>

``ANTHILL_ASSETS_DIR`` (or ``KUBEBUILDER_ASSETS``, as set by ``setup-envtest``) points at preinstalled
binaries; a binary found there is used as it is and never built.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ASSETS_ENV_VARS = ("ANTHILL_ASSETS_DIR", "KUBEBUILDER_ASSETS")
BUILD_DATE = "1970-01-01T00:00:00Z"  # reproducible builds: the date is not an input


class ToolchainError(RuntimeError):
    """A tool cannot be found or built; the message says what to do."""


@dataclass(frozen=True)
class GoTool:
    """One binary built from a wrapper module in ``hack/tools``."""

    name: str
    module_dir: str
    package: str
    pinned_module: str
    ldflags: Callable[[str], list[str]]
    purpose: str
    build_tag: str = ""
    """How it is built beyond its version (ldflags that changed): part of its cache directory, so a
    binary built the old way is never reused."""


@dataclass(frozen=True)
class PythonTool:
    """One console script installed from ``hack/tools/<module_dir>/requirements.txt`` into its own venv."""

    name: str
    module_dir: str
    distribution: str
    purpose: str


def kube_version_ldflags(version: str) -> list[str]:
    """The ``-X`` flags Kubernetes' own build sets, so ``--version`` and discovery report the release."""
    match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+.*", version)
    if match is None:
        raise ToolchainError(f"not a Kubernetes release version: {version!r}")
    major, minor = match.groups()
    flags: list[str] = []
    for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate={BUILD_DATE}",
        ]
    return flags


def _etcd_ldflags(version: str) -> list[str]:
    return [f"-X go.etcd.io/etcd/api/v3/version.GitSHA={version}"]


# The Kubernetes version helm assumes with no cluster (`helm template`, `helm lint`): Helm's own build sets
# it from the client-go it links (v0.34 -> 1.34); left unset it is 1.20, below the chart's kubeVersion.
HELM_KUBE_VERSION = ("1", "34")


def _helm_ldflags(version: str) -> list[str]:
    pkg = "helm.sh/helm/v3/internal/version"
    major, minor = HELM_KUBE_VERSION
    flags = [f"-X {pkg}.version={version}", f"-X {pkg}.gitTreeState=clean"]
    for kube_pkg in ("helm.sh/helm/v3/pkg/chartutil", "helm.sh/helm/v3/pkg/lint/rules"):
        flags += [f"-X {kube_pkg}.k8sVersionMajor={major}", f"-X {kube_pkg}.k8sVersionMinor={minor}"]
    return flags


def _kind_ldflags(version: str) -> list[str]:
    return []


def _actionlint_ldflags(version: str) -> list[str]:
    return [f"-X github.com/rhysd/actionlint.version={version}"]


def _tofu_ldflags(version: str) -> list[str]:
    return ["-X github.com/opentofu/opentofu/version.dev=no"]  # a release, not `-dev`


def _tflint_ldflags(version: str) -> list[str]:
    return []  # tflint's version is a constant in its source


def _promtool_ldflags(version: str) -> list[str]:
    """Prometheus tags its Go module v0.3NN.P for release 3.NN.P; ``promtool --version`` reports the release."""
    match = re.fullmatch(r"v0\.3(\d{2})\.(\d+)", version)
    release = f"3.{int(match.group(1))}.{match.group(2)}" if match else version.removeprefix("v")
    return [f"-X github.com/prometheus/common/version.Version={release}"]


TOOLS: Mapping[str, GoTool | PythonTool] = {
    tool.name: tool
    for tool in (
        GoTool(
            "etcd",
            "etcd",
            "go.etcd.io/etcd/server/v3",
            "go.etcd.io/etcd/server/v3",
            _etcd_ldflags,
            "key-value store behind the local kube-apiserver",
        ),
        GoTool(
            "kube-apiserver",
            "kubernetes",
            "k8s.io/kubernetes/cmd/kube-apiserver",
            "k8s.io/kubernetes",
            kube_version_ldflags,
            "the Kubernetes API server",
        ),
        GoTool(
            "kube-controller-manager",
            "kubernetes",
            "k8s.io/kubernetes/cmd/kube-controller-manager",
            "k8s.io/kubernetes",
            kube_version_ldflags,
            "CronJob, Job, GC, namespace and SA controllers",
        ),
        GoTool(
            "kube-scheduler",
            "kubernetes",
            "k8s.io/kubernetes/cmd/kube-scheduler",
            "k8s.io/kubernetes",
            kube_version_ldflags,
            "places pods on the local node",
        ),
        GoTool(
            "kubelet",
            "kubernetes",
            "k8s.io/kubernetes/cmd/kubelet",
            "k8s.io/kubernetes",
            kube_version_ldflags,
            "the local node's agent: runs pods through containerd",
        ),
        GoTool(
            "kubectl",
            "kubernetes",
            "k8s.io/kubernetes/cmd/kubectl",
            "k8s.io/kubernetes",
            kube_version_ldflags,
            "Kubernetes CLI matching the local API server",
        ),
        GoTool(
            "helm",
            "helm",
            "helm.sh/helm/v3/cmd/helm",
            "helm.sh/helm/v3",
            _helm_ldflags,
            "installs the Anthill chart",
            build_tag="+kube1.34",
        ),
        GoTool(
            "actionlint",
            "actionlint",
            "github.com/rhysd/actionlint/cmd/actionlint",
            "github.com/rhysd/actionlint",
            _actionlint_ldflags,
            "checks the GitHub Actions workflows",
        ),
        GoTool(
            "kind",
            "kind",
            "sigs.k8s.io/kind",
            "sigs.k8s.io/kind",
            _kind_ldflags,
            "Kubernetes in Docker, for the kind test path",
        ),
        GoTool(
            "tofu",
            "tofu",
            "github.com/opentofu/opentofu/cmd/tofu",
            "github.com/opentofu/opentofu",
            _tofu_ldflags,
            "OpenTofu: `tofu fmt -check` on terraform/",
        ),
        GoTool(
            "tflint",
            "tflint",
            "github.com/terraform-linters/tflint",
            "github.com/terraform-linters/tflint",
            _tflint_ldflags,
            "lints terraform/ with the bundled Terraform ruleset",
        ),
        GoTool(
            "promtool",
            "promtool",
            "github.com/prometheus/prometheus/cmd/promtool",
            "github.com/prometheus/prometheus",
            _promtool_ldflags,
            "checks and unit-tests the chart's PrometheusRule",
        ),
        PythonTool("checkov", "checkov", "checkov", "static security checks of terraform/"),
    )
}

CONTROL_PLANE_TOOLS = ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl")
NODE_TOOLS = ("kubelet", "kube-scheduler")
DEFAULT_TOOLS = (*CONTROL_PLANE_TOOLS, *NODE_TOOLS, "helm", "actionlint", "promtool")


def repo_root(start: Path | None = None) -> Path:
    """The Anthill checkout: ``$ANTHILL_REPO_ROOT``, else the nearest parent holding ``hack/tools``."""
    if env := os.environ.get("ANTHILL_REPO_ROOT"):
        return Path(env)
    candidates = [start or Path.cwd(), Path(__file__).resolve()]
    for candidate in candidates:
        for parent in (candidate, *candidate.parents):
            if (parent / "hack" / "tools").is_dir():
                return parent
    raise ToolchainError(
        "cannot find an Anthill checkout (a directory with hack/tools/); run from inside the repository, "
        "set ANTHILL_REPO_ROOT, or point ANTHILL_ASSETS_DIR at prebuilt binaries"
    )


def pinned_version(go_mod: str, module: str) -> str:
    """The version ``go_mod`` requires for ``module`` (single-line or block ``require``)."""
    pattern = rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)"
    for line in go_mod.splitlines():
        if line.lstrip().startswith("//") or "=>" in line:
            continue
        match = re.match(pattern, line)
        if match:
            return match.group(1)
    raise ToolchainError(f"go.mod does not require {module}")


def pinned_requirement(requirements: str, distribution: str) -> str:
    """The version a ``requirements.txt`` pins for ``distribution`` with ``==`` (names compared normalised)."""
    wanted = _normalise(distribution)
    for line in requirements.splitlines():
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)", line)
        if match and _normalise(match.group(1)) == wanted:
            return match.group(2)
    raise ToolchainError(f"requirements do not pin {distribution} with ==")


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """Where built binaries live: ``$ANTHILL_TOOLS_DIR`` or ``$XDG_CACHE_HOME/anthill``."""
    env = os.environ if env is None else env
    if root := env.get("ANTHILL_TOOLS_DIR"):
        return Path(root)
    xdg = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".cache")
    return Path(xdg) / "anthill"


@dataclass(frozen=True)
class Toolchain:
    """Resolves tools to binaries: preinstalled assets first, then the cache, building when missing."""

    root: Path
    cache: Path
    assets: tuple[Path, ...] = ()

    @classmethod
    def from_environment(cls, root: Path | None = None) -> Toolchain:
        assets = tuple(Path(os.environ[var]) for var in ASSETS_ENV_VARS if os.environ.get(var))
        return cls(root=root or repo_root(), cache=cache_root(), assets=assets)

    def version(self, name: str) -> str:
        tool = _tool(name)
        if isinstance(tool, PythonTool):
            return pinned_requirement(self._requirements(tool).read_text(), tool.distribution)
        go_mod = self.root / "hack" / "tools" / tool.module_dir / "go.mod"
        return pinned_version(go_mod.read_text(), tool.pinned_module)

    def cached_path(self, name: str) -> Path:
        tool = _tool(name)
        if isinstance(tool, PythonTool):
            return self._venv(tool) / "bin" / tool.name
        return self.cache / tool.module_dir / f"{self.version(name)}{tool.build_tag}" / tool.name

    def find(self, name: str) -> Path | None:
        """The binary if it is available without building."""
        for assets in self.assets:
            candidate = assets / name
            if os.access(candidate, os.X_OK):
                return candidate
        cached = self.cached_path(name)
        return cached if self._runnable(name) else None

    def ensure(self, name: str, on_build: Callable[[str, str], None] | None = None) -> Path:
        """The binary, built first if needed. ``on_build(name, version)`` is told before a build starts."""
        found = self.find(name)
        if found is not None:
            return found
        tool = _tool(name)
        target = self.cached_path(name)
        with exclusive(self._lock_path(tool)):
            if self._runnable(name):  # another process built it while we waited
                return target
            if on_build is not None:
                on_build(name, self.version(name))
            if isinstance(tool, PythonTool):
                self._install(tool)
            else:
                self._build(tool, target)
        return target

    def _runnable(self, name: str) -> bool:
        """The cached binary is there; for a venv also its interpreter (a Python upgrade can strand it)."""
        tool = _tool(name)
        if isinstance(tool, PythonTool) and not os.access(self._venv(tool) / "bin" / "python", os.X_OK):
            return False
        return os.access(self.cached_path(name), os.X_OK)

    def _lock_path(self, tool: GoTool | PythonTool) -> Path:
        # A venv is renamed into place whole, so its lock sits beside it rather than inside.
        if isinstance(tool, PythonTool):
            return self._venv(tool).with_name(f".{self.version(tool.name)}.lock")
        return self.cached_path(tool.name).parent / f".{tool.name}.lock"

    def _requirements(self, tool: PythonTool) -> Path:
        return self.root / "hack" / "tools" / tool.module_dir / "requirements.txt"

    def _venv(self, tool: PythonTool) -> Path:
        return self.cache / tool.module_dir / self.version(tool.name)

    def _install(self, tool: PythonTool) -> None:
        """A relocatable venv built aside and renamed into place, so a reader never sees half of one."""
        uv = uv_command()
        venv = self._venv(tool)
        partial = venv.with_name(f"{venv.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        steps = [
            [*uv, "venv", "--quiet", "--relocatable", "--python", sys.executable, str(partial)],
            [*uv, "pip", "install", "--quiet", "--python", str(partial / "bin" / "python"),
             "--require-hashes", "--requirement", str(self._requirements(tool))],
        ]  # fmt: skip
        for cmd in steps:
            result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                shutil.rmtree(partial, ignore_errors=True)
                raise ToolchainError(
                    f"installing {tool.name} {venv.name} failed ({' '.join(cmd[:3])}):\n{result.stderr[-4000:]}"
                )
        shutil.rmtree(venv, ignore_errors=True)  # an earlier install without the script: replace it
        partial.rename(venv)

    def _build(self, tool: GoTool, target: Path) -> None:
        go = shutil.which("go")
        if go is None:
            raise ToolchainError(
                f"building {tool.name} needs Go (https://go.dev/dl) on PATH, "
                f"or point ANTHILL_ASSETS_DIR at a directory that has {tool.name}"
            )
        version = self.version(tool.name)
        ldflags = " ".join(["-s", "-w", *tool.ldflags(version)])
        go_build(go, tool.package, ldflags, self.root / "hack" / "tools" / tool.module_dir, target,
                 f"{tool.name} {version}")  # fmt: skip


def go_build(go: str, package: str, ldflags: str, cwd: Path, target: Path, what: str) -> None:
    """``go build`` of a static binary into ``target``, atomically: a reader never sees half a binary."""
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    result = subprocess.run(
        [go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(partial), package],
        cwd=cwd,
        env={**os.environ, "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ToolchainError(f"go build of {what} failed:\n{result.stderr[-4000:]}")
    partial.replace(target)


def input_hash(parts: Iterable[tuple[str, bytes]]) -> str:
    """A short content hash of named inputs, for cache keys and image tags."""
    digest = hashlib.sha256()
    for name, content in parts:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()[:16]


def source_hash(directory: Path) -> str:
    """A content hash of every file under ``directory`` (names and bytes)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    return input_hash((str(path.relative_to(directory)), path.read_bytes()) for path in files)


def ensure_own_binary(toolchain: Toolchain, name: str) -> Path:
    """A static binary built from our own Go module ``hack/<name>``, cached by a hash of its source."""
    source = toolchain.root / "hack" / name
    target = toolchain.cache / name / source_hash(source) / name
    if os.access(target, os.X_OK):
        return target
    go = shutil.which("go")
    if go is None:
        raise ToolchainError(f"building {name} needs Go (https://go.dev/dl) on PATH")
    with exclusive(target.parent / f".{name}.lock"):
        if os.access(target, os.X_OK):
            return target
        go_build(go, ".", "-s -w", source, target, name)
    return target


def uv_command() -> list[str]:
    """How to run uv: ``uv`` on PATH, else ``python3 -m uv`` (what ``make bootstrap`` installs)."""
    if uv := shutil.which("uv"):
        return [uv]
    for python in dict.fromkeys([sys.executable, shutil.which("python3")]):
        if python is None:
            continue
        probe = subprocess.run([python, "-m", "uv", "--version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [python, "-m", "uv"]
    raise ToolchainError("installing Python tools needs uv: run `make bootstrap` or `pip install uv`")


def _tool(name: str) -> GoTool | PythonTool:
    try:
        return TOOLS[name]
    except KeyError:
        raise ToolchainError(f"unknown tool {name!r}; known: {', '.join(TOOLS)}") from None


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
