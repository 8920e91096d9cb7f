"""The anthill chart: lint and render for every values file; CRDs, RBAC and pods as the platform requires."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill.allowlist import wheel_refusal
from anthill.settings import OperatorSettings
from tests.helpers import REPO
from tests.unit.charts.argocd import generated_chart_values, sample_outputs
from tests.unit.charts.helm import ALL_VALUES, CHART, ENV_VALUES, KUBE_VERSION, Helm, find, one

VALUES_IDS = list(ALL_VALUES)
VALUES_FILES = list(ALL_VALUES.values())
# Annotations the chart adds to every CRD; the rest of a rendered CRD, but labels, must equal crds/.
CHART_ANNOTATIONS = {
    "helm.sh/resource-policy": "keep",
    "argocd.argoproj.io/sync-wave": "-1",
    "argocd.argoproj.io/sync-options": "Delete=false,Prune=false",
}


def source_docs(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((REPO / "crds" / name).read_text()) if doc]


def source_crds() -> dict[str, dict[str, Any]]:
    crds = {}
    for path in sorted((REPO / "crds").glob("*.yaml")):
        for doc in source_docs(path.name):
            if doc["kind"] == "CustomResourceDefinition":
                crds[doc["metadata"]["name"]] = doc
    return crds


def pod_spec(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = one(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def env_vars(objects: list[dict[str, Any]]) -> dict[str, str]:
    container = pod_spec(objects)["containers"][0]
    return {item["name"]: item.get("value", "") for item in container["env"]}


@pytest.mark.parametrize("values", VALUES_FILES, ids=VALUES_IDS)
def test_lint_is_clean(helm: Helm, values: Path) -> None:
    output = helm.ok("lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION, "-f", str(values))
    assert "0 chart(s) failed" in output


@pytest.mark.parametrize("values", VALUES_FILES, ids=VALUES_IDS)
def test_every_object_is_named_labelled_and_selects_on_stable_labels(helm: Helm, values: Path) -> None:
    objects = helm.render(values)
    assert find(objects, "Deployment"), "the operator is always rendered"
    for obj in objects:
        meta = obj["metadata"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", meta["name"]), meta["name"]
        assert len(meta["name"]) <= 63 or obj["kind"] == "CustomResourceDefinition"
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "Helm"
        assert meta["labels"]["app.kubernetes.io/part-of"] == "anthill"
    selectors = [o["spec"]["selector"] for o in objects if o["kind"] == "Service"]
    selectors += [o["spec"]["selector"]["matchLabels"] for o in objects if o["kind"] in {"Deployment",
                  "PodDisruptionBudget"}]  # fmt: skip
    selectors += [o["spec"]["podSelector"]["matchLabels"] for o in find(objects, "NetworkPolicy")]
    for selector in selectors:
        assert "helm.sh/chart" not in selector
        assert "app.kubernetes.io/version" not in selector


def test_rendered_crds_are_the_repository_crds_plus_keep(helm: Helm) -> None:
    """Helm owns and upgrades the CRDs, but their content is crds/'s; only labels and annotations are added."""
    rendered = {o["metadata"]["name"]: o for o in find(helm.render(), "CustomResourceDefinition")}
    expected = source_crds()
    assert rendered.keys() == expected.keys()
    for name, crd in rendered.items():
        source = expected[name]
        labels = crd["metadata"].pop("labels")
        annotations = crd["metadata"].pop("annotations")
        assert source["metadata"].get("labels", {}).items() <= labels.items()
        assert annotations == {**source["metadata"].get("annotations", {}), **CHART_ANNOTATIONS}
        source = {**source, "metadata": {k: v for k, v in source["metadata"].items()
                                         if k not in {"labels", "annotations"}}}  # fmt: skip
        assert crd == source, f"{name} differs from crds/"


def test_crds_can_be_left_to_another_tool(helm: Helm) -> None:
    assert not find(helm.render(sets=("crds.install=false",)), "CustomResourceDefinition")


def test_cluster_role_rules_are_crds_operator_rbac(helm: Helm) -> None:
    """One list of permissions: the chart's ClusterRoles grant exactly what crds/operator-rbac.yaml grants."""
    source = {doc["metadata"]["name"]: doc["rules"] for doc in source_docs("operator-rbac.yaml")}
    rendered = {role["metadata"]["name"]: role["rules"] for sets in ((), ("watchNamespaces={market}",))
                for role in find(helm.render(sets=sets), "ClusterRole")}  # fmt: skip
    assert rendered == source


CLUSTER_SCOPED_RULES = {"namespaces", "customresourcedefinitions", "clusterkopfpeerings"}


@pytest.mark.parametrize(
    ("sets", "role_bindings", "cluster_bindings"),
    [
        pytest.param((), [], ["anthill-operator"], id="cluster-wide: one ClusterRoleBinding"),
        pytest.param(
            ("watchNamespaces={b,a}",),
            [("a", "anthill-operator"), ("b", "anthill-operator")],
            ["anthill-operator-discovery"],
            id="watched namespaces: a RoleBinding in each, only discovery cluster-wide",
        ),
        pytest.param(
            ("watchNamespaces={a}", "secretNamespaces={c}"),
            [("a", "anthill-operator")],
            ["anthill-operator-discovery"],
            id="secretNamespaces grant Secrets only, never the operator role",
        ),
    ],
)
def test_operator_role_is_bound_only_where_it_watches(
    helm: Helm, sets: tuple[str, ...], role_bindings: list[tuple[str, str]], cluster_bindings: list[str]
) -> None:
    """With watchNamespaces set, nothing outside them is reachable: the operator role goes through RoleBindings
    and the one ClusterRoleBinding left grants only the cluster-scoped reads kopf's discovery needs."""
    objects = helm.render(sets=sets)
    bound = [(b["metadata"]["namespace"], b["roleRef"]["name"]) for b in find(objects, "RoleBinding")
             if b["roleRef"]["name"] != "anthill-operator-secrets"]  # fmt: skip
    assert bound == role_bindings
    assert [b["roleRef"]["name"] for b in find(objects, "ClusterRoleBinding")] == cluster_bindings
    for binding in find(objects, "RoleBinding") + find(objects, "ClusterRoleBinding"):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "anthill-operator",
                                        "namespace": "anthill-system"}]  # fmt: skip
    if role_bindings:
        discovery = one(objects, "ClusterRole", "anthill-operator-discovery")["rules"]
        assert {r for rule in discovery for r in rule["resources"]} <= CLUSTER_SCOPED_RULES
        assert {v for rule in discovery for v in rule["verbs"]} == {"list", "watch"}


@pytest.mark.parametrize(
    ("sets", "namespaces"),
    [
        pytest.param((), [], id="cluster-wide watch and no namespace named: no Secrets at all"),
        pytest.param(("watchNamespaces={market}",), ["market"], id="the watched namespace"),
        pytest.param(("secretNamespaces={b,a}",), ["a", "b"], id="cluster-wide watch, Secrets where named"),
        pytest.param(
            ("watchNamespaces={a,b}", "secretNamespaces={b,c}"), ["a", "b", "c"], id="union, once each"
        ),
    ],
)
def test_secrets_are_readable_only_through_rolebindings_in_named_namespaces(
    helm: Helm, sets: tuple[str, ...], namespaces: list[str]
) -> None:
    objects = helm.render(sets=sets)
    bindings = [b for b in find(objects, "RoleBinding") if b["roleRef"]["name"] == "anthill-operator-secrets"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == namespaces
    for binding in bindings:
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                      "name": "anthill-operator-secrets"}  # fmt: skip
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "anthill-operator",
                                        "namespace": "anthill-system"}]  # fmt: skip
    secret_rules = [rule for role in find(objects, "ClusterRole") for rule in role["rules"]
                    if "secrets" in rule["resources"]]  # fmt: skip
    assert secret_rules == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]


@pytest.mark.parametrize("values", VALUES_FILES, ids=VALUES_IDS)
def test_pod_meets_the_restricted_profile_and_has_resources(helm: Helm, values: Path) -> None:
    spec = pod_spec(helm.render(values))
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is True, "the operator talks to the API server"
    assert not any(spec.get(host) for host in ("hostNetwork", "hostPID", "hostIPC"))
    for container in spec["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["runAsNonRoot"] is True
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert "memory" in container["resources"]["limits"]


def test_prod_runs_every_image_by_digest(helm: Helm) -> None:
    """A tag can be moved or overwritten in the registry; prod runs only the bytes that were promoted."""
    objects = helm.render(ENV_VALUES["prod"])
    digest = re.compile(r"@sha256:[0-9a-f]{64}$")
    for container in pod_spec(objects)["containers"]:
        assert digest.search(container["image"]), container["image"]
    assert digest.search(env_vars(objects)["ANTHILL_INGEST_IMAGE"])


def test_service_account_carries_the_irsa_role(helm: Helm, tmp_path: Path) -> None:
    objects = helm.render(ENV_VALUES["prod"], generated_chart_values("prod", tmp_path))
    account = one(objects, "ServiceAccount", "anthill-operator")
    role = sample_outputs("prod").platform["operator_role_arn"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role
    assert account["automountServiceAccountToken"] is False
    assert "annotations" not in one(helm.render(), "ServiceAccount")["metadata"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_ingest_service_account_in_each_feed_namespace_carries_the_ingest_role(
    helm: Helm, env: str, tmp_path: Path
) -> None:
    """The ServiceAccount the gitops feeds name: in `market`, with the role Terraform's eks module makes for
    ingest pods (its `ingest_role_arn`, through generated/anthill.yaml), and no token or permissions."""
    objects = helm.render(ENV_VALUES[env], generated_chart_values(env, tmp_path))
    account = one(objects, "ServiceAccount", "anthill-ingest")
    assert account["metadata"]["namespace"] == "market"
    role = sample_outputs(env).platform["ingest_role_arn"]["market"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role
    assert account["automountServiceAccountToken"] is False
    bound = [
        s for b in find(objects, "RoleBinding") + find(objects, "ClusterRoleBinding") for s in b["subjects"]
    ]
    assert all(subject["name"] != "anthill-ingest" for subject in bound)


def test_ingest_service_account_is_off_by_default_and_needs_feed_namespaces(helm: Helm) -> None:
    assert [a["metadata"]["name"] for a in find(helm.render(), "ServiceAccount")] == ["anthill-operator"]
    spread = helm.render(
        sets=("ingest.serviceAccount.create=true", "watchNamespaces={a}", "secretNamespaces={b,a}")
    )
    assert sorted(a["metadata"]["namespace"] for a in find(spread, "ServiceAccount", "anthill-ingest")) == [
        "a",
        "b",
    ]
    result = helm("template", "anthill", str(CHART), "--set", "ingest.serviceAccount.create=true")
    assert result.returncode != 0
    assert "needs the feeds' namespaces" in result.stderr


def test_spark_service_account_in_each_pipeline_namespace_carries_its_role(helm: Helm) -> None:
    """The ServiceAccount Kubernetes-runtime pipelines name in spec.runtime.kubernetes.serviceAccountName: in each
    watched namespace, with the IRSA role, and no token or permissions."""
    role = "arn:aws:iam::123456789012:role/anthill-dev-spark"
    objects = helm.render(sets=("spark.serviceAccount.create=true", f"spark.serviceAccount.roleArn={role}",
                                "watchNamespaces={a}", "secretNamespaces={b,a}"))  # fmt: skip
    accounts = find(objects, "ServiceAccount", "anthill-spark")
    assert sorted(a["metadata"]["namespace"] for a in accounts) == ["a", "b"]
    for account in accounts:
        assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role
        assert account["automountServiceAccountToken"] is False
    bound = [
        s for b in find(objects, "RoleBinding") + find(objects, "ClusterRoleBinding") for s in b["subjects"]
    ]
    assert all(subject["name"] != "anthill-spark" for subject in bound)


def test_spark_service_account_is_off_by_default_and_needs_pipeline_namespaces(helm: Helm) -> None:
    assert find(helm.render(), "ServiceAccount", "anthill-spark") == []
    unannotated = one(helm.render(sets=("spark.serviceAccount.create=true", "watchNamespaces={a}")),
                      "ServiceAccount", "anthill-spark")  # fmt: skip
    assert "annotations" not in unannotated["metadata"]
    result = helm("template", "anthill", str(CHART), "--set", "spark.serviceAccount.create=true")
    assert result.returncode != 0
    assert "needs the pipelines' namespaces" in result.stderr


@pytest.mark.parametrize(
    ("values", "replicas", "standalone"),
    [
        pytest.param(ENV_VALUES["dev"], 1, "true", id="dev: one standalone replica"),
        pytest.param(ENV_VALUES["staging"], 2, "false", id="staging: peered replicas"),
        pytest.param(ENV_VALUES["prod"], 2, "false", id="prod: peered replicas"),
    ],
)
def test_replicas_are_peering_aware_and_never_overlap(
    helm: Helm, values: Path, replicas: int, standalone: str
) -> None:
    objects = helm.render(values)
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == replicas
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}, "two versions must never act at once"
    assert env_vars(objects)["ANTHILL_STANDALONE"] == standalone
    assert bool(find(objects, "PodDisruptionBudget")) == (replicas > 1)


def test_operator_environment_is_the_operator_settings(helm: Helm) -> None:
    """Every ANTHILL_* variable the chart sets is a setting the operator reads, and parses as one."""
    variables = env_vars(helm.render(ENV_VALUES["staging"]))
    fields = {f"ANTHILL_{name.upper()}" for name in OperatorSettings.model_fields}
    assert variables.keys() <= fields
    settings = OperatorSettings.model_validate(
        {name.removeprefix("ANTHILL_").lower(): value for name, value in variables.items()}
    )
    assert settings.namespaces == ["market"]
    assert settings.standalone is False
    ports = {p["name"]: p["containerPort"] for p in pod_spec(helm.render())["containers"][0]["ports"]}
    assert ports == {"metrics": settings.metrics_port, "health": settings.health_port}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_each_environment_installs_the_wheel_deployed_to_its_own_volume(
    helm: Helm, env: str, tmp_path: Path
) -> None:
    """The operator reads the wheel volume Terraform made for the environment, and the wheels deployed there
    pass its allowlist (a deployed wheel outside it would leave every pipeline refused)."""
    variables = env_vars(helm.render(ENV_VALUES[env], generated_chart_values(env, tmp_path)))
    settings = OperatorSettings.model_validate(
        {name.removeprefix("ANTHILL_").lower(): value for name, value in variables.items()}
    )
    assert settings.wheel_volume == sample_outputs(env).innovation["wheel_volume_path"]
    deployed = (
        f"{settings.wheel_volume}/anthill_spark/0.1.0/0123456789abcdef/anthill_spark-0.1.0-py3-none-any.whl"
    )
    assert wheel_refusal(deployed, settings.allowed_wheels) is None


def test_service_monitor_scrapes_the_metrics_service(helm: Helm) -> None:
    """The ServiceMonitor CRD is not in the test control plane, so this scenario is checked rendered only."""
    objects = helm.render(CHART / "ci" / "servicemonitor-values.yaml")
    monitor = one(objects, "ServiceMonitor")
    service = one(objects, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["anthill-system"]}
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == [p["name"] for p in service["spec"]["ports"]]
    assert not find(helm.render(), "ServiceMonitor"), "off by default"


def test_network_policy_admits_only_scrapes_and_allows_dns_and_the_api_server(helm: Helm) -> None:
    policy = one(helm.render(CHART / "ci" / "cluster-wide-values.yaml"), "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    [ingress] = policy["spec"]["ingress"]
    assert ingress["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert ingress["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    egress_ports = [(p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule["ports"]]
    assert egress_ports[:4] == [(53, "UDP"), (53, "TCP"), (443, "TCP"), (6443, "TCP")]


def test_image_digest_wins_over_the_tag(helm: Helm) -> None:
    image = pod_spec(helm.render(CHART / "ci" / "cluster-wide-values.yaml"))["containers"][0]["image"]
    assert image == "ghcr.io/anthill-platform/anthill-operator@sha256:" + "0" * 64
    assert pod_spec(helm.render())["containers"][0]["image"].endswith(":0.1.0")


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(("unknown=1",), "additional properties 'unknown' not allowed", id="unknown key"),
        pytest.param(
            ("peering.enabled=false", "replicaCount=2"),
            "maximum: got 2, want 1",
            id="replicas without peering would all act",
        ),
        pytest.param(("logFormat=xml",), "logFormat", id="log format the operator does not know"),
        pytest.param(("watchNamespaces={Market}",), "watchNamespaces", id="not a namespace name"),
        pytest.param(("serviceAccount.roleArn=my-role",), "roleArn", id="not an IAM role ARN"),
        pytest.param(("ingest.serviceAccount.name=Ingest",), "name", id="not a ServiceAccount name"),
        pytest.param(("spark.serviceAccount.roleArn=my-role",), "roleArn", id="spark: not an IAM role ARN"),
        pytest.param(("image.digest=latest",), "digest", id="not a digest"),
        pytest.param(
            ("networkPolicy.extra=true",), "additional properties 'extra'", id="closed nested objects"
        ),
    ],
)
def test_schema_rejects_bad_values(helm: Helm, sets: tuple[str, ...], message: str) -> None:
    args = ["template", "anthill", str(CHART), "--kube-version", KUBE_VERSION]
    for item in sets:
        args += ["--set", item]
    result = helm(*args)
    assert result.returncode != 0
    assert message in result.stderr


def _objects_in(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found = [schema] if "properties" in schema else []
    for value in schema.get("properties", {}).values():
        found += _objects_in(value)
    return found


def test_values_schema_is_draft_07_and_closed() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    for obj in _objects_in(schema):
        assert obj.get("additionalProperties") is False, obj.get("description")
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values.keys() <= schema["properties"].keys()


@pytest.mark.parametrize(
    ("values", "loopback"),
    [
        pytest.param(ENV_VALUES["dev"], "false", id="dev"),
        pytest.param(ENV_VALUES["staging"], "false", id="staging"),
        pytest.param(ENV_VALUES["prod"], "false", id="prod"),
    ],
)
def test_connection_hosts_are_the_databricks_clouds_and_never_loopback_in_a_cluster(
    helm: Helm, values: Path, loopback: str
) -> None:
    variables = env_vars(helm.render(values))
    hosts = ".cloud.databricks.com,.azuredatabricks.net,.gcp.databricks.com"
    assert variables["ANTHILL_DATABRICKS_HOSTS"] == hosts
    assert variables["ANTHILL_ALLOW_LOOPBACK_HOSTS"] == loopback


@pytest.mark.parametrize("workload", ["ingest", "spark"])
def test_a_namespaces_own_role_overrides_the_shared_one(helm: Helm, workload: str) -> None:
    """Terraform makes one role per tenant namespace (`roleArns`); a namespace without one keeps `roleArn`."""
    own, shared = "arn:aws:iam::123456789012:role/own-a", "arn:aws:iam::123456789012:role/shared"
    objects = helm.render(sets=(f"{workload}.serviceAccount.create=true", "watchNamespaces={a,b}",
                                f"{workload}.serviceAccount.roleArns.a={own}",
                                f"{workload}.serviceAccount.roleArn={shared}"))  # fmt: skip
    roles = {a["metadata"]["namespace"]: a["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
             for a in find(objects, "ServiceAccount", f"anthill-{workload}")}  # fmt: skip
    assert roles == {"a": own, "b": shared}
