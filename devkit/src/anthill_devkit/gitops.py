"""What an environment's cluster takes from Terraform: the values files under ``gitops/envs/<env>/generated/``.

Terraform makes the buckets, roles, workspace, volume and policy; Argo CD deploys what uses them. The bridge
between the two is this module: after each apply, ``.github/workflows/terraform.yml`` runs
``anthill dev gitops-values`` on the roots' outputs (``terraform output -json platform`` and ``... innovation``)
and proposes the two files it writes as a pull request:

| file | read by | holds |
|---|---|---|
| ``generated/anthill.yaml`` | the chart ``charts/anthill`` (after ``values-<env>.yaml``) | IRSA role ARNs, region, lake prefix, wheel volume, cluster policy, Databricks host |
| ``generated/market.yaml`` | the chart ``gitops/market`` (after ``envs/<env>/market.yaml``) | ``terraform:`` lake URI, tenant namespaces, workspace URL, catalog, SQL warehouse |

Nothing else in ``gitops/`` or ``charts/anthill/values-*.yaml`` names a URI, ARN, host, volume or policy:
``tests/unit/terraform/test_gitops_contract.py`` holds both sides to it. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("dev", "staging", "prod")

# Every Terraform output the cluster reads, by stack: the contract test checks each is an output of that
# stack, and the generator reads no other.
READS: dict[str, tuple[str, ...]] = {
    "platform": (
        "operator_role_arn",
        "ingest_role_arn",
        "spark_role_arn",
        "aws_region",
        "lake_uri",
        "tenant_namespaces",
        "databricks_workspace_url",
    ),
    "innovation": ("catalog_name", "wheel_volume_path", "job_cluster_policy_id", "sql_warehouse_id"),
}

HEADER = (
    "# Written by `anthill dev gitops-values` from Terraform's outputs of terraform/environments/{env}/platform\n"
    "# and .../innovation ({workflow} proposes it after each apply). Do not edit: the next apply rewrites it.\n"
)
WORKFLOW = ".github/workflows/terraform.yml"


class GitopsValuesError(ValueError):
    """Terraform's outputs lack something the cluster needs."""


@dataclass(frozen=True)
class Outputs:
    """One environment's stack outputs, as ``terraform output -json <stack>`` prints them."""

    environment: str
    platform: Mapping[str, Any]
    innovation: Mapping[str, Any]

    def get(self, stack: str, name: str) -> Any:
        if name not in READS[stack]:
            raise KeyError(
                f"{stack} output {name} is not in READS: declare it so the contract test checks it"
            )
        outputs = self.platform if stack == "platform" else self.innovation
        value = outputs.get(name)
        if value in (None, "", []):
            raise GitopsValuesError(
                f"{self.environment}: the {stack} stack's output {name} is "
                f"{'missing' if name not in outputs else 'empty'}; apply terraform/environments/"
                f"{self.environment}/{stack} (and pass `terraform output -json {stack}`) before generating values"
            )
        return value

    def text(self, stack: str, name: str) -> str:
        value = self.get(stack, name)
        if not isinstance(value, str):
            raise GitopsValuesError(
                f"{self.environment}: {stack} output {name} must be a string, not {value!r}"
            )
        return value


def _hostname(url: str, environment: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise GitopsValuesError(f"{environment}: databricks_workspace_url {url!r} is not an https:// URL")
    return parts.hostname


def _lake_uri(outputs: Outputs) -> str:
    uri = outputs.text("platform", "lake_uri").rstrip("/")
    if not uri.startswith("s3://"):
        raise GitopsValuesError(f"{outputs.environment}: lake_uri {uri!r} is not an s3:// URI")
    return uri


def _roles(outputs: Outputs, name: str) -> dict[str, str]:
    """A per-namespace role output (``{namespace: arn}``), covering every tenant namespace."""
    roles = outputs.get("platform", name)
    namespaces = _namespaces(outputs)
    if not isinstance(roles, dict) or not all(isinstance(v, str) and v for v in roles.values()):
        raise GitopsValuesError(f"{outputs.environment}: {name} must map each tenant namespace to a role ARN")
    if missing := sorted(set(namespaces) - set(roles)):
        raise GitopsValuesError(f"{outputs.environment}: {name} has no role for tenant namespaces {missing}")
    return {namespace: roles[namespace] for namespace in namespaces}


def _namespaces(outputs: Outputs) -> list[str]:
    namespaces = outputs.get("platform", "tenant_namespaces")
    if not isinstance(namespaces, list) or not all(isinstance(n, str) for n in namespaces):
        raise GitopsValuesError(f"{outputs.environment}: tenant_namespaces must be a list of names")
    return namespaces


def chart_values(outputs: Outputs) -> dict[str, Any]:
    """Values of ``charts/anthill`` that only Terraform knows, in the chart's own shape."""
    volume = outputs.text("innovation", "wheel_volume_path").rstrip("/")
    return {
        "serviceAccount": {"roleArn": outputs.text("platform", "operator_role_arn")},
        # One role per tenant namespace: IRSA cannot hold a shared role to one namespace's prefix.
        "ingest": {"serviceAccount": {"roleArns": _roles(outputs, "ingest_role_arn")}},
        "spark": {"serviceAccount": {"roleArns": _roles(outputs, "spark_role_arn")}},
        "lake": {
            "region": outputs.text("platform", "aws_region"),
            # Each namespace's lake is <lake>/<namespace>: the keys the ingest and Spark roles may write.
            "destinationPrefix": f"{_lake_uri(outputs)}/{{namespace}}",
        },
        "databricks": {
            "wheelVolume": volume,
            "clusterPolicyId": outputs.text("innovation", "job_cluster_policy_id"),
            # Credentials go to this environment's workspace and no other.
            "allowedHosts": [
                _hostname(outputs.text("platform", "databricks_workspace_url"), outputs.environment)
            ],
        },
        "allowlists": {"wheels": [f"{volume}/"]},
    }


def market_values(outputs: Outputs) -> dict[str, Any]:
    """Values of ``gitops/market`` that only Terraform knows, under ``terraform:``."""
    namespaces = _namespaces(outputs)
    url = outputs.text("platform", "databricks_workspace_url").rstrip("/")
    _hostname(url, outputs.environment)
    return {
        "terraform": {
            "environment": outputs.environment,
            "lakeUri": _lake_uri(outputs),
            "tenantNamespaces": namespaces,
            "databricksHost": url,
            "catalog": outputs.text("innovation", "catalog_name"),
            "sqlWarehouseId": outputs.text("innovation", "sql_warehouse_id"),
        }
    }


def unwrap(document: Mapping[str, Any], stack: str) -> Mapping[str, Any]:
    """A stack's outputs from ``terraform output -json <stack>`` (the object itself) or ``terraform output -json``
    (all outputs, each ``{"value": ...}``)."""
    if stack in document and isinstance(document[stack], Mapping) and "value" in document[stack]:
        value = document[stack]["value"]
        if not isinstance(value, Mapping):
            raise GitopsValuesError(f"output {stack} is not an object")
        return value
    return document
