"""Tool versions come from the wrapper modules' go.mod (or requirements.txt); binaries resolve assets -> cache -> build."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from anthill_devkit.toolchain import (
    HELM_KUBE_VERSION,
    TOOLS,
    GoTool,
    PythonTool,
    Toolchain,
    ToolchainError,
    cache_root,
    kube_version_ldflags,
    pinned_requirement,
    pinned_version,
    repo_root,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("go_mod", "module", "expected"),
    [
        pytest.param(
            "module x\n\nrequire k8s.io/kubernetes v1.34.4\n",
            "k8s.io/kubernetes",
            "v1.34.4",
            id="single-line require",
        ),
        pytest.param(
            "require (\n\tfoo v1.0.0\n\tk8s.io/kubernetes v1.34.4 // indirect\n)\n",
            "k8s.io/kubernetes",
            "v1.34.4",
            id="block require with indirect comment",
        ),
        pytest.param(
            "tool k8s.io/kubernetes/cmd/kubectl\nrequire k8s.io/kubernetes v1.34.4\n",
            "k8s.io/kubernetes",
            "v1.34.4",
            id="tool line for a sub-package is not the module",
        ),
        pytest.param(
            "replace k8s.io/api => k8s.io/api v0.34.4\nrequire k8s.io/api v0.33.0\n",
            "k8s.io/api",
            "v0.33.0",
            id="replace lines are not requirements",
        ),
        pytest.param(
            "// k8s.io/kubernetes v9.9.9\nrequire k8s.io/kubernetes v1.34.4\n",
            "k8s.io/kubernetes",
            "v1.34.4",
            id="comments are ignored",
        ),
    ],
)
def test_pinned_version(go_mod: str, module: str, expected: str) -> None:
    assert pinned_version(go_mod, module) == expected


def test_pinned_version_missing_module_names_it() -> None:
    with pytest.raises(ToolchainError, match=r"does not require example\.com/x"):
        pinned_version("module y\n", "example.com/x")


@pytest.mark.parametrize("name", sorted(name for name, tool in TOOLS.items() if isinstance(tool, GoTool)))
def test_every_tool_is_pinned_by_its_wrapper_module(name: str) -> None:
    """The table and hack/tools agree: each tool's module requires a concrete version."""
    version = Toolchain(root=REPO, cache=Path("/nonexistent")).version(name)
    assert version.startswith("v")
    assert (REPO / "hack" / "tools" / TOOLS[name].module_dir / "go.sum").is_file()


@pytest.mark.parametrize("name", sorted(name for name, tool in TOOLS.items() if isinstance(tool, PythonTool)))
def test_every_python_tool_is_locked_with_hashes(name: str) -> None:
    """Every requirement of a Python tool is pinned with == and a hash, so `--require-hashes` installs it."""
    requirements = (REPO / "hack" / "tools" / TOOLS[name].module_dir / "requirements.txt").read_text()
    assert Toolchain(root=REPO, cache=Path("/nonexistent")).version(name)[0].isdigit()
    entries = [entry for entry in requirements.replace("\\\n", " ").splitlines() if "==" in entry]
    assert len(entries) > 1
    for entry in entries:
        assert "--hash=sha256:" in entry, entry


def test_tofu_wrapper_copies_opentofus_replace_directive() -> None:
    """`go install` refuses OpenTofu (its go.mod replaces hcl with a fork); the wrapper must carry the replace."""
    go_mod = (REPO / "hack" / "tools" / "tofu" / "go.mod").read_text()
    replaces = [line.split() for line in go_mod.splitlines() if "=>" in line]
    assert [parts[1] for parts in replaces if parts[0] == "replace"] == ["github.com/hashicorp/hcl/v2"]
    assert any(parts[-2] == "github.com/opentofu/hcl/v2" for parts in replaces)
    assert "tlsmlkem=0" in go_mod  # the godebug setting release binaries are built with


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        pytest.param("checkov==3.3.30\n", "3.3.30", id="plain pin"),
        pytest.param(
            "aiodns==3.6.1 \\\n    --hash=sha256:aa\ncheckov==3.3.30 \\\n    --hash=sha256:bb\n",
            "3.3.30",
            id="hashed lock from uv pip compile",
        ),
        pytest.param("Checkov[extra] == 1.2.3 ; python_version >= '3.9'\n", "1.2.3", id="extras and marker"),
        pytest.param("# checkov==9.9.9\ncheckov-x==1.0\ncheckov==2.0.0\n", "2.0.0", id="comment and prefix"),
    ],
)
def test_pinned_requirement(requirements: str, expected: str) -> None:
    assert pinned_requirement(requirements, "checkov") == expected


def test_pinned_requirement_normalises_names() -> None:
    assert pinned_requirement("python_hcl2==8.1.4\n", "python-hcl2") == "8.1.4"


def test_pinned_requirement_missing_or_unpinned_names_it() -> None:
    with pytest.raises(ToolchainError, match="do not pin checkov"):
        pinned_requirement("checkov>=3\n", "checkov")


def test_kubernetes_staging_modules_are_all_replaced_at_the_matching_version() -> None:
    go_mod = (REPO / "hack" / "tools" / "kubernetes" / "go.mod").read_text()
    kube = pinned_version(go_mod, "k8s.io/kubernetes")
    staging = f"v0.{kube.removeprefix('v1.')}"
    replaces = [line.split() for line in go_mod.splitlines() if "=>" in line]
    assert len(replaces) >= 30
    for parts in replaces:
        assert parts[0] == parts[2], parts
        assert parts[-1] == staging, parts


def test_kube_version_ldflags_set_both_version_packages() -> None:
    flags = kube_version_ldflags("v1.34.4")
    assert "-X k8s.io/component-base/version.gitVersion=v1.34.4" in flags
    assert "-X k8s.io/client-go/pkg/version.gitMinor=34" in flags
    assert "-X k8s.io/component-base/version.gitMajor=1" in flags


def test_kube_version_ldflags_reject_non_release() -> None:
    with pytest.raises(ToolchainError):
        kube_version_ldflags("main")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            {"ANTHILL_TOOLS_DIR": "/opt/t", "XDG_CACHE_HOME": "/x", "HOME": "/h"},
            "/opt/t",
            id="explicit override wins",
        ),
        pytest.param({"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/anthill", id="XDG cache"),
        pytest.param({"HOME": "/h"}, "/h/.cache/anthill", id="home fallback"),
    ],
)
def test_cache_root(env: dict[str, str], expected: str) -> None:
    assert cache_root(env) == Path(expected)


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_preinstalled_assets_win_over_the_cache(tmp_path: Path) -> None:
    toolchain = Toolchain(root=REPO, cache=tmp_path / "cache", assets=(tmp_path / "assets",))
    cached = _executable(toolchain.cached_path("etcd"))
    assert toolchain.find("etcd") == cached
    asset = _executable(tmp_path / "assets" / "etcd")
    assert toolchain.find("etcd") == asset
    assert toolchain.ensure("etcd") == asset


def test_cache_path_follows_the_pinned_version(tmp_path: Path) -> None:
    toolchain = Toolchain(root=REPO, cache=tmp_path)
    path = toolchain.cached_path("kube-apiserver")
    assert path == tmp_path / "kubernetes" / toolchain.version("kube-apiserver") / "kube-apiserver"


def test_helm_assumes_the_kubernetes_its_client_go_speaks(tmp_path: Path) -> None:
    """With no cluster, helm renders for the Kubernetes its ldflags name: that of the client-go it links
    (Helm's own build does the same). A changed build gets its own cache directory."""
    client_go = pinned_version((REPO / "hack/tools/helm/go.mod").read_text(), "k8s.io/client-go")
    major, minor = HELM_KUBE_VERSION
    assert client_go.startswith(f"v0.{minor}.")
    flags = TOOLS["helm"].ldflags("v3.19.5")
    for pkg in ("helm.sh/helm/v3/pkg/chartutil", "helm.sh/helm/v3/pkg/lint/rules"):
        assert f"-X {pkg}.k8sVersionMajor={major}" in flags
        assert f"-X {pkg}.k8sVersionMinor={minor}" in flags
    toolchain = Toolchain(root=REPO, cache=tmp_path)
    assert toolchain.cached_path("helm").parent.name == f"{toolchain.version('helm')}+kube{major}.{minor}"


@pytest.mark.parametrize(
    ("module", "release"),
    [
        pytest.param("v0.316.0", "3.16.0", id="Prometheus 3 tags its module v0.3NN.P"),
        pytest.param("v0.309.12", "3.9.12", id="a one-digit minor"),
    ],
)
def test_promtool_reports_the_prometheus_release(module: str, release: str) -> None:
    assert TOOLS["promtool"].ldflags(module) == [f"-X github.com/prometheus/common/version.Version={release}"]
    assert Toolchain(root=REPO, cache=Path("/c")).version("promtool") == "v0.316.0"


def test_build_without_go_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `go` here
    toolchain = Toolchain(root=REPO, cache=tmp_path / "cache")
    with pytest.raises(ToolchainError, match="needs Go"):
        toolchain.ensure("kind")
    assert not toolchain.cached_path("kind").exists()


def test_unknown_tool() -> None:
    with pytest.raises(ToolchainError, match="unknown tool 'kube-proxy'"):
        Toolchain(root=REPO, cache=Path("/nonexistent")).version("kube-proxy")


def test_repo_root_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHILL_REPO_ROOT", str(tmp_path))
    assert repo_root() == tmp_path


def test_repo_root_found_from_a_subdirectory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHILL_REPO_ROOT", raising=False)
    assert repo_root(REPO / "operator" / "src") == REPO
    assert repo_root(Path("/")).samefile(REPO)  # falls back to where the package lives


def test_python_tool_lives_in_a_versioned_venv(tmp_path: Path) -> None:
    toolchain = Toolchain(root=REPO, cache=tmp_path)
    version = toolchain.version("checkov")
    assert toolchain.cached_path("checkov") == tmp_path / "checkov" / version / "bin" / "checkov"


FAKE_UV = """#!/bin/sh
# `uv venv ... DIR` makes DIR/bin; `uv pip install --python DIR/bin/python ...` adds the console script.
case "$1" in
  venv) for last; do :; done; mkdir -p "$last/bin"; touch "$last/bin/python"; chmod +x "$last/bin/python" ;;
  pip) [ -n "$FAKE_UV_FAIL" ] && { echo "no such package" >&2; exit 1; }
       while [ "$1" != --python ]; do shift; done; bin=$(dirname "$2"); printf '#!/bin/sh\\necho fake\\n' > "$bin/checkov"; chmod +x "$bin/checkov" ;;
esac
"""


def _fake_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "fake-bin"
    _executable(bin_dir / "uv").write_text(FAKE_UV)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")  # ours first


def test_python_tool_install_renames_a_complete_venv_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_uv(tmp_path, monkeypatch)
    toolchain = Toolchain(root=REPO, cache=tmp_path / "cache")
    announced: list[tuple[str, str]] = []
    path = toolchain.ensure("checkov", lambda name, version: announced.append((name, version)))
    assert path == toolchain.cached_path("checkov")
    assert announced == [("checkov", toolchain.version("checkov"))]
    assert not list((tmp_path / "cache" / "checkov").glob("*.partial-*"))
    assert toolchain.ensure("checkov", lambda *_: pytest.fail("installed twice")) == path


def test_failed_python_tool_install_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_uv(tmp_path, monkeypatch)
    monkeypatch.setenv("FAKE_UV_FAIL", "1")
    toolchain = Toolchain(root=REPO, cache=tmp_path / "cache")
    with pytest.raises(ToolchainError, match="no such package"):
        toolchain.ensure("checkov")
    assert [p.name for p in (tmp_path / "cache" / "checkov").iterdir()] == [
        f".{toolchain.version('checkov')}.lock"
    ]


def test_python_tool_with_a_vanished_interpreter_is_reinstalled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached venv whose base Python was upgraded away is not runnable: it is replaced, not returned."""
    _fake_uv(tmp_path, monkeypatch)
    toolchain = Toolchain(root=REPO, cache=tmp_path / "cache")
    path = toolchain.ensure("checkov")
    python = path.parent / "python"
    python.unlink()
    python.symlink_to(tmp_path / "gone" / "python3.11")
    assert toolchain.find("checkov") is None
    assert toolchain.ensure("checkov") == path
    assert python.is_file()
