"""Conventions of terraform/ that tofu, tflint and checkov do not check: layout, wiring, pins, tags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.terraform.hcl import (
    ENVIRONMENTS,
    MODULES,
    STACKS,
    TERRAFORM,
    all_config_dirs,
    blocks,
    hard_coded_locations,
    local_source,
    locals_of,
    module_dirs,
    required_providers,
    resources,
    roots,
    stack_dirs,
    terraform_block,
)

MODULE_FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"}
ENVIRONMENT_NAMES = ["dev", "staging", "prod"]
# What each stack composition (terraform/stacks/<stack>) calls from terraform/modules.
STACK_MODULES = {
    "platform": {
        "networking",
        "eks",
        "data-lake",
        "databricks-workspace",
        "databricks-lake-access",
        "monitoring",
        "container-logs",
        "platform-bootstrap",
    },
    "innovation": {"databricks-unity-catalog"},
}
TAG_KEYS = {"Project", "Environment", "Stack", "Owner", "ManagedBy"}
EXACT_VERSION = re.compile(r"^= ?[0-9]+\.[0-9]+\.[0-9]+$")
# AWS resources the provider gives no `tags` argument; every other aws_* resource in a module must be tagged.
UNTAGGABLE = {
    "aws_route",
    "aws_route_table_association",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_kms_alias",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_cloudwatch_log_metric_filter",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_logging",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_policy",
}

MODULES_BY_NAME = {path.name: path for path in module_dirs()}
STACKS_BY_NAME = {path.name: path for path in stack_dirs()}
# Every reusable module: the building blocks and the stack compositions made of them.
REUSABLE = {
    **{f"modules/{name}": path for name, path in MODULES_BY_NAME.items()},
    **{f"stacks/{name}": path for name, path in STACKS_BY_NAME.items()},
}
ROOTS = {root.id: root for root in roots()}
VARIABLES = [
    pytest.param(path, label, body, id=f"{path.relative_to(TERRAFORM)}:{label}")
    for directory in all_config_dirs()
    for path, label, body in blocks(directory, "variable")
]
OUTPUTS = [
    pytest.param(path, label, body, id=f"{path.relative_to(TERRAFORM)}:{label}")
    for directory in all_config_dirs()
    for path, label, body in blocks(directory, "output")
]


def _called_modules(directory: Path, under: Path) -> dict[str, str]:
    """Label -> directory name of every local module a directory calls; each must live in ``under``."""
    called = {}
    for _, label, body in blocks(directory, "module"):
        target = local_source(directory, body["source"])
        if target is not None:
            assert target.parent == under.resolve(), f"{directory}: {body['source']} is not under {under}"
            called[label] = target.name
    return called


def _stack_call(environment: str, stack: str) -> dict[str, object]:
    """The one module block of a root: its call of terraform/stacks/<stack>."""
    [(_, label, body)] = blocks(ENVIRONMENTS / environment / stack, "module")
    assert label == stack
    return body


def _variables(directory: Path) -> dict[str, dict[str, object]]:
    return {label: body for _, label, body in blocks(directory, "variable")}


def _outputs(directory: Path) -> set[str]:
    return {label for _, label, _ in blocks(directory, "output")}


def test_the_layout_has_every_environment_and_stack() -> None:
    assert sorted(ROOTS) == sorted(f"{env}/{name}" for env in ENVIRONMENT_NAMES for name in STACK_MODULES)
    assert set(STACKS_BY_NAME) == set(STACK_MODULES)
    assert set(MODULES_BY_NAME) == set().union(*STACK_MODULES.values())


@pytest.mark.parametrize("module", sorted(REUSABLE))
def test_module_has_the_standard_files(module: str) -> None:
    present = {path.name for path in REUSABLE[module].iterdir()}
    assert present >= MODULE_FILES, f"missing: {MODULE_FILES - present}"
    assert blocks(REUSABLE[module], "output"), "a module exposes at least one output"


@pytest.mark.parametrize("module", sorted(REUSABLE))
def test_module_readme_documents_every_input_and_output(module: str) -> None:
    readme = (REUSABLE[module] / "README.md").read_text()
    for kind in ("variable", "output"):
        for _, label, _ in blocks(REUSABLE[module], kind):
            assert f"| `{label}` |" in readme, f"{kind} {label} is missing from README.md"


@pytest.mark.parametrize(("path", "label", "body"), VARIABLES)
def test_every_variable_is_typed_and_described(path: Path, label: str, body: dict[str, object]) -> None:
    assert path.name == "variables.tf", "variables live in variables.tf"
    assert str(body.get("description", "")).strip(), "no description"
    assert "type" in body, "no type"
    assert not re.search(r"\bany\b", str(body["type"])), "`any` hides the contract; spell the type out"


@pytest.mark.parametrize(("path", "label", "body"), OUTPUTS)
def test_every_output_is_described(path: Path, label: str, body: dict[str, object]) -> None:
    assert path.name == "outputs.tf", "outputs live in outputs.tf"
    assert str(body.get("description", "")).strip(), "no description"


@pytest.mark.parametrize(
    ("path", "label", "body"), [p for p in OUTPUTS if {MODULES, STACKS} & set(p.values[0].parents)]
)
def test_module_outputs_never_fail(path: Path, label: str, body: dict[str, object]) -> None:
    """A module output reading a single resource goes through try(), as terraform-aws-modules do."""
    value = str(body["value"])
    direct = re.fullmatch(r"\$\{(?:aws|databricks|helm)_\w+\.\w+(?:\[\d+\])?\.\w+\}", value)
    assert direct is None, f"wrap {value} in try(..., null)"


@pytest.mark.parametrize("stack", sorted(STACK_MODULES))
def test_stack_wires_the_modules_of_its_kind(stack: str) -> None:
    assert set(_called_modules(STACKS_BY_NAME[stack], MODULES).values()) == STACK_MODULES[stack]


@pytest.mark.parametrize("root_id", sorted(ROOTS))
def test_root_calls_its_stack_and_nothing_else(root_id: str) -> None:
    """A root is configuration (backend, providers, values): the composition is the stack's, written once."""
    root = ROOTS[root_id]
    assert _called_modules(root.path, STACKS) == {root.name: root.name}
    assert resources(root.path) == [], "resources belong in a module, not in one environment's root"
    data = {kind for _, kind, _ in blocks(root.path, "data")}
    assert data <= {"terraform_remote_state"}, "a root only reads the state of another stack"


@pytest.mark.parametrize("root_id", sorted(ROOTS))
def test_root_passes_every_required_stack_input(root_id: str) -> None:
    root = ROOTS[root_id]
    call = _stack_call(root.environment, root.name)
    inputs = _variables(STACKS_BY_NAME[root.name])
    required = {name for name, body in inputs.items() if "default" not in body}
    arguments = set(call) - {"source", "providers", "depends_on"}
    assert required <= arguments, f"missing: {required - arguments}"
    assert arguments <= set(inputs), f"not inputs of stacks/{root.name}: {arguments - set(inputs)}"
    assert call["environment"] == "${local.environment}"


@pytest.mark.parametrize("root_id", sorted(ROOTS))
def test_root_re_exports_the_stack_outputs(root_id: str) -> None:
    """One output per root, the stack module's whole output object: nothing to copy when the stack grows one."""
    root = ROOTS[root_id]
    [(_, label, body)] = blocks(root.path, "output")
    assert (label, body["value"]) == (root.name, f"${{module.{root.name}}}")


@pytest.mark.parametrize("root_id", sorted(ROOTS))
def test_root_state_is_in_s3_with_native_locking(root_id: str) -> None:
    root = ROOTS[root_id]
    [backend] = terraform_block(root.path)["backend"]
    assert list(backend) == ["s3"]
    settings = backend["s3"]
    assert settings["use_lockfile"] is True
    assert settings["encrypt"] is True
    assert "dynamodb_table" not in settings, "native S3 locking replaces the DynamoDB table"
    assert settings["bucket"] == f"anthill-terraform-state-{root.environment}"
    assert settings["key"] == f"{root.name}/terraform.tfstate"


@pytest.mark.parametrize("root_id", sorted(ROOTS))
def test_root_pins_providers_exactly(root_id: str) -> None:
    providers = required_providers(ROOTS[root_id].path)
    assert providers
    for name, spec in providers.items():
        assert EXACT_VERSION.match(spec["version"]), f"{name}: {spec['version']} is not an exact pin"


def test_every_root_pins_the_same_provider_versions() -> None:
    """Promotion dev -> staging -> prod moves code, not provider versions."""
    pins: dict[str, set[str]] = {}
    for root in ROOTS.values():
        for spec in required_providers(root.path).values():
            pins.setdefault(spec["source"], set()).add(spec["version"])
        pins.setdefault("terraform", set()).add(terraform_block(root.path)["required_version"])
    assert {source: len(versions) for source, versions in pins.items()} == dict.fromkeys(pins, 1)


@pytest.mark.parametrize("module", sorted(REUSABLE))
def test_modules_set_lower_bounds_and_leave_pins_to_roots(module: str) -> None:
    providers = required_providers(REUSABLE[module])
    assert providers
    for name, spec in providers.items():
        assert spec["version"].startswith(">="), f"{name}: modules state a minimum, roots pin"
    assert terraform_block(REUSABLE[module])["required_version"].startswith(">=")
    assert "backend" not in terraform_block(REUSABLE[module]), "state is the roots' business"
    assert not blocks(REUSABLE[module], "provider"), "provider configurations belong in the roots"


@pytest.mark.parametrize("directory", [*REUSABLE.values(), *(r.path for r in roots())], ids=str)
def test_registry_modules_are_pinned_to_a_version(directory: Path) -> None:
    for _, label, body in blocks(directory, "module"):
        if not body["source"].startswith("."):
            assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", body.get("version", "")), label


@pytest.mark.parametrize("module", sorted(REUSABLE))
def test_modules_hold_no_account_ids_or_regions(module: str) -> None:
    for path in sorted(REUSABLE[module].glob("*.tf")):
        assert hard_coded_locations(path.read_text()) == [], path.name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('account = "123456789012"', ["123456789012"], id="account id"),
        pytest.param('arn = "arn:aws:iam::123456789012:root"', ["123456789012"], id="account id in an ARN"),
        pytest.param('region = "eu-central-1"', ["eu-central-1"], id="region"),
        pytest.param('region = "us-gov-west-1"', ["us-gov-west-1"], id="GovCloud region"),
        pytest.param('zones = ["use1-az1"]', ["use1-az1"], id="zone id"),
        pytest.param('service = "com.amazonaws.${data.aws_region.current.region}.s3"', [], id="looked up"),
        pytest.param('cidr = "10.0.0.0/16"\nport = 8443\nid = "1234567890123"', [], id="not 12 digits"),
    ],
)
def test_hard_coded_location_detector(text: str, expected: list[str]) -> None:
    """The detector behind the module check finds what it must and nothing else."""
    assert hard_coded_locations(text) == expected


@pytest.mark.parametrize(
    "module",
    sorted(
        name for name, path in REUSABLE.items() if any(k.startswith("aws_") for k, _, _ in resources(path))
    ),
)
def test_module_resources_are_tagged(module: str) -> None:
    directory = REUSABLE[module]
    taggable = [(kind, name, body) for kind, name, body in resources(directory) if kind.startswith("aws_")]
    assert "tags" in {label for _, label, _ in blocks(directory, "variable")}
    for kind, name, body in taggable:
        if kind not in UNTAGGABLE:
            assert "var.tags" in str(body.get("tags", "")), f"{kind}.{name} is not tagged with var.tags"


@pytest.mark.parametrize("stack", sorted(STACK_MODULES))
def test_stacks_pass_their_tags_to_every_module(stack: str) -> None:
    directory = STACKS_BY_NAME[stack]
    assert "tags" in _variables(directory)
    for label, module in _called_modules(directory, MODULES).items():
        [body] = [b for _, name, b in blocks(directory, "module") if name == label]
        if "tags" in _variables(MODULES_BY_NAME[module]):
            assert body.get("tags") == "${var.tags}", label


@pytest.mark.parametrize("root_id", sorted(ROOTS))
def test_roots_tag_everything(root_id: str) -> None:
    """AWS providers tag by default; the stack gets the same tags for its modules."""
    root = ROOTS[root_id]
    tags = locals_of(root.path)["tags"]
    assert set(tags) == TAG_KEYS
    assert tags["Stack"] == root.name
    assert locals_of(root.path)["environment"] == root.environment
    for _, label, body in blocks(root.path, "provider"):
        if label == "aws":
            assert body["default_tags"] == [{"tags": "${local.tags}"}]
    assert _stack_call(root.environment, root.name).get("tags") == "${local.tags}"


@pytest.mark.parametrize(
    ("environment", "one_nat"), [("dev", True), ("staging", True), ("prod", False)], ids=ENVIRONMENT_NAMES
)
def test_prod_has_a_nat_gateway_per_zone(environment: str, one_nat: bool) -> None:
    assert _stack_call(environment, "platform")["single_nat_gateway"] is one_nat


def test_the_platform_stack_takes_the_nat_choice_from_its_root() -> None:
    """No default to fall back on: each root says it, and networking gets exactly what it said."""
    platform = STACKS_BY_NAME["platform"]
    assert "default" not in _variables(platform)["single_nat_gateway"]
    [networking] = [b for _, label, b in blocks(platform, "module") if label == "networking"]
    assert networking["single_nat_gateway"] == "${var.single_nat_gateway}"


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_only_dev_buckets_can_be_destroyed_with_their_data(environment: str) -> None:
    assert _variables(STACKS_BY_NAME["platform"])["force_destroy"]["default"] is False
    assert _stack_call(environment, "platform").get("force_destroy", False) is False


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_innovation_reads_the_platform_state_of_its_own_environment(environment: str) -> None:
    platform_backend = terraform_block(ENVIRONMENTS / environment / "platform")["backend"][0]["s3"]
    [body] = [
        body
        for _, label, body in blocks(ENVIRONMENTS / environment / "innovation", "data")
        if label == "terraform_remote_state"
    ]
    config = body["platform"]["config"]
    assert (config["bucket"], config["key"], config["region"]) == (
        platform_backend["bucket"],
        platform_backend["key"],
        platform_backend["region"],
    )
    assert _stack_call(environment, "innovation")["platform"] == (
        "${data.terraform_remote_state.platform.outputs.platform}"
    )


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_innovation_reads_only_what_the_platform_stack_outputs(environment: str) -> None:
    """Every `outputs.platform.<name>` the innovation root reads, and every attribute the innovation stack
    takes from it, is an output of the platform stack (which its root re-exports as `platform`)."""
    platform_outputs = _outputs(STACKS_BY_NAME["platform"])
    root = ENVIRONMENTS / environment / "innovation"
    read = {
        name
        for path in sorted(root.glob("*.tf"))
        for name in re.findall(r"outputs\.platform\.(\w+)", path.read_text())
    }
    platform_type = str(_variables(STACKS_BY_NAME["innovation"])["platform"]["type"])
    taken = set(re.findall(r"(\w+)\s*=", platform_type))
    assert read
    assert taken
    assert (read | taken) <= platform_outputs, f"not platform outputs: {(read | taken) - platform_outputs}"


def test_every_checkov_skip_says_why() -> None:
    skips = [
        (path, line)
        for path in sorted(TERRAFORM.rglob("*.tf"))
        for line in path.read_text().splitlines()
        if "checkov:skip" in line
    ]
    assert skips, "the suite would pass vacuously without any skip to look at"
    for path, line in skips:
        assert re.search(r"#checkov:skip=CKV2?_[A-Z0-9]+_[0-9]+:\S.{15,}", line), f"{path}: {line.strip()}"


def test_outputs_the_bootstrap_docs_hand_on_exist() -> None:
    """docs/terraform.md tells operators which outputs go where; each must be a real output of that stack
    (every root re-exports its stack's outputs, test_root_re_exports_the_stack_outputs)."""
    docs = (TERRAFORM.parent / "docs" / "terraform.md").read_text()
    rows = re.findall(r"^\s*\| (`[a-z_]+`(?:, `[a-z_]+`)*) \| (platform|innovation) \|", docs, re.MULTILINE)
    assert len(rows) >= 6
    for names, stack in rows:
        outputs = _outputs(STACKS_BY_NAME[stack])
        for name in re.findall(r"`([a-z_]+)`", names):
            assert name in outputs, f"{name} is not an output of stacks/{stack}"


# The names other layers read (the GitOps contract, the chart's values, the innovation stack): exact.
PLATFORM_OUTPUTS = {
    "lake_uri",
    "lake_bucket_name",
    "tenant_namespaces",
    "operator_role_arn",
    "ingest_role_arn",
    "spark_role_arn",
    "databricks_workspace_url",
    "databricks_workspace_id",
    "aws_region",
    "cluster_name",
    "cluster_endpoint",
    "cluster_certificate_authority_data",
    "lake_kms_key_arn",
    "log_group_names",
    "alarm_topic_arn",
}
INNOVATION_OUTPUTS = {
    "catalog_name",
    "wheel_volume_path",
    "job_cluster_policy_id",
    "sql_warehouse_id",
    "job_service_principal_ids",
    "share_name",
}


@pytest.mark.parametrize(
    ("stack", "names"), [("platform", PLATFORM_OUTPUTS), ("innovation", INNOVATION_OUTPUTS)]
)
def test_stacks_output_what_the_other_layers_read(stack: str, names: set[str]) -> None:
    missing = names - _outputs(STACKS_BY_NAME[stack])
    assert not missing, f"stacks/{stack} lacks {missing}"


def test_the_lake_is_one_bucket_per_environment_with_a_prefix_per_tenant() -> None:
    """`s3://anthill-<env>-lake`, and a tenant namespace's lake under `<lake_uri>/<namespace>` (anthill_api.lake)."""
    buckets = locals_of(MODULES_BY_NAME["data-lake"])["buckets"]
    assert buckets["lake"]["name"] == "${var.name}-lake"
    [call] = [b for _, label, b in blocks(STACKS_BY_NAME["platform"], "module") if label == "data_lake"]
    assert call["name"] == "${local.name}"
    assert locals_of(STACKS_BY_NAME["platform"])["name"] == "anthill-${var.environment}"
    [lake_uri] = [b for _, label, b in blocks(MODULES_BY_NAME["data-lake"], "output") if label == "lake_uri"]
    assert lake_uri["value"] == '${try("s3://${aws_s3_bucket.this["lake"].id}", null)}'
    assert _variables(STACKS_BY_NAME["platform"])["tenant_namespaces"]["default"] == ["market"]


IRSA = {
    # role -> (its key in irsa_subjects, the namespaces it is for, the subject it trusts, ServiceAccount name
    # variable, its default)
    "operator": (
        "operator",
        None,
        "system:serviceaccount:${var.operator_service_account.namespace}:${var.operator_service_account.name}",
        "operator_service_account",
        None,
    ),
    "ingest": (
        "ingest-${each.value}",
        "${local.namespaces}",
        "system:serviceaccount:${ns}:${var.ingest_service_account}",
        "ingest_service_account",
        "anthill-ingest",
    ),
    "spark": (
        "spark-${each.value}",
        "${local.namespaces}",
        "system:serviceaccount:${ns}:${var.spark_service_account}",
        "spark_service_account",
        "anthill-spark",
    ),
}


@pytest.mark.parametrize("role", sorted(IRSA))
def test_every_irsa_role_trusts_exactly_its_service_account(role: str) -> None:
    """The web-identity `sub` of each role is `system:serviceaccount:<namespace>:<name>`, one per role and
    tenant namespace (the operator's in its own namespace), with the STS audience."""
    eks = MODULES_BY_NAME["eks"]
    key, for_each, subject, account, default = IRSA[role]
    [trust] = [
        b["irsa_assume"]
        for _, kind, b in blocks(eks, "data")
        if kind == "aws_iam_policy_document" and "irsa_assume" in b
    ]
    [body] = [b for k, n, b in resources(eks) if (k, n) == ("aws_iam_role", role)]
    assert body["assume_role_policy"] == f'${{data.aws_iam_policy_document.irsa_assume["{key}"].json}}'
    assert trust.get("for_each") == "${local.irsa_subjects}"
    assert body.get("for_each") == for_each
    [statement] = trust["statement"]
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {c["variable"].rsplit(":", 1)[1]: c for c in statement["condition"]}
    assert conditions["aud"]["values"] == ["sts.amazonaws.com"]
    assert conditions["sub"]["test"] == "StringEquals"
    assert conditions["sub"]["values"] == ["${each.value}"]
    subjects = locals_of(eks)["irsa_subjects"]
    variables = _variables(eks)
    if for_each is None:
        assert f'{key} = "{subject}"' in subjects
    else:
        assert f'for ns in local.namespaces : "{role}-${{ns}}" => "{subject}"' in subjects
        assert locals_of(eks)["namespaces"] == "${toset(var.tenant_namespaces)}"
        assert variables[account]["default"] == default
    [call] = [b for _, label, b in blocks(STACKS_BY_NAME["platform"], "module") if label == "eks"]
    assert call["tenant_namespaces"] == "${var.tenant_namespaces}"


@pytest.mark.parametrize(
    ("document", "prefixes"),
    [
        ("ingest", {"bronze", "_state", "_manifests", "_quarantine"}),
        ("spark", {"bronze", "silver", "gold"}),
    ],
)
def test_tenant_roles_reach_only_their_namespaces_prefixes(document: str, prefixes: set[str]) -> None:
    eks = MODULES_BY_NAME["eks"]
    [policy] = [
        b[document]
        for _, kind, b in blocks(eks, "data")
        if kind == "aws_iam_policy_document" and document in b
    ]
    values = locals_of(eks)
    for statement in policy["statement"]:
        resources_ = str(statement["resources"])
        if "kms" in " ".join(statement["actions"]):
            assert resources_ == "['${var.lake.kms_key_arn}']"
            continue
        if statement["actions"] == ["s3:ListBucket"]:
            assert resources_ == "['${local.bucket}']"
            assert "${each.value}/${" in str(statement["condition"])
            continue
        assert "${local.bucket}/${each.value}/${" in resources_, resources_
    listed = {name for key, names in values.items() if key.startswith(document) for name in names}
    assert listed == prefixes
    writes = [statement for statement in policy["statement"] if "s3:PutObject" in statement["actions"]]
    written = {
        name
        for statement in writes
        for key in re.findall(r"local\.(\w+)", str(statement["resources"]))
        if key != "bucket"
        for name in values[key]
    }
    assert written == (prefixes if document == "ingest" else {"silver", "gold"}), "Spark never writes bronze"
