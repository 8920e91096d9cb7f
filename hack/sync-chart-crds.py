#!/usr/bin/env python3
"""Copy the CRDs from crds/ into the Helm chart, byte for byte.

The chart renders CRDs from charts/anthill/files/crds/ (templates/crds.yaml adds its labels and the
`helm.sh/resource-policy: keep` annotation), so `helm upgrade` upgrades them; Helm never upgrades a chart's
crds/ folder. crds/ stays the one source of truth: run this after `anthill crds generate`, and
tests/unit/charts/test_crds_in_sync.py fails until you do. Files holding anything but CRDs (the operator's
RBAC) are not copied: the chart templates that RBAC, and a test compares its rules with crds/.

Usage: python3 hack/sync-chart-crds.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "crds"
TARGET = REPO / "charts" / "anthill" / "files" / "crds"


def crd_files(source: Path = SOURCE) -> list[Path]:
    """The files in ``source`` whose every document is a CustomResourceDefinition."""
    files = []
    for path in sorted(source.glob("*.yaml")):
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        if docs and all(doc.get("kind") == "CustomResourceDefinition" for doc in docs):
            files.append(path)
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    wanted = {path.name: path.read_bytes() for path in crd_files()}
    present = {path.name: path.read_bytes() for path in TARGET.glob("*.yaml")}
    stale = sorted(name for name in wanted.keys() | present.keys() if wanted.get(name) != present.get(name))
    if check:
        for name in stale:
            print(f"out of sync: {TARGET.relative_to(REPO) / name}", file=sys.stderr)
        return 1 if stale else 0
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in stale:
        if name in wanted:
            (TARGET / name).write_bytes(wanted[name])
        else:
            (TARGET / name).unlink()
        print(f"synced {TARGET.relative_to(REPO) / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
