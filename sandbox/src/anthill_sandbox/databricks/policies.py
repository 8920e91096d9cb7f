"""Cluster policies: the Cluster Policies API, and the check Databricks makes of a job cluster against its policy.

A policy's definition maps attribute paths (``spark_version``, ``autoscale.max_workers``,
``custom_tags.environment``, ``spark_conf.<key>``) to rules: ``fixed``, ``forbidden``, ``allowlist``,
``blocklist``, ``regex``, ``range`` and ``unlimited``, with ``defaultValue`` and ``isOptional``. Databricks
applies fixed values and (with ``apply_policy_default_values``) defaults to the cluster, then refuses a cluster
that breaks a rule, naming the attribute: the job is not created.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from anthill_sandbox.databricks.errors import ApiError, invalid
from anthill_sandbox.databricks.state import Principal, WorkspaceState

RULE_TYPES = frozenset({"fixed", "forbidden", "allowlist", "blocklist", "regex", "range", "unlimited"})
# Cluster fields that are maps: their entries are attributes of their own (custom_tags.team).
MAP_FIELDS = frozenset({"spark_conf", "spark_env_vars", "custom_tags", "aws_attributes", "autoscale",
                        "azure_attributes", "gcp_attributes"})  # fmt: skip


def _not_found(policy_id: str) -> ApiError:
    return ApiError(
        HTTPStatus.NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", f"Can't find a cluster policy with id: {policy_id}."
    )


def parse_definition(text: str) -> dict[str, dict[str, Any]]:
    """A policy definition (JSON text) as Databricks accepts it, or 400 saying what is wrong."""
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid(f"Policy definition is not valid JSON: {exc.msg}") from None
    if not isinstance(definition, dict):
        raise invalid("Policy definition must be a JSON object")
    for attribute, rule in definition.items():
        if not isinstance(rule, dict) or rule.get("type") not in RULE_TYPES:
            raise invalid(
                f"Policy definition for {attribute} has no valid type ({', '.join(sorted(RULE_TYPES))})"
            )
        if rule["type"] in ("allowlist", "blocklist") and not isinstance(rule.get("values"), list):
            raise invalid(f"Policy definition for {attribute}: {rule['type']} needs a list of values")
        if rule["type"] == "regex":
            try:
                re.compile(str(rule.get("pattern", "")))
            except re.error:
                raise invalid(f"Policy definition for {attribute}: invalid pattern") from None
    return definition


def _attributes(cluster: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, value in cluster.items():
        if name in MAP_FIELDS and isinstance(value, dict):
            for key, item in value.items():
                yield f"{name}.{key}", item
        else:
            yield name, value


def _set(cluster: dict[str, Any], attribute: str, value: Any) -> None:
    name, dot, key = attribute.partition(".")
    if dot and name in MAP_FIELDS:
        cluster.setdefault(name, {})[key] = value
    else:
        cluster[attribute] = value


def _shown(value: Any) -> str:
    return json.dumps(value)


def _range(rule: dict[str, Any], value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"the value must be a number (is {_shown(value)})"
    if "minValue" in rule and value < rule["minValue"]:
        return f"the value must be at least {rule['minValue']} (is {value})"
    if "maxValue" in rule and value > rule["maxValue"]:
        return f"the value must be at most {rule['maxValue']} (is {value})"
    return None


# How a value breaks each kind of rule, in Databricks' words, or None.
CHECKS: dict[str, Callable[[dict[str, Any], Any], str | None]] = {
    "fixed": lambda rule, value: (
        None if value == rule.get("value") else f"the value must be {rule.get('value')} (is {_shown(value)})"
    ),
    "forbidden": lambda rule, value: "the value must not be present",
    "allowlist": lambda rule, value: (
        None if value in rule["values"]
        else f"the value must be one of {_shown(rule['values'])} (is {_shown(value)})"
    ),
    "blocklist": lambda rule, value: (
        f"the value must not be one of {_shown(rule['values'])} (is {_shown(value)})"
        if value in rule["values"] else None
    ),
    "regex": lambda rule, value: (
        None if re.fullmatch(str(rule.get("pattern", "")), str(value))
        else f"the value must match the regex {rule.get('pattern')} (is {_shown(value)})"
    ),
    "range": _range,
    "unlimited": lambda rule, value: None,
}  # fmt: skip


def apply_policy(cluster: dict[str, Any], definition: dict[str, dict[str, Any]], path: str) -> dict[str, Any]:
    """The cluster as Databricks would create it under the policy (fixed values and, when the cluster asks for
    them, defaults filled in); 400 ``Cluster validation error`` naming the first attribute that breaks it."""
    out: dict[str, Any] = copy.deepcopy(cluster)
    defaults = bool(out.get("apply_policy_default_values"))
    present = dict(_attributes(out))
    for attribute, rule in definition.items():
        if attribute in present:
            continue
        if rule["type"] == "fixed":
            _set(out, attribute, rule.get("value"))
        elif defaults and "defaultValue" in rule:
            _set(out, attribute, rule["defaultValue"])
        elif rule["type"] in ("allowlist", "regex", "range", "unlimited") and not rule.get(
            "isOptional", False
        ):
            raise invalid(f"Cluster validation error: Validation failed for {attribute}, the value must be present "
                          f"({path})")  # fmt: skip
    for attribute, value in present.items():
        limit = definition.get(attribute)
        if limit is None:
            continue
        problem = CHECKS[limit["type"]](limit, value)
        if problem is not None:
            raise invalid(f"Cluster validation error: Validation failed for {attribute}, {problem} ({path})")
    return out


def check_job_clusters(settings: dict[str, Any], state: WorkspaceState, path: str) -> None:
    """Every job cluster that names a policy must exist under it and keep to it (the caller holds the lock)."""
    for index, job_cluster in enumerate(settings.get("job_clusters") or []):
        cluster = job_cluster.get("new_cluster") or {}
        policy_id = cluster.get("policy_id")
        if policy_id is None:
            continue
        if policy_id not in state.policies:
            raise invalid(f"Cluster validation error: Cluster policy {policy_id} does not exist "
                          f"({path}.job_clusters[{index}].new_cluster.policy_id)")  # fmt: skip
        definition = parse_definition(state.policies[policy_id]["definition"])
        apply_policy(cluster, definition, f"{path}.job_clusters[{index}].new_cluster")


class Policies:
    """The Cluster Policies API over a :class:`WorkspaceState`."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state

    def create(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("Missing required field: name")
        parse_definition(body.get("definition") or "{}")
        with self.state.lock:
            if any(policy["name"] == name for policy in self.state.policies.values()):
                raise ApiError(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE",
                               f"Policy names must be unique; {name} already exists.")  # fmt: skip
            policy_id = self.state.new_policy_id()
            self.state.policies[policy_id] = {
                "policy_id": policy_id,
                "name": name,
                "definition": body.get("definition") or "{}",
                "description": body.get("description", ""),
                "creator_user_name": principal.name,
                "created_at_timestamp": self.state.now_ms(),
                "is_default": False,
            }
        return {"policy_id": policy_id}

    def edit(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        policy_id = str(body.get("policy_id", ""))
        parse_definition(body.get("definition") or "{}")
        with self.state.lock:
            policy = self.state.policies.get(policy_id)
            if policy is None:
                raise _not_found(policy_id)
            policy.update({k: body[k] for k in ("name", "definition", "description") if k in body})
        return {}

    def delete(self, body: dict[str, Any], principal: Principal) -> dict[str, Any]:
        policy_id = str(body.get("policy_id", ""))
        with self.state.lock:
            if self.state.policies.pop(policy_id, None) is None:
                raise _not_found(policy_id)
        return {}

    def get(self, query: dict[str, Any], principal: Principal) -> dict[str, Any]:
        with self.state.lock:
            policy = self.state.policies.get(query["policy_id"])
            if policy is None:
                raise _not_found(query["policy_id"])
            return dict(policy)

    def list(self, query: dict[str, Any], principal: Principal) -> dict[str, Any]:
        with self.state.lock:
            policies = [dict(policy) for _, policy in sorted(self.state.policies.items())]
        return {"policies": policies}
