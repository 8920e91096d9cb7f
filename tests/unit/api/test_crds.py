"""The CRDs are generated from the models, and both describe every field the examples use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill_api import KINDS
from anthill_api.cli import crd_files
from anthill_api.crdgen import build_crd, structural
from anthill_api.reference import reference

REPO = Path(__file__).resolve().parents[3]
SPEC_MODELS = {kind.kind: kind.spec for kind in KINDS}


def test_committed_crds_match_the_models() -> None:
    for path, expected in crd_files(REPO / "crds").items():
        assert path.read_text() == expected, f"{path} is stale: run `anthill crds generate`"


def test_api_reference_matches_the_models() -> None:
    committed = (REPO / "docs" / "api-reference.md").read_text()
    assert committed == reference(KINDS), "docs/api-reference.md is stale: run `anthill crds reference`"
    for path in (
        "spec.runtime.databricks.connectionRef.name",
        "spec.tickers",
        "status.atProvider.lastRun.runId",
    ):
        assert f"`{path}`" in committed
    assert "connectionRef is immutable" in committed  # the admission rules are listed with their messages


def _undocumented(schema: dict[str, Any], path: str) -> list[str]:
    missing = []
    for name, sub in schema.get("properties", {}).items():
        if not sub.get("description") and name not in {"apiVersion", "kind", "metadata"}:
            missing.append(f"{path}.{name}")
        missing += _undocumented(sub, f"{path}.{name}")
        if isinstance(sub.get("items"), dict):
            missing += _undocumented(sub["items"], f"{path}.{name}[]")
    return missing


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_every_field_is_described_for_kubectl_explain(kind: Any) -> None:
    schema = build_crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _undocumented(schema, kind.kind) == []


def _examples() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted((REPO / "examples").glob("*.yaml")):
        docs += [
            (f"{path.name}:{doc['metadata']['name']}", doc) for doc in yaml.safe_load_all(path.read_text())
        ]
    return docs


@pytest.mark.parametrize(("name", "doc"), _examples(), ids=[name for name, _ in _examples()])
def test_examples_parse_with_the_models(name: str, doc: dict[str, Any]) -> None:
    spec = SPEC_MODELS[doc["kind"]].model_validate(doc["spec"])
    # What the model writes back is what it read (plus defaults): no field is dropped or renamed.
    assert _contains(spec.to_k8s(), doc["spec"])


def _contains(parsed: Any, raw: Any) -> bool:
    if isinstance(raw, dict):
        return isinstance(parsed, dict) and all(
            k in parsed and _contains(parsed[k], v) for k, v in raw.items()
        )
    return bool(parsed == raw)


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        pytest.param(
            {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "description": "d"},
            {"type": "integer", "description": "d"},
            id="optional collapses to its type, null default dropped",
        ),
        pytest.param(
            {"$ref": "#/$defs/B", "description": "field-level wins"},
            {"type": "object", "description": "field-level wins", "properties": {"n": {"type": "integer"}}},
            id="references are inlined",
        ),
        pytest.param(
            {"type": "object", "additionalProperties": {"type": "string"}, "title": "T"},
            {"type": "object", "additionalProperties": {"type": "string"}},
            id="maps keep their value schema, titles go",
        ),
        pytest.param(
            {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
             "items": {"pattern": "^A$"}},
            {"type": "array", "items": {"type": "string", "pattern": "^A$"}},
            id="item constraints from json_schema_extra merge into the items",
        ),
    ],
)  # fmt: skip
def test_structural(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    defs = {
        "B": {
            "type": "object",
            "title": "B",
            "description": "model doc",
            "properties": {"n": {"type": "integer"}},
        }
    }
    assert structural(schema, defs) == expected


def test_unions_are_refused() -> None:
    with pytest.raises(ValueError, match="not structural"):
        structural({"anyOf": [{"type": "integer"}, {"type": "string"}]}, {})
