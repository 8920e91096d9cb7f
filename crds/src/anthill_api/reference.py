"""The API reference (docs/api-reference.md), generated from the same schemas as the CRDs.

One table per kind and object: every field's path, type, constraints, default and description, then the
cross-field rules the API server enforces (CEL), with their messages. A test fails when the file is stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from anthill_api.common import API_VERSION
from anthill_api.crdgen import Kind, build_crd

CONSTRAINTS = (
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("minLength", "length ≥ {}"),
    ("maxLength", "length ≤ {}"),
    ("minItems", "items ≥ {}"),
    ("maxItems", "items ≤ {}"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _type(node: dict[str, Any]) -> str:
    kind = str(node.get("type", "object"))
    if kind == "array":
        return f"[]{_type(node.get('items') or {})}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map[string]{_type(node['additionalProperties'])}"
    if node.get("format") and kind == "string":
        return f"string ({node['format']})"
    return kind


def _constraints(node: dict[str, Any], required: bool) -> str:
    parts = ["**required**"] if required else []
    if node.get("enum"):
        parts.append("one of " + ", ".join(f"`{value}`" for value in node["enum"]))
    for key, template in CONSTRAINTS:
        if key in node:
            parts.append(template.format(node[key]))
    if node.get("pattern"):
        parts.append(f"pattern `{node['pattern']}`")
    if node.get("x-kubernetes-list-type") in ("set", "map"):
        keys = node.get("x-kubernetes-list-map-keys")
        parts.append("unique" + (f" by {', '.join(keys)}" if keys else ""))
    return "; ".join(parts)


def _default(node: dict[str, Any]) -> str:
    if "default" not in node:
        return ""
    value = node["default"]
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _walk(node: dict[str, Any], path: str, rules: list[tuple[str, dict[str, Any]]]) -> Iterator[list[str]]:
    """Rows for every field under ``node`` (depth first, in the model's order)."""
    for rule in node.get("x-kubernetes-validations") or []:
        rules.append((path, rule))
    required = set(node.get("required") or [])
    for name, child in (node.get("properties") or {}).items():
        child_path = f"{path}.{name}"
        yield [f"`{child_path}`", _type(child), _cell(_constraints(child, name in required)), _default(child),
               _cell(str(child.get("description", "")))]  # fmt: skip
        target = child.get("items") if child.get("type") == "array" else child
        if isinstance(target, dict):
            yield from _walk(target, child_path + ("[]" if target is not child else ""), rules)


def kind_reference(kind: Kind) -> str:
    schema = build_crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    short = ", ".join(f"`{name}`" for name in kind.short_names)
    lines = [f"## {kind.kind}", "", kind.description, "",
             f"`apiVersion: {API_VERSION}`, namespaced, short name {short}; `kubectl explain {kind.plural}.spec` "
             "prints the same descriptions.", ""]  # fmt: skip
    for part in ("spec", "status"):
        rules: list[tuple[str, dict[str, Any]]] = []
        rows = list(_walk(schema["properties"][part], part, rules))
        lines += [f"### {kind.kind} {part}", "", _cell(schema["properties"][part].get("description", "")), "",
                  "| field | type | constraints | default | description |", "|---|---|---|---|---|"]  # fmt: skip
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        if rules:
            lines += ["", "Rules the API server checks on admission:", ""]
            lines += [
                f'- `{path}`: `{_cell(rule["rule"])}`, "{_cell(rule["message"])}"' for path, rule in rules
            ]
        lines.append("")
    return "\n".join(lines)


def reference(kinds: tuple[Kind, ...]) -> str:
    header = [
        "# API reference",
        "",
        "<!-- Generated from crds/src/anthill_api by `anthill crds reference`. Do not edit. -->",
        "",
        f"Group `anthill.io`, version `v1alpha1`. Kinds: {', '.join(f'[{k.kind}](#{k.kind.lower()})' for k in kinds)}.",
        "Paths use the YAML field names; `[]` marks the items of a list.",
        "",
        "",
    ]
    return "\n".join(header) + "\n".join(kind_reference(kind) for kind in kinds).rstrip("\n") + "\n"
