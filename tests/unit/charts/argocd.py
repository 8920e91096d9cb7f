"""What Argo CD deploys in an environment: the bootstrap chart's Application, and both charts rendered with
the values files it names (the generated ones written from Terraform-shaped outputs)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from anthill_devkit import gitops
from tests.helpers import REPO
from tests.unit.charts.helm import CHART, KUBE_VERSION, Helm

GITOPS = REPO / "gitops"
BOOTSTRAP = GITOPS / "bootstrap"
MARKET_CHART = GITOPS / "market"
ARGOCD_VALUES = GITOPS / "argocd" / "argocd-values.yaml"
ENVS = ("dev", "staging", "prod")
# The only Argo CD template construct the ApplicationSet uses: the generated cluster's name.
CLUSTER_NAME = re.compile(r"\{\{\s*\.name\s*\}\}")

Object = dict[str, Any]


def docs(text: str) -> list[Object]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def bootstrap(helm: Helm, env: str, *sets: str) -> list[Object]:
    """gitops/bootstrap rendered as Terraform's platform-bootstrap module installs it for ``env``."""
    args = ["template", "anthill-gitops", str(BOOTSTRAP), "-n", "argocd", "--kube-version", KUBE_VERSION]
    for item in ("environment=" + env, *sets):
        args += ["--set", item]
    return docs(helm.ok(*args))


def application(helm: Helm, env: str, *sets: str) -> Object:
    """The Application the environment's ApplicationSet generates from its cluster registration."""
    objects = bootstrap(helm, env, *sets)
    [appset] = [d for d in objects if d["kind"] == "ApplicationSet"]
    [cluster] = [d for d in objects if d["kind"] == "Secret"]
    selector = appset["spec"]["generators"][0]["clusters"]["selector"]["matchLabels"]
    assert selector.items() <= cluster["metadata"]["labels"].items(), (
        selector,
        cluster["metadata"]["labels"],
    )
    text = CLUSTER_NAME.sub(cluster["stringData"]["name"], yaml.safe_dump(appset["spec"]["template"]))
    assert "{{" not in text, f"template construct this test does not understand: {text}"
    app: Object = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **yaml.safe_load(text)}
    return app


def value_files(app: Object, path: str) -> list[Path]:
    """The values files the Application gives the chart at ``path``, resolved in this checkout."""
    refs = {s["ref"] for s in app["spec"]["sources"] if "ref" in s}
    [source] = [s for s in app["spec"]["sources"] if s.get("path") == path]
    files = []
    for name in source["helm"]["valueFiles"]:
        ref, _, rest = name.partition("/")
        if ref.startswith("$"):
            assert ref[1:] in refs, name
            files.append(REPO / rest)
        else:
            files.append(REPO / path / name)
    return files


def sample_outputs(env: str) -> gitops.Outputs:
    """Outputs as the roots would print them, with values recognisable wherever they end up."""
    account = "000000000000"
    platform = {
        "operator_role_arn": f"arn:aws:iam::{account}:role/tf-{env}-operator",
        "ingest_role_arn": {"market": f"arn:aws:iam::{account}:role/tf-{env}-ingest-market"},
        "spark_role_arn": {"market": f"arn:aws:iam::{account}:role/tf-{env}-spark-market"},
        "aws_region": "tf-region-1",
        "lake_uri": f"s3://tf-{env}-lake",
        "tenant_namespaces": ["market"],
        "databricks_workspace_url": f"https://tf-{env}.cloud.databricks.com",
    }
    innovation = {
        "catalog_name": f"tf_{env}",
        "wheel_volume_path": f"/Volumes/tf_{env}/artifacts/wheels",
        "job_cluster_policy_id": f"TFPOLICY{env.upper()}",
        "sql_warehouse_id": f"tfwarehouse{env}",
    }
    return gitops.Outputs(env, platform, innovation)


def generated_chart_values(env: str, directory: Path) -> Path:
    """``generated/anthill.yaml`` as the generator writes it from ``sample_outputs(env)``, in ``directory``."""
    path = directory / f"generated-{env}-anthill.yaml"
    path.write_text(yaml.safe_dump(gitops.chart_values(sample_outputs(env))))
    return path


@dataclass(frozen=True)
class Deployed:
    env: str
    outputs: gitops.Outputs
    app: Object
    chart_files: list[Path]
    market_files: list[Path]
    chart: list[Object]
    market: list[Object]

    def kind(self, kind: str) -> list[Object]:
        return [o for o in self.chart + self.market if o["kind"] == kind]


def deploy(helm: Helm, env: str, scratch: Path) -> Deployed:
    """Both charts rendered as the Application would, the generated files written from ``sample_outputs``."""
    outputs = sample_outputs(env)
    app = application(helm, env)
    generated = {"anthill.yaml": gitops.chart_values(outputs), "market.yaml": gitops.market_values(outputs)}
    chart_files, market_files = value_files(app, "charts/anthill"), value_files(app, "gitops/market")

    def resolve(files: list[Path]) -> list[Path]:
        resolved = []
        for path in files:
            if "generated" in path.parts:
                written = scratch / path.name
                written.write_text(yaml.safe_dump(generated[path.name]))
                resolved.append(written)
            else:
                resolved.append(path)
        return resolved

    namespace = app["spec"]["destination"]["namespace"]
    return Deployed(
        env, outputs, app, chart_files, market_files,
        chart=render(helm, CHART, resolve(chart_files), namespace),
        market=render(helm, MARKET_CHART, resolve(market_files), namespace),
    )  # fmt: skip


def render(helm: Helm, chart: Path, files: list[Path], namespace: str, *sets: str) -> list[Object]:
    args = ["template", "anthill", str(chart), "-n", namespace, "--kube-version", KUBE_VERSION]
    for path in files:
        args += ["-f", str(path)]
    for item in sets:
        args += ["--set", item]
    return docs(helm.ok(*args))
