"""CustomResourceDefinitions generated from the pydantic models: one source of truth for the API.

The pydantic JSON schema is turned into a structural OpenAPI v3 schema: references inlined, optional
``X | None`` collapsed to ``X``, titles dropped, descriptions and CEL rules kept. ``crds/*.yaml`` are this
module's output; a test fails if they drift (``anthill crds generate`` rewrites them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic.json_schema import GenerateJsonSchema

from anthill_api.common import GROUP, VERSION, Model

KEEP = {
    "type", "description", "enum", "default", "minimum", "maximum", "minLength", "maxLength", "pattern",
    "items", "properties", "required", "minItems", "maxItems", "maxProperties", "format",
    "x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-preserve-unknown-fields",
}  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """One custom resource kind and how it is served."""

    kind: str
    plural: str
    short_names: tuple[str, ...]
    description: str
    spec: type[Model]
    status: type[Model]
    printer_columns: list[dict[str, Any]] = field(default_factory=list)
    categories: tuple[str, ...] = ("anthill",)

    @property
    def name(self) -> str:
        return f"{self.plural}.{GROUP}"


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        target = copy.deepcopy(defs[schema["$ref"].rsplit("/", 1)[1]])
        overrides = {k: v for k, v in schema.items() if k != "$ref"}
        return _resolve({**target, **overrides}, defs)
    if "allOf" in schema and len(schema["allOf"]) == 1:
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return _resolve({**_resolve(schema["allOf"][0], defs), **rest}, defs)
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
        if len(branches) != 1:
            raise ValueError(f"unions are not structural: {schema['anyOf']}")
        rest = {k: v for k, v in schema.items() if k not in {"anyOf"}}
        if rest.get("default", ...) is None:
            del rest["default"]
        branch = _resolve(branches[0], defs)
        merged = {**branch, **rest}
        if isinstance(branch.get("items"), dict) and isinstance(rest.get("items"), dict):
            merged["items"] = {**branch["items"], **rest["items"]}
        return merged
    return schema


def structural(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema node as a Kubernetes structural schema node."""
    node = _resolve(schema, defs)
    out = {key: value for key, value in node.items() if key in KEEP}
    if "properties" in out:
        out["type"] = "object"
        out["properties"] = {name: structural(sub, defs) for name, sub in out["properties"].items()}
    if "items" in out:
        out["items"] = structural(out["items"], defs)
    if isinstance(node.get("additionalProperties"), dict):  # a map; `false` is pruning, the default
        out["additionalProperties"] = structural(node["additionalProperties"], defs)
    if out.get("default", ...) is None:
        del out["default"]
    return out


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, minus the sort that would reorder fields away from the model's order."""

    def sort(self, value: Any, parent_key: str | None = None) -> Any:
        return value


def model_schema(model: type[Model]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, schema_generator=_Generator)
    return structural(raw, raw.get("$defs", {}))


def build_crd(kind: Kind) -> dict[str, Any]:
    """The CustomResourceDefinition for ``kind``."""
    spec = model_schema(kind.spec)
    status = model_schema(kind.status)
    status["description"] = kind.status.__doc__ or ""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": kind.name, "labels": {"app.kubernetes.io/part-of": "anthill"}},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.kind.lower(),
                "shortNames": list(kind.short_names),
                "categories": list(kind.categories),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": kind.printer_columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": kind.description,
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string", "description": "anthill.io/v1alpha1"},
                                "kind": {"type": "string", "description": kind.kind},
                                "metadata": {"type": "object"},
                                "spec": spec,
                                "status": status,
                            },
                        }
                    },
                }
            ],
        },
    }


def render_crd(kind: Kind) -> str:
    """The CRD as the YAML committed under crds/."""
    header = (
        f"# Generated from anthill_api ({kind.spec.__module__}) by `anthill crds generate`. Do not edit.\n"
    )
    return header + yaml.safe_dump(build_crd(kind), sort_keys=False, width=110, allow_unicode=True)
