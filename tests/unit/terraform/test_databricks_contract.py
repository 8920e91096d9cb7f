"""What Terraform sets up for Databricks agrees with the operator (one runtime, one access mode, the policy id
that reaches the chart) and with the provider's documented patterns and the governance the platform promises:
Unity Catalog's trust and waits, isolated catalogs, read-only prod for humans, storage that never overlaps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill.settings import OperatorSettings
from anthill_api.runtime import DATABRICKS_RUNTIME
from tests.unit.terraform.hcl import (
    ENVIRONMENTS,
    MODULES,
    REPO,
    STACKS,
    blocks,
    data_sources,
    locals_of,
    module_dirs,
    render,
    resources,
)


def _policy_definition() -> str:
    [body] = [body for kind, name, body in resources(MODULES / "databricks-unity-catalog")
              if (kind, name) == ("databricks_cluster_policy", "jobs")]  # fmt: skip
    definition: str = body["definition"]
    return definition


def test_the_stacks_runtime_default_is_the_one_the_wheel_targets() -> None:
    variables = {label: body for _, label, body in blocks(STACKS / "innovation", "variable")}
    assert variables["spark_version"]["default"] == DATABRICKS_RUNTIME
    for environment in sorted(path.name for path in ENVIRONMENTS.iterdir()):
        text = "".join(path.read_text() for path in (ENVIRONMENTS / environment / "innovation").glob("*.tf"))
        assert "spark_version" not in text, f"{environment} overrides the pinned runtime"


def test_the_policy_fixes_the_runtime_and_access_mode_the_operator_sets() -> None:
    definition = _policy_definition()
    assert '"spark_version"' in definition
    assert "var.cluster_policy.spark_version" in definition
    assert '"data_security_mode"' in definition
    assert 'value = "SINGLE_USER"' in definition
    default_mode = OperatorSettings.model_fields["data_security_mode"].default
    assert default_mode == "SINGLE_USER"
    assert yaml.safe_load((REPO / "charts/anthill/values.yaml").read_text())["databricks"][
        "dataSecurityMode"
    ] == (default_mode)


def test_the_policy_id_is_an_output_of_the_stack_for_the_chart() -> None:
    outputs = {label for _, label, _ in blocks(STACKS / "innovation", "output")}
    assert "job_cluster_policy_id" in outputs
    values = (REPO / "charts/anthill/values.yaml").read_text()
    assert "job_cluster_policy_id" in values, "the chart value says where its value comes from"


# ---------------------------------------------------------------------------------------------------------
# Unity Catalog storage: the provider's trust pattern, the waits, isolation, grants, no overlapping storage
# ---------------------------------------------------------------------------------------------------------

LAKE_ACCESS = MODULES / "databricks-lake-access"
UNITY_CATALOG = MODULES / "databricks-unity-catalog"
WORKSPACE = MODULES / "databricks-workspace"
HUMAN_WRITES = {
    "MODIFY",
    "CREATE_TABLE",
    "CREATE_VOLUME",
    "WRITE_VOLUME",
    "CREATE_FUNCTION",
    "ALL_PRIVILEGES",
}


def _resource(directory: Path, kind: str, name: str) -> dict[str, Any]:
    [body] = [body for k, n, body in resources(directory) if (k, n) == (kind, name)]
    return body


def _data(directory: Path, kind: str, name: str) -> dict[str, Any]:
    [body] = [body for k, n, body in data_sources(directory) if (k, n) == (kind, name)]
    return body


def test_the_unity_catalog_role_trusts_through_the_providers_policy_with_the_credentials_external_id() -> (
    None
):
    """AWS refuses a trust policy naming a role that does not exist yet, and the external id is the one
    Databricks generates per credential, not the account id: the provider's documented pattern."""
    role = _resource(LAKE_ACCESS, "aws_iam_role", "this")
    assert role["assume_role_policy"] == "${data.databricks_aws_unity_catalog_assume_role_policy.this.json}"
    trust = _data(LAKE_ACCESS, "databricks_aws_unity_catalog_assume_role_policy", "this")
    assert trust["external_id"] == "${databricks_storage_credential.this.aws_iam_role[0].external_id}"
    assert trust["role_name"] == "${local.role_name}"
    assert role["name"] == "${local.role_name}"


def test_the_storage_credential_names_the_role_by_a_built_arn_so_there_is_no_cycle() -> None:
    credential = _resource(LAKE_ACCESS, "databricks_storage_credential", "this")
    [aws_iam_role] = credential["aws_iam_role"]
    assert aws_iam_role["role_arn"] == "${local.role_arn}"
    built = locals_of(LAKE_ACCESS)["role_arn"]
    assert "aws_iam_role." not in built
    assert render(built, {"local.role_name": "anthill-dev-unity-catalog"}).endswith(
        ":role/anthill-dev-unity-catalog"
    )


def test_no_trust_policy_names_a_role_as_its_principal() -> None:
    """A role principal in a trust policy must exist when the policy is written; self-assume goes through
    the account root and `aws:PrincipalArn`, as the provider's policy does."""
    for directory in [*module_dirs()]:
        for kind, name, body in data_sources(directory):
            if kind != "aws_iam_policy_document":
                continue
            for statement in body.get("statement", []):
                if "sts:AssumeRole" not in statement.get("actions", []):
                    continue
                for principal in statement.get("principals", []):
                    identifiers = principal["identifiers"]
                    assert ":role/" not in str(identifiers), f"{directory.name}: {name} trusts a role by ARN"
                    assert "local.unity_catalog_role_arn" not in str(identifiers)


def test_external_locations_wait_for_the_role_and_the_credentials_for_the_cross_account_role() -> None:
    """Databricks validates both by assuming the role at once; the provider's guides wait after IAM."""
    wait = _resource(LAKE_ACCESS, "time_sleep", "wait_for_role")
    assert wait["triggers"]["role_arn"] == "${aws_iam_role.this.arn}"
    for kind, _, body in resources(LAKE_ACCESS):
        if kind == "databricks_external_location":
            assert "${time_sleep.wait_for_role}" in body["depends_on"]
    credentials = _resource(WORKSPACE, "databricks_mws_credentials", "this")
    assert credentials["role_arn"] == '${time_sleep.wait_for_cross_account_role.triggers["role_arn"]}'
    cross_account_wait = _resource(WORKSPACE, "time_sleep", "wait_for_cross_account_role")
    assert cross_account_wait["triggers"]["role_arn"] == "${aws_iam_role.cross_account.arn}"
    workspace = _resource(WORKSPACE, "databricks_mws_workspaces", "this")
    assert "${aws_s3_bucket_policy.root}" in workspace["depends_on"]


def test_the_platform_owns_the_metastore_assignment_credential_locations_and_workspace_access() -> None:
    """The split the innovation stack's least privilege needs: it only builds on them."""
    platform = {kind for directory in (WORKSPACE, LAKE_ACCESS) for kind, _, _ in resources(directory)}
    assert {
        "databricks_metastore_assignment",
        "databricks_storage_credential",
        "databricks_external_location",
        "databricks_mws_permission_assignment",
        "databricks_budget",
    } <= platform
    innovation = {kind for kind, _, _ in resources(UNITY_CATALOG)}
    assert not innovation & {
        "databricks_metastore_assignment",
        "databricks_storage_credential",
        "databricks_external_location",
        "databricks_mws_permission_assignment",
    }
    [call] = [
        body for _, label, body in blocks(STACKS / "platform", "module") if label == "databricks_workspace"
    ]
    assert call["admin_service_principals"] == ["${var.innovation_service_principal}"]
    assert call["user_groups"] == ["${var.engineers_group}", "${var.analysts_group}"]


def test_the_catalog_is_isolated_and_bound_to_its_environments_workspace() -> None:
    catalog = _resource(UNITY_CATALOG, "databricks_catalog", "this")
    assert catalog["isolation_mode"] == "ISOLATED"
    binding = _resource(UNITY_CATALOG, "databricks_workspace_binding", "catalog")
    assert binding["securable_name"] == "${databricks_catalog.this.name}"
    assert binding["workspace_id"] == "${var.workspace_id}"
    [call] = [body for _, label, body in blocks(STACKS / "innovation", "module") if label == "unity_catalog"]
    assert call["workspace_id"] == "${var.platform.databricks_workspace_id}"
    for kind, _, body in resources(LAKE_ACCESS):
        if kind in ("databricks_storage_credential", "databricks_external_location"):
            assert body["isolation_mode"] == "ISOLATION_MODE_ISOLATED"


def _human_privileges(human_write_access: bool) -> dict[str, set[str]]:
    """Privileges of the engineers' and analysts' groups on any schema, for one value of human_write_access."""
    values = locals_of(UNITY_CATALOG)
    lists = {"read": set(values["read"]), "write": set(values["write"])}
    chosen = re.fullmatch(
        r"\$\{var\.human_write_access \? local\.(\w+) : local\.(\w+)\}", values["human_write"]
    )
    assert chosen, values["human_write"]
    lists["human_write"] = lists[chosen.group(1) if human_write_access else chosen.group(2)]
    held: dict[str, set[str]] = {"engineers_group": set(), "analysts_group": set()}
    for grants in values["schema_grants"].values():
        for group, local in re.findall(r"principal = var\.(\w+_group), privileges = local\.(\w+)", grants):
            held[group] |= lists[local]
    return held


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_humans_are_read_only_in_prod(environment: str) -> None:
    """In prod no human group holds MODIFY or a create privilege on any schema or the lake's files."""
    [call] = [body for _, label, body in blocks(ENVIRONMENTS / environment / "innovation", "module")]
    human_write_access = call["human_write_access"]
    assert human_write_access is (environment != "prod")
    held = _human_privileges(human_write_access)
    assert held["analysts_group"] & HUMAN_WRITES == set()
    if environment == "prod":
        assert held["engineers_group"] & HUMAN_WRITES == set()
    else:
        assert "MODIFY" in held["engineers_group"]
    files = locals_of(UNITY_CATALOG)["location_privileges"]
    assert re.search(r'var\.human_write_access \? \[[^]]*\] : \["READ_FILES"\]', files), files


def test_no_external_location_for_files_overlaps_the_managed_storage() -> None:
    """Unity Catalog refuses, or silently mixes, managed tables under a files location: the catalog's
    storage root is in a bucket no files location covers."""
    lake = {"var.name": "anthill-dev"}
    [data_lake] = [
        body for k, n, body in resources(MODULES / "data-lake") if (k, n) == ("aws_s3_bucket", "this")
    ]
    buckets = locals_of(MODULES / "data-lake")["buckets"]
    assert data_lake["bucket"] == "${each.value.name}"
    names = {key: render(spec["name"], lake) for key, spec in buckets.items()}
    assert names == {"lake": "anthill-dev-lake", "catalog": "anthill-dev-catalog"}
    [call] = [
        body for _, label, body in blocks(STACKS / "platform", "module") if label == "databricks_lake_access"
    ]
    assert call["lake"]["bucket_name"] == "${module.data_lake.lake_bucket_name}"
    assert call["managed_storage"]["bucket_name"] == "${module.data_lake.catalog_bucket_name}"
    values = locals_of(LAKE_ACCESS)
    bucket_of = {"var.lake.bucket_name": names["lake"], "var.managed_storage.bucket_name": names["catalog"]}
    managed = render(values["managed_storage_root"], bucket_of)
    files = [render(values["lake_locations"], {**bucket_of, "ns": ns}) for ns in ("market", "fx")]
    for location in files:
        url = re.search(r'"(s3://[^"]+)"', location)
        assert url
        assert not (url.group(1) + "/").startswith(managed + "/")
        assert not (managed + "/").startswith(url.group(1) + "/")
    catalog = _resource(UNITY_CATALOG, "databricks_catalog", "this")
    assert catalog["storage_root"].startswith("${trimsuffix(var.managed_storage_root")
    for kind, name, body in resources(UNITY_CATALOG):
        if kind == "databricks_schema":
            assert "storage_root" not in body, f"{name} would leave the catalog's managed storage"


def test_the_bi_warehouse_is_serverless_stops_when_idle_and_analysts_use_it() -> None:
    warehouse = _resource(UNITY_CATALOG, "databricks_sql_endpoint", "bi")
    assert warehouse["enable_serverless_compute"] is True
    assert warehouse["warehouse_type"] == "PRO"
    assert warehouse["auto_stop_mins"] == "${var.sql_warehouse.auto_stop_mins}"
    permissions = _resource(UNITY_CATALOG, "databricks_permissions", "bi_warehouse")
    assert {"group_name": "${var.analysts_group}", "permission_level": "CAN_USE"} in permissions[
        "access_control"
    ]


def test_the_gold_share_exists_only_with_a_recipient() -> None:
    variables = {label: body for _, label, body in blocks(UNITY_CATALOG, "variable")}
    assert variables["share_recipient"]["default"] is None
    stack = {label: body for _, label, body in blocks(STACKS / "innovation", "variable")}
    assert stack["share_recipient"]["default"] is None
    for kind, name in [
        ("databricks_share", "gold"),
        ("databricks_recipient", "this"),
        ("databricks_grant", "share"),
    ]:
        assert _resource(UNITY_CATALOG, kind, name)["count"] == "${var.share_recipient == null ? 0 : 1}"
    [shared] = _resource(UNITY_CATALOG, "databricks_share", "gold")["object"]
    assert (shared["name"], shared["data_object_type"]) == ('${databricks_schema.layer["gold"].id}', "SCHEMA")
