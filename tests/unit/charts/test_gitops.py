"""Argo CD: what Terraform bootstraps (registration, AppProject, ApplicationSet), the Application it generates,
what the AppProject allows, sync waves and health checks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO
from tests.unit.charts.argocd import (
    ARGOCD_VALUES,
    BOOTSTRAP,
    ENVS,
    GITOPS,
    Deployed,
    application,
    bootstrap,
)
from tests.unit.charts.helm import CHART, ENV_VALUES, Helm
from tests.unit.terraform.hcl import ENVIRONMENTS, STACKS, blocks

ARGOCD = GITOPS / "argocd"
LUA_RUNNER = Path(__file__).parent / "luahealth"
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}


@pytest.mark.parametrize("env", ENVS)
def test_bootstrap_registers_the_cluster_the_application_set_selects(helm: Helm, env: str) -> None:
    objects = {o["kind"]: o for o in bootstrap(helm, env)}
    assert sorted(objects) == ["AppProject", "ApplicationSet", "Secret"]
    cluster = objects["Secret"]
    assert cluster["metadata"]["namespace"] == "argocd"
    assert cluster["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "cluster",
                                             "anthill.io/environment": env}  # fmt: skip
    # Argo CD's own cluster, reached with its ServiceAccount: no credentials in the Secret.
    assert cluster["stringData"] == {"name": f"anthill-{env}", "server": "https://kubernetes.default.svc"}
    appset = objects["ApplicationSet"]
    assert appset["apiVersion"] == "argoproj.io/v1alpha1"
    assert appset["spec"]["goTemplate"] is True
    assert appset["spec"]["goTemplateOptions"] == ["missingkey=error"]
    assert {"metadata", "spec"} <= appset["spec"]["template"].keys()


def test_bootstrap_refuses_an_unknown_environment(helm: Helm) -> None:
    result = helm("template", "x", str(BOOTSTRAP), "--set", "environment=qa")
    assert result.returncode != 0
    assert "environment must be dev, staging or prod" in result.stderr


@pytest.mark.parametrize("env", ENVS)
def test_the_application_syncs_the_chart_and_the_market_with_their_values(helm: Helm, env: str) -> None:
    app = application(helm, env)
    assert app["metadata"]["name"] == f"anthill-{env}"
    spec = app["spec"]
    assert spec["project"] == "anthill"
    assert spec["destination"] == {"name": f"anthill-{env}", "namespace": "anthill-system"}
    ref, chart, market = spec["sources"]
    assert ref == {"repoURL": chart["repoURL"], "targetRevision": chart["targetRevision"], "ref": "repo"}
    assert chart["path"] == "charts/anthill"
    assert chart["helm"]["valueFiles"] == [
        f"values-{env}.yaml",
        f"$repo/gitops/envs/{env}/generated/anthill.yaml",
    ]
    assert (CHART / chart["helm"]["valueFiles"][0]) == ENV_VALUES[env]
    assert market["path"] == "gitops/market"
    assert market["helm"]["valueFiles"] == [f"$repo/gitops/envs/{env}/market.yaml",
                                            f"$repo/gitops/envs/{env}/generated/market.yaml"]  # fmt: skip
    for source in (chart, market):
        assert (REPO / source["path"]).is_dir(), source["path"]
        assert "ignoreMissingValueFiles" not in source["helm"], "a missing generated file must stop the sync"


def root_auto_sync(env: str) -> bool:
    """What the environment's platform root gives the stack (its default when the root says nothing)."""
    [(_, _, module)] = blocks(ENVIRONMENTS / env / "platform", "module")
    default = next(
        body for _, label, body in blocks(STACKS / "platform", "variable") if label == "gitops_auto_sync"
    )
    return bool(module.get("gitops_auto_sync", default["default"]))


@pytest.mark.parametrize(("env", "automated"), [("dev", True), ("staging", True), ("prod", False)])
def test_only_prod_waits_for_a_person_to_sync(helm: Helm, env: str, automated: bool) -> None:
    assert root_auto_sync(env) is automated
    policy = application(helm, env, f"autoSync={str(root_auto_sync(env)).lower()}")["spec"]["syncPolicy"]
    assert ("automated" in policy) == automated
    if automated:
        assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert "ServerSideApply=true" in policy["syncOptions"]


def test_project_allows_exactly_what_the_application_deploys(helm: Helm, deployed: Deployed) -> None:
    [project] = [o["spec"] for o in bootstrap(helm, deployed.env) if o["kind"] == "AppProject"]
    app = deployed.app["spec"]
    assert {s["repoURL"] for s in app["sources"]} <= set(project["sourceRepos"])
    allowed_cluster = {(k["group"], k["kind"]) for k in project["clusterResourceWhitelist"]}
    allowed_namespaced = {(k["group"], k["kind"]) for k in project["namespaceResourceWhitelist"]}
    destinations = {(d["name"], d["namespace"]) for d in project["destinations"]}
    for obj in deployed.chart + deployed.market:
        group_kind = (obj["apiVersion"].rpartition("/")[0], obj["kind"])
        if obj["kind"] in CLUSTER_SCOPED:
            assert group_kind in allowed_cluster, group_kind
        else:
            assert group_kind in allowed_namespaced, group_kind
            namespace = obj["metadata"].get("namespace", app["destination"]["namespace"])
            assert (app["destination"]["name"], namespace) in destinations, (obj["kind"], namespace)


def wave(obj: dict[str, Any]) -> int:
    return int(obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))


def test_sync_waves_order_namespaces_crds_operator_then_feeds_then_pipelines(deployed: Deployed) -> None:
    waves: dict[str, set[int]] = {}
    for obj in deployed.chart + deployed.market:
        waves.setdefault(obj["kind"], set()).add(wave(obj))
    assert waves["Namespace"] == {-2}
    assert waves["CustomResourceDefinition"] == {-1}
    assert waves["Deployment"] == waves["ClusterRole"] == waves["RoleBinding"] == {0}
    assert waves["MarketFeed"] == {1}
    assert waves["MedallionPipeline"] == {2}
    assert waves.get("DatabricksConnection", {1}) == {1}


def test_custom_resources_are_served_by_the_environments_operator(deployed: Deployed) -> None:
    """Feeds live where the operator watches and may read their Secret; the first sync skips their dry run."""
    values = yaml.safe_load(ENV_VALUES[deployed.env].read_text())
    served = set(values.get("watchNamespaces", [])) | set(values.get("secretNamespaces", []))
    custom = [doc for doc in deployed.market if doc["apiVersion"].startswith("anthill.io/")]
    assert {doc["kind"] for doc in custom} >= {"MarketFeed", "MedallionPipeline"}
    for doc in custom:
        assert doc["metadata"]["namespace"] in served
        options = doc["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]
        assert "SkipDryRunOnMissingResource=true" in options
    feeds = {doc["metadata"]["name"] for doc in custom if doc["kind"] == "MarketFeed"}
    for pipeline in (doc for doc in custom if doc["kind"] == "MedallionPipeline"):
        assert {feed["name"] for feed in pipeline["spec"]["feeds"]} <= feeds
        connection = pipeline["spec"]["runtime"].get("databricks", {}).get("connectionRef", {}).get("name")
        if connection:
            assert connection in {
                d["metadata"]["name"] for d in custom if d["kind"] == "DatabricksConnection"
            }


def test_the_market_chart_refuses_to_render_before_terraform_has_written_its_values(helm: Helm) -> None:
    result = helm("template", "m", str(GITOPS / "market"), "-f", str(GITOPS / "envs" / "dev" / "market.yaml"))
    assert result.returncode != 0
    assert "generated/market.yaml" in result.stderr


def test_the_market_chart_refuses_a_namespace_terraform_does_not_trust(helm: Helm, tmp_path: Path) -> None:
    generated = tmp_path / "market.yaml"
    generated.write_text(yaml.safe_dump({"terraform": {"environment": "dev", "lakeUri": "s3://l",
                                                       "tenantNamespaces": ["other"]}}))  # fmt: skip
    result = helm("template", "m", str(GITOPS / "market"), "-f", str(GITOPS / "envs" / "dev" / "market.yaml"),
                  "-f", str(generated))  # fmt: skip
    assert result.returncode != 0
    assert 'namespace "market" is not one of Terraform\'s tenant_namespaces' in result.stderr


def test_argo_cd_values_embed_the_health_script_for_every_anthill_kind() -> None:
    data = yaml.safe_load(ARGOCD_VALUES.read_text())["configs"]["cm"]
    script = (ARGOCD / "health.lua").read_text()
    kinds = {
        doc["spec"]["names"]["kind"]
        for path in (REPO / "crds").glob("*.anthill.io.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    }
    keys = {f"resource.customizations.health.anthill.io_{kind}" for kind in kinds}
    assert keys == data.keys()
    assert all(data[key] == script for key in keys)


def condition(type_: str, status: str, reason: str, message: str = "") -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def feed(generation: int = 1, observed: int | None = 1, conditions: list[dict[str, str]] | None = None,
         suspend: bool = False, annotations: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    status: dict[str, Any] = {} if conditions is None else {"conditions": conditions}
    if observed is not None and conditions is not None:
        status["observedGeneration"] = observed
    return {
        "apiVersion": "anthill.io/v1alpha1",
        "kind": "MarketFeed",
        "metadata": {"name": "f", "generation": generation, "annotations": annotations or {}},
        "spec": {"suspend": suspend},
        **({"status": status} if status else {}),
    }


READY = condition("Ready", "True", "Available", "CronJob f matches the spec")
SYNCED = condition("Synced", "True", "ReconcileSuccess")
HEALTH_CASES = [
    pytest.param(feed(), "Progressing", "Waiting for the operator", id="new: no status yet"),
    pytest.param(feed(conditions=[READY, SYNCED]), "Healthy", "CronJob f matches", id="ready and synced"),
    pytest.param(
        feed(generation=2, conditions=[READY, SYNCED]),
        "Progressing",
        "observe generation 2",
        id="edited: the operator has not caught up",
    ),
    pytest.param(
        feed(
            conditions=[
                condition("Ready", "False", "SecretNotFound", "secret massive-api not found"),
                condition("Synced", "False", "SecretNotFound"),
            ]
        ),
        "Degraded",
        "secret massive-api not found",
        id="missing API key",
    ),
    pytest.param(
        feed(conditions=[condition("Ready", "False", "InvalidSpec", "spec.tickers: required")]),
        "Degraded",
        "InvalidSpec",
        id="invalid spec",
    ),
    pytest.param(
        feed(conditions=[condition("Ready", "False", "Creating"), SYNCED]),
        "Progressing",
        "Creating",
        id="pending: child being created",
    ),
    pytest.param(
        feed(conditions=[READY, condition("Synced", "False", "ReconcileError", "quota exceeded")]),
        "Progressing",
        "quota exceeded",
        id="outage: retried, not degraded",
    ),
    pytest.param(feed(conditions=[READY]), "Progressing", "Ready=True", id="synced not reported yet"),
    pytest.param(feed(suspend=True, conditions=[READY, SYNCED]), "Suspended", "spec.suspend", id="suspended"),
    pytest.param(
        feed(annotations={"anthill.io/paused": "true"}, conditions=[READY, SYNCED]),
        "Suspended",
        "paused",
        id="paused by annotation",
    ),
]


@pytest.fixture(scope="module")
def lua_health(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The health-script runner on gopher-lua, the Lua interpreter Argo CD embeds."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("needs Go to build the gopher-lua runner (Argo CD's Lua interpreter)")
    binary = tmp_path_factory.mktemp("luahealth") / "luahealth"
    result = subprocess.run([go, "build", "-o", str(binary), "."], cwd=LUA_RUNNER, capture_output=True,
                            text=True, check=False, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return binary


@pytest.mark.parametrize(("obj", "status", "message"), HEALTH_CASES)
def test_health_script(lua_health: Path, obj: dict[str, Any], status: str, message: str) -> None:
    result = subprocess.run([str(lua_health), str(ARGOCD / "health.lua")], input=json.dumps([obj]),
                            capture_output=True, text=True, check=False, timeout=30)  # fmt: skip
    assert result.returncode == 0, result.stderr
    [outcome] = json.loads(result.stdout)
    assert outcome["status"] == status, outcome
    assert message.lower() in outcome["message"].lower(), outcome
