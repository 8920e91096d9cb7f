"""Argo CD: the ApplicationSet's Applications, what the AppProject allows, sync waves and health checks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO
from tests.unit.charts.helm import CHART, ENV_VALUES, ENVIRONMENTS, Helm

ARGOCD = REPO / "gitops" / "argocd"
ENVS = REPO / "gitops" / "envs"
LUA_RUNNER = Path(__file__).parent / "luahealth"
TEMPLATE_VALUE = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
TEMPLATE_IF = re.compile(r"\{\{-?\s*if\s+\.(\w+)\s*\}\}(.*?)\{\{-?\s*end\s*\}\}", re.DOTALL)
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def env_docs(env: str) -> list[dict[str, Any]]:
    return [doc for path in sorted((ENVS / env).glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
            if doc]  # fmt: skip


def fill(text: str, element: dict[str, Any]) -> str:
    """The subset of Go templates the ApplicationSet uses: ``{{ .key }}`` and ``{{- if .key }}...{{- end }}``."""
    text = TEMPLATE_IF.sub(lambda m: m.group(2) if element[m.group(1)] else "", text)
    text = TEMPLATE_VALUE.sub(lambda m: str(element[m.group(1)]), text)
    assert "{{" not in text, f"template construct this test does not understand: {text}"
    return text


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        merged[key] = merge(merged[key], value) if isinstance(value, dict) and key in merged else value
    return merged


def applications() -> dict[str, dict[str, Any]]:
    """The Applications Argo CD generates from the ApplicationSet, by environment."""
    appset = load(ARGOCD / "applicationset.yaml")
    spec = appset["spec"]
    [generator] = spec["generators"]
    generated = {}
    for element in generator["list"]["elements"]:
        app = yaml.safe_load(fill(yaml.safe_dump(spec["template"]), element))
        patch = yaml.safe_load(fill(spec.get("templatePatch", ""), element)) or {}
        generated[element["env"]] = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                                     **merge(app, patch)}  # fmt: skip
    return generated


def test_application_set_has_the_fields_argo_cd_requires() -> None:
    appset = load(ARGOCD / "applicationset.yaml")
    assert appset["apiVersion"] == "argoproj.io/v1alpha1"
    assert appset["kind"] == "ApplicationSet"
    assert appset["metadata"]["namespace"] == "argocd"
    assert appset["spec"]["goTemplate"] is True
    assert appset["spec"]["goTemplateOptions"] == ["missingkey=error"]
    assert appset["spec"]["generators"]
    assert {"metadata", "spec"} <= appset["spec"]["template"].keys()


def test_one_application_per_environment_with_its_values_file() -> None:
    apps = applications()
    assert sorted(apps) == sorted(ENVIRONMENTS)
    for env, app in apps.items():
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", app["metadata"]["name"])
        spec = app["spec"]
        assert spec["project"] == "anthill"
        assert spec["destination"]["namespace"] == "anthill-system"
        assert spec["destination"].keys() & {"name", "server"}
        chart, manifests = spec["sources"]
        for source in spec["sources"]:
            assert {"repoURL", "targetRevision", "path"} <= source.keys()
            assert (REPO / source["path"]).is_dir(), source["path"]
        assert chart["path"] == "charts/anthill"
        assert [CHART / f for f in chart["helm"]["valueFiles"]] == [ENV_VALUES[env]]
        assert manifests["path"] == f"gitops/envs/{env}"


@pytest.mark.parametrize(("env", "automated"), [("dev", True), ("staging", True), ("prod", False)])
def test_only_prod_waits_for_a_person_to_sync(env: str, automated: bool) -> None:
    policy = applications()[env]["spec"]["syncPolicy"]
    assert ("automated" in policy) == automated
    if automated:
        assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert "ServerSideApply=true" in policy["syncOptions"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_project_allows_exactly_what_the_application_deploys(helm: Helm, env: str) -> None:
    project = load(ARGOCD / "appproject.yaml")["spec"]
    app = applications()[env]["spec"]
    assert {s["repoURL"] for s in app["sources"]} <= set(project["sourceRepos"])
    objects = helm.render(ENV_VALUES[env], namespace=app["destination"]["namespace"]) + env_docs(env)
    allowed_cluster = {(k["group"], k["kind"]) for k in project["clusterResourceWhitelist"]}
    allowed_namespaced = {(k["group"], k["kind"]) for k in project["namespaceResourceWhitelist"]}
    destinations = {(d["name"], d["namespace"]) for d in project["destinations"]}
    for obj in objects:
        group_kind = (obj["apiVersion"].rpartition("/")[0], obj["kind"])
        if obj["kind"] in CLUSTER_SCOPED:
            assert group_kind in allowed_cluster, group_kind
        else:
            assert group_kind in allowed_namespaced, group_kind
            namespace = obj["metadata"].get("namespace", app["destination"]["namespace"])
            assert (app["destination"]["name"], namespace) in destinations, (obj["kind"], namespace)


def wave(obj: dict[str, Any]) -> int:
    return int(obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_sync_waves_order_namespaces_crds_operator_then_feeds_then_pipelines(helm: Helm, env: str) -> None:
    objects = helm.render(ENV_VALUES[env]) + env_docs(env)
    waves: dict[str, set[int]] = {}
    for obj in objects:
        waves.setdefault(obj["kind"], set()).add(wave(obj))
    assert waves["Namespace"] == {-2}
    assert waves["CustomResourceDefinition"] == {-1}
    assert waves["Deployment"] == waves["ClusterRole"] == waves["RoleBinding"] == {0}
    assert waves["MarketFeed"] == {1}
    assert waves["MedallionPipeline"] == {2}
    assert waves.get("DatabricksConnection", {1}) == {1}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_custom_resources_are_served_by_the_environments_operator(env: str) -> None:
    """Feeds live where the operator watches and may read their Secret; the first sync skips their dry run."""
    values = load(ENV_VALUES[env])
    served = set(values.get("watchNamespaces", [])) | set(values.get("secretNamespaces", []))
    custom = [doc for doc in env_docs(env) if doc["apiVersion"].startswith("anthill.io/")]
    assert {doc["kind"] for doc in custom} >= {"MarketFeed", "MedallionPipeline"}
    for doc in custom:
        assert doc["metadata"]["namespace"] in served
        options = doc["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]
        assert "SkipDryRunOnMissingResource=true" in options
    feeds = {doc["metadata"]["name"] for doc in custom if doc["kind"] == "MarketFeed"}
    for pipeline in (doc for doc in custom if doc["kind"] == "MedallionPipeline"):
        assert {feed["name"] for feed in pipeline["spec"]["feeds"]} <= feeds


def test_argocd_cm_embeds_the_health_script_for_every_anthill_kind() -> None:
    data = load(ARGOCD / "argocd-cm.yaml")["data"]
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
