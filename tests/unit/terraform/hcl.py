"""The Terraform tree under ``terraform/``, parsed once with python-hcl2 for the convention tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
STACKS = TERRAFORM / "stacks"
ENVIRONMENTS = TERRAFORM / "environments"

_OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)

Block = dict[str, Any]

# 12-digit AWS account IDs, and region or zone-ID literals (us-east-1, eu-central-2, use1-az1, euc1-az2).
_ACCOUNT_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])")
_REGION = re.compile(
    r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn)-(?:gov-)?(?:north|south|east|west|central|northeast|southeast|"
    r"northwest|southwest)-[0-9]\b|\b[a-z]{3,4}[0-9]-az[0-9]\b"
)


@cache
def parse(path: Path) -> dict[str, Any]:
    """One ``.tf`` file as python-hcl2 gives it: strings unquoted, expressions as ``${...}`` strings."""
    with path.open() as handle:
        return dict(hcl2.load(handle, serialization_options=_OPTIONS))


def tf_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.tf"))


def blocks(directory: Path, kind: str) -> list[tuple[Path, str, Block]]:
    """Every ``kind`` block (variable, output, module, ...) of a directory: (file, label, body)."""
    found = []
    for path in tf_files(directory):
        for entry in parse(path).get(kind, []):
            for label, body in entry.items():
                found.append((path, label, body))
    return found


def resources(directory: Path) -> list[tuple[str, str, Block]]:
    """Every resource of a directory: (type, name, body)."""
    found = []
    for path in tf_files(directory):
        for entry in parse(path).get("resource", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    found.append((kind, name, body))
    return found


def data_sources(directory: Path) -> list[tuple[str, str, Block]]:
    """Every data source of a directory: (type, name, body)."""
    found = []
    for path in tf_files(directory):
        for entry in parse(path).get("data", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    found.append((kind, name, body))
    return found


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``${name}`` whose name is in ``values`` replaced (``${var.name}`` -> ``anthill-dev``);
    for checking what a string-built URI or ARN becomes, not a Terraform evaluator."""
    return re.sub(r"\$\{([\w.\[\]\"]+)\}", lambda match: values.get(match.group(1), match.group(0)), template)


def terraform_block(directory: Path) -> Block:
    """The merged ``terraform {}`` settings of a directory."""
    merged: Block = {}
    for path in tf_files(directory):
        for entry in parse(path).get("terraform", []):
            merged.update(entry)
    return merged


def required_providers(directory: Path) -> dict[str, Block]:
    providers: dict[str, Block] = {}
    for entry in terraform_block(directory).get("required_providers", []):
        providers.update(entry)
    return providers


def locals_of(directory: Path) -> Block:
    merged: Block = {}
    for path in tf_files(directory):
        for entry in parse(path).get("locals", []):
            merged.update(entry)
    return merged


@dataclass(frozen=True)
class Root:
    """One environment's root of one stack: ``environments/<environment>/<name>``."""

    environment: str
    name: str  # platform | innovation
    path: Path

    @property
    def id(self) -> str:
        return f"{self.environment}/{self.name}"


def module_dirs() -> list[Path]:
    return sorted(path for path in MODULES.iterdir() if path.is_dir())


def stack_dirs() -> list[Path]:
    """The stack compositions under ``terraform/stacks``: modules that every environment's root calls."""
    return sorted(path for path in STACKS.iterdir() if path.is_dir())


def roots() -> list[Root]:
    return [
        Root(env.name, stack.name, stack)
        for env in sorted(ENVIRONMENTS.iterdir())
        if env.is_dir()
        for stack in sorted(env.iterdir())
        if stack.is_dir()
    ]


def local_source(caller: Path, source: str) -> Path | None:
    """The directory a module block's ``source`` points at, or None for a registry module."""
    if not source.startswith("."):
        return None
    return (caller / source).resolve()


def all_config_dirs() -> list[Path]:
    return sorted({path.parent for path in TERRAFORM.rglob("*.tf") if ".terraform" not in path.parts})


def hard_coded_locations(text: str) -> list[str]:
    """Account IDs and region or zone names written into ``text``: what a reusable module must not hold."""
    return [match.group(0) for pattern in (_ACCOUNT_ID, _REGION) for match in pattern.finditer(text)]
