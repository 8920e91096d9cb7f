"""The pinned helm binary run against the chart, as users and CI run it."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from anthill_devkit.toolchain import Toolchain
from tests.helpers import REPO

CHART = REPO / "charts" / "anthill"
ENVIRONMENTS = ("dev", "staging", "prod")
ENV_VALUES = {env: CHART / f"values-{env}.yaml" for env in ENVIRONMENTS}
CI_VALUES = {
    path.name.removesuffix("-values.yaml"): path for path in sorted((CHART / "ci").glob("*-values.yaml"))
}
ALL_VALUES = {
    **{f"env-{env}": path for env, path in ENV_VALUES.items()},
    **{f"ci-{n}": p for n, p in CI_VALUES.items()},
}
# The control plane the suite runs; this helm build reports an old default version without a cluster.
KUBE_VERSION = "1.34.0"


@dataclass(frozen=True)
class Helm:
    binary: Path
    home: Path

    @classmethod
    def pinned(cls, home: Path) -> Helm:
        return cls(Toolchain.from_environment(REPO).ensure("helm"), home)

    def __call__(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        env = {
            "HOME": str(self.home),
            "PATH": "/usr/bin:/bin",
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        return subprocess.run([str(self.binary), *args], env=env, capture_output=True, text=True,
                              check=False, timeout=timeout)  # fmt: skip

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def template(self, *values: Path, sets: tuple[str, ...] = (), release: str = "anthill",
                 namespace: str = "anthill-system") -> str:  # fmt: skip
        """The rendered manifests (``helm template``) as text."""
        args = ["template", release, str(CHART), "-n", namespace, "--kube-version", KUBE_VERSION]
        for path in values:
            args += ["-f", str(path)]
        for item in sets:
            args += ["--set", item]
        return self.ok(*args)

    def render(self, *values: Path, sets: tuple[str, ...] = (), release: str = "anthill",
               namespace: str = "anthill-system") -> list[dict[str, Any]]:  # fmt: skip
        """The rendered objects."""
        text = self.template(*values, sets=sets, release=release, namespace=namespace)
        return [doc for doc in yaml.safe_load_all(text) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    matches = find(objects, kind, name)
    assert len(matches) == 1, f"expected one {kind} {name or ''}, got {len(matches)}"
    return matches[0]
