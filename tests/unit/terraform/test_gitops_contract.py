"""Terraform -> Argo CD -> charts: every URI, ARN, host, volume and policy the cluster uses is one Terraform makes.

The seam is ``anthill_devkit.gitops``: it turns the stacks' outputs into ``gitops/envs/<env>/generated/*.yaml``,
which the ApplicationSet hands to both charts. These tests hold each side of it, per environment:

- nothing in ``gitops/`` or ``charts/anthill/values-*.yaml`` names such a value by hand;
- every output the generator reads is an output of the stack it names, re-exported by each root;
- what Argo CD would deploy (both charts rendered with the generated files, from outputs with recognisable
  values) uses exactly Terraform's values, and no other URI, ARN or host;
- the ServiceAccounts and namespaces the rendered objects use are the ones Terraform's IRSA roles trust.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill_devkit import gitops
from tests.unit.charts.argocd import ENVS, GITOPS, Deployed
from tests.unit.charts.helm import ENV_VALUES
from tests.unit.terraform.hcl import ENVIRONMENTS, MODULES, REPO, STACKS, blocks, locals_of, parse

# What only Terraform may say: lake and bucket URIs, ARNs, account IDs, Databricks hosts, Unity Catalog volumes
# and cluster policy ids.
HAND_WRITTEN = {
    "URI": re.compile(r"\b(?:s3a?|abfss|gs)://[^\s\"'}]+"),
    "ARN": re.compile(r"\barn:aws[a-z-]*:[^\s\"'}]+"),
    "account id": re.compile(r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])"),
    "Databricks host": re.compile(
        r"[a-z0-9.-]+\.(?:cloud\.databricks\.com|azuredatabricks\.net|gcp\.databricks\.com)\b"
    ),
    "volume": re.compile(r"/Volumes/[A-Za-z0-9_]+"),
}
HAND_WRITTEN_KEYS = {"clusterPolicyId", "policyId", "warehouseId", "roleArn", "role-arn", "host"}


def sources() -> list[Path]:
    """The files Argo CD reads that people write: gitops/ (not generated/) and the chart's environment values."""
    written = [p for p in sorted(GITOPS.rglob("*.yaml")) if "generated" not in p.parts]
    return written + [ENV_VALUES[env] for env in ENVS]


def _keyed_values(node: Any, found: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in HAND_WRITTEN_KEYS and isinstance(value, str) and value and "{{" not in value:
                found.append((str(key), value))
            _keyed_values(value, found)
    elif isinstance(node, list):
        for item in node:
            _keyed_values(item, found)


def hand_written(path: Path) -> list[str]:
    """What ``path`` names by hand that only Terraform may say (comments excluded)."""
    text = "\n".join(
        line.split(" #")[0] for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    found = [f"{kind} {match}" for kind, pattern in HAND_WRITTEN.items() for match in pattern.findall(text)]
    if "templates" not in path.parts:
        keyed: list[tuple[str, str]] = []
        for doc in yaml.safe_load_all(path.read_text()):
            _keyed_values(doc, keyed)
        found += [f"{key}: {value}" for key, value in keyed]
    return found


def test_nothing_in_gitops_or_the_values_files_names_infrastructure_by_hand() -> None:
    offenders = {str(p.relative_to(REPO)): found for p in sources() if (found := hand_written(p))}
    assert not offenders, (
        "these come from Terraform's outputs through gitops/envs/<env>/generated/, not by hand:\n"
        + "\n".join(f"  {path}: {', '.join(found)}" for path, found in offenders.items())
    )


def stack_outputs(stack: str) -> set[str]:
    return {label for _, label, _ in blocks(STACKS / stack, "output")}


@pytest.mark.parametrize("stack", sorted(gitops.READS))
def test_every_output_the_cluster_reads_is_one_the_stack_makes(stack: str) -> None:
    missing = sorted(set(gitops.READS[stack]) - stack_outputs(stack))
    assert not missing, f"stacks/{stack} has no output {missing}, which the cluster's values are made from"


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("stack", sorted(gitops.READS))
def test_each_root_re_exports_its_stack_whole(env: str, stack: str) -> None:
    """``terraform output -json <stack>`` in the root is what the workflow passes to the generator."""
    outputs = {label: body for _, label, body in blocks(ENVIRONMENTS / env / stack, "output")}
    assert outputs.get(stack, {}).get("value") == f"${{module.{stack}}}", outputs


def test_the_application_gives_both_charts_the_generated_values_last(deployed: Deployed) -> None:
    env = deployed.env
    generated = GITOPS / "envs" / env / "generated"
    assert deployed.chart_files == [ENV_VALUES[env], generated / "anthill.yaml"]
    assert deployed.market_files == [GITOPS / "envs" / env / "market.yaml", generated / "market.yaml"]


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings(value)]
    return [node] if isinstance(node, str) else []


def test_the_cluster_uses_only_what_terraform_makes(deployed: Deployed) -> None:
    """Every URI, ARN and Databricks host in the rendered objects is one of (or under) Terraform's values."""
    outputs = deployed.outputs
    made = [s for stack in ("platform", "innovation") for s in strings(dict(getattr(outputs, stack)))]
    made += [f"https://{h}" for h in gitops.chart_values(outputs)["databricks"]["allowedHosts"]]
    # CRDs are the API's schema: their descriptions quote example hosts and URIs, which configure nothing.
    # ANTHILL_SPARK_WHEEL is the fallback the operator reads only when no wheel volume is set, and one is.
    assert env_of(deployed.chart)["ANTHILL_WHEEL_VOLUME"]
    fallback = env_of(deployed.chart)["ANTHILL_SPARK_WHEEL"]
    for obj in (o for o in deployed.chart + deployed.market if o["kind"] != "CustomResourceDefinition"):
        for text in strings(json.loads(json.dumps(obj).replace(fallback, ""))):
            for kind in ("URI", "ARN", "Databricks host", "volume"):
                for found in HAND_WRITTEN[kind].findall(text):
                    assert any(found.startswith(m) or m.startswith(found) or found in m for m in made), (
                        f"{obj['kind']} {obj['metadata'].get('name')} uses {kind} {found}, which is not one "
                        "Terraform makes"
                    )


def test_feeds_and_pipelines_write_the_lake_terraform_made_under_their_namespace(deployed: Deployed) -> None:
    outputs = deployed.outputs
    lake = outputs.platform["lake_uri"]
    feeds = deployed.kind("MarketFeed")
    pipelines = deployed.kind("MedallionPipeline")
    assert feeds
    assert pipelines
    for feed in feeds:
        namespace = feed["metadata"]["namespace"]
        assert namespace in outputs.platform["tenant_namespaces"]
        assert feed["spec"]["destination"]["uri"] == f"{lake}/{namespace}"
    for pipeline in pipelines:
        namespace = pipeline["metadata"]["namespace"]
        assert pipeline["spec"]["lake"]["uri"] == f"{lake}/{namespace}"
        if "databricks" in pipeline["spec"]["runtime"]:
            assert pipeline["spec"]["catalog"]["name"] == outputs.innovation["catalog_name"]
    for connection in deployed.kind("DatabricksConnection"):
        assert connection["spec"]["host"] == outputs.platform["databricks_workspace_url"]
        assert (
            connection["spec"].get("wheelVolume", outputs.innovation["wheel_volume_path"])
            == (outputs.innovation["wheel_volume_path"])
        )


def env_of(objects: list[dict[str, Any]]) -> dict[str, str]:
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_the_operator_runs_with_terraforms_role_volume_policy_and_lake(deployed: Deployed) -> None:
    outputs = deployed.outputs
    env = env_of(deployed.chart)
    assert env["ANTHILL_WHEEL_VOLUME"] == outputs.innovation["wheel_volume_path"]
    assert env["ANTHILL_CLUSTER_POLICY_ID"] == outputs.innovation["job_cluster_policy_id"]
    assert env["ANTHILL_LAKE_PREFIX"] == outputs.platform["lake_uri"] + "/{namespace}"
    assert env["ANTHILL_S3_REGION"] == outputs.platform["aws_region"]
    accounts = {
        o["metadata"]["name"]: o["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn")
        for o in deployed.kind("ServiceAccount")
    }
    assert outputs.platform["operator_role_arn"] in accounts.values()
    assert accounts.get("anthill-ingest") == outputs.platform["ingest_role_arn"]["market"]
    assert accounts.get("anthill-spark") == outputs.platform["spark_role_arn"]["market"]


def trusted_accounts() -> dict[str, str]:
    """The ServiceAccounts the eks module's IRSA roles trust, by role kind, as the platform stack calls it:
    the module's defaults unless the stack's ``module "eks"`` block sets them."""
    defaults = {label: body.get("default") for _, label, body in blocks(MODULES / "eks", "variable")}
    [(_, _, call)] = [b for b in blocks(STACKS / "platform", "module") if b[1] == "eks"]
    names: dict[str, Any] = {key: call.get(key, defaults[key]) for key in
             ("operator_service_account", "ingest_service_account", "spark_service_account")}  # fmt: skip
    subjects = locals_of(MODULES / "eks")["irsa_subjects"]
    for key in ("ingest_service_account", "spark_service_account"):
        assert f"system:serviceaccount:${{ns}}:${{var.{key}}}" in subjects, key
    assert (
        "system:serviceaccount:${var.operator_service_account.namespace}:${var.operator_service_account.name}"
        in (subjects)
    )
    operator: dict[str, str] = names["operator_service_account"]
    return {
        "operator": f"{operator['namespace']}/{operator['name']}",
        "ingest": str(names["ingest_service_account"]),
        "spark": str(names["spark_service_account"]),
    }


def test_pods_run_as_the_service_accounts_terraforms_roles_trust(deployed: Deployed) -> None:
    """Each ingest and Spark role trusts ``<tenant namespace>:<name>``; the operator's one namespace/name."""
    trusted = trusted_accounts()
    namespaces = deployed.outputs.platform["tenant_namespaces"]
    for feed in deployed.kind("MarketFeed"):
        assert feed["metadata"]["namespace"] in namespaces
        assert feed["spec"]["serviceAccountName"] == trusted["ingest"]
    for pipeline in deployed.kind("MedallionPipeline"):
        if kubernetes := pipeline["spec"]["runtime"].get("kubernetes"):
            assert kubernetes["serviceAccountName"] == trusted["spark"]
    [deployment] = deployed.kind("Deployment")
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    assert f"{deployment['metadata']['namespace']}/{account}" == trusted["operator"]
    created = {
        (o["metadata"].get("namespace"), o["metadata"]["name"]) for o in deployed.kind("ServiceAccount")
    }
    for namespace in namespaces:
        assert (namespace, trusted["ingest"]) in created
        assert (namespace, trusted["spark"]) in created
    stack_default = next(body for _, label, body in blocks(STACKS / "platform", "variable")
                         if label == "tenant_namespaces")["default"]  # fmt: skip
    assert set(namespaces) <= set(stack_default)


def test_terraform_bootstraps_argo_cd_and_leaves_the_charts_to_it() -> None:
    """One owner per thing: Terraform installs Argo CD and gitops/bootstrap, never charts/anthill or the market."""
    releases = [
        (path, name, body)
        for directory in sorted({p.parent for p in (REPO / "terraform").rglob("*.tf")})
        for path in sorted(directory.glob("*.tf"))
        for entry in parse(path).get("resource", [])
        for kind, named in entry.items()
        if kind == "helm_release"
        for name, body in named.items()
    ]
    charts = {str(body["chart"]) for _, _, body in releases}
    assert charts == {"argo-cd", "${var.gitops_chart_path}"}, charts
    [(_, _, module)] = [b for b in blocks(STACKS / "platform", "module") if b[1] == "platform_bootstrap"]
    here = STACKS / "platform"
    assert (
        here / module["gitops_chart_path"].replace("${path.module}/", "")
    ).resolve() == GITOPS / "bootstrap"
    for path in module["argocd"]["values_files"]:
        assert (
            here / path.replace("${path.module}/", "")
        ).resolve() == GITOPS / "argocd" / "argocd-values.yaml"
    assert module["tenant_namespaces"] == "${var.tenant_namespaces}"
