"""Conventions of terraform/ that tofu, tflint and checkov do not check: layout, wiring, pins, tags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.terraform.hcl import (
    ENVIRONMENTS,
    MODULES,
    TERRAFORM,
    Stack,
    all_config_dirs,
    blocks,
    hard_coded_locations,
    locals_of,
    module_dirs,
    required_providers,
    resources,
    stacks,
    terraform_block,
)

MODULE_FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"}
ENVIRONMENT_NAMES = ["dev", "staging", "prod"]
STACK_MODULES = {
    "platform": {
        "networking",
        "eks",
        "data-lake",
        "databricks-workspace",
        "monitoring",
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
    "aws_kms_alias",
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
STACKS = {stack.id: stack for stack in stacks()}
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


def _module_name(stack: Stack, source: str) -> str | None:
    """The local module a stack's ``source`` points at, or None for a registry module."""
    if not source.startswith("."):
        return None
    target = (stack.path / source).resolve()
    assert target.parent == MODULES.resolve(), f"{stack.id}: {source} is not under terraform/modules"
    return target.name


def test_the_layout_has_every_environment_and_stack() -> None:
    assert sorted(STACKS) == sorted(f"{env}/{name}" for env in ENVIRONMENT_NAMES for name in STACK_MODULES)
    assert set(MODULES_BY_NAME) == set().union(*STACK_MODULES.values())


@pytest.mark.parametrize("module", sorted(MODULES_BY_NAME))
def test_module_has_the_standard_files(module: str) -> None:
    present = {path.name for path in MODULES_BY_NAME[module].iterdir()}
    assert present >= MODULE_FILES, f"missing: {MODULE_FILES - present}"
    assert blocks(MODULES_BY_NAME[module], "output"), "a module exposes at least one output"


@pytest.mark.parametrize("module", sorted(MODULES_BY_NAME))
def test_module_readme_documents_every_input_and_output(module: str) -> None:
    readme = (MODULES_BY_NAME[module] / "README.md").read_text()
    for kind in ("variable", "output"):
        for _, label, _ in blocks(MODULES_BY_NAME[module], kind):
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


@pytest.mark.parametrize(("path", "label", "body"), [p for p in OUTPUTS if MODULES in p.values[0].parents])
def test_module_outputs_never_fail(path: Path, label: str, body: dict[str, object]) -> None:
    """A module output reading a single resource goes through try(), as terraform-aws-modules do."""
    value = str(body["value"])
    direct = re.fullmatch(r"\$\{(?:aws|databricks|helm)_\w+\.\w+(?:\[\d+\])?\.\w+\}", value)
    assert direct is None, f"wrap {value} in try(..., null)"


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_stack_wires_the_modules_of_its_kind(stack_id: str) -> None:
    stack = STACKS[stack_id]
    wired = {_module_name(stack, body["source"]) for _, _, body in blocks(stack.path, "module")}
    assert wired == STACK_MODULES[stack.name]


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_stack_state_is_in_s3_with_native_locking(stack_id: str) -> None:
    stack = STACKS[stack_id]
    [backend] = terraform_block(stack.path)["backend"]
    assert list(backend) == ["s3"]
    settings = backend["s3"]
    assert settings["use_lockfile"] is True
    assert settings["encrypt"] is True
    assert "dynamodb_table" not in settings, "native S3 locking replaces the DynamoDB table"
    assert settings["bucket"] == f"anthill-terraform-state-{stack.environment}"
    assert settings["key"] == f"{stack.name}/terraform.tfstate"


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_stack_pins_providers_exactly(stack_id: str) -> None:
    providers = required_providers(STACKS[stack_id].path)
    assert providers
    for name, spec in providers.items():
        assert EXACT_VERSION.match(spec["version"]), f"{name}: {spec['version']} is not an exact pin"


def test_every_stack_pins_the_same_provider_versions() -> None:
    """Promotion dev -> staging -> prod moves code, not provider versions."""
    pins: dict[str, set[str]] = {}
    for stack in STACKS.values():
        for spec in required_providers(stack.path).values():
            pins.setdefault(spec["source"], set()).add(spec["version"])
    assert {source: len(versions) for source, versions in pins.items()} == dict.fromkeys(pins, 1)


@pytest.mark.parametrize("module", sorted(MODULES_BY_NAME))
def test_modules_set_lower_bounds_and_leave_pins_to_stacks(module: str) -> None:
    providers = required_providers(MODULES_BY_NAME[module])
    assert providers
    for name, spec in providers.items():
        assert spec["version"].startswith(">="), f"{name}: modules state a minimum, stacks pin"
    assert terraform_block(MODULES_BY_NAME[module])["required_version"].startswith(">=")


@pytest.mark.parametrize("directory", [*module_dirs(), *(s.path for s in stacks())], ids=lambda p: p.name)
def test_registry_modules_are_pinned_to_a_version(directory: Path) -> None:
    for _, label, body in blocks(directory, "module"):
        if not body["source"].startswith("."):
            assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", body.get("version", "")), label


@pytest.mark.parametrize("module", sorted(MODULES_BY_NAME))
def test_modules_hold_no_account_ids_or_regions(module: str) -> None:
    for path in sorted(MODULES_BY_NAME[module].glob("*.tf")):
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
        name
        for name, path in MODULES_BY_NAME.items()
        if any(k.startswith("aws_") for k, _, _ in resources(path))
    ),
)
def test_module_resources_are_tagged(module: str) -> None:
    directory = MODULES_BY_NAME[module]
    taggable = [(kind, name, body) for kind, name, body in resources(directory) if kind.startswith("aws_")]
    assert "tags" in {label for _, label, _ in blocks(directory, "variable")}
    for kind, name, body in taggable:
        if kind not in UNTAGGABLE:
            assert "var.tags" in str(body.get("tags", "")), f"{kind}.{name} is not tagged with var.tags"


@pytest.mark.parametrize("stack_id", sorted(STACKS))
def test_stacks_tag_everything(stack_id: str) -> None:
    """AWS providers tag by default; every module that takes tags gets the stack's."""
    stack = STACKS[stack_id]
    tags = locals_of(stack.path)["tags"]
    assert set(tags) == TAG_KEYS
    assert tags["Stack"] == stack.name
    assert locals_of(stack.path)["environment"] == stack.environment
    for _, label, body in blocks(stack.path, "provider"):
        if label == "aws":
            assert body["default_tags"] == [{"tags": "${local.tags}"}]
    for _, label, body in blocks(stack.path, "module"):
        module = _module_name(stack, body["source"])
        if module and "tags" in {name for _, name, _ in blocks(MODULES_BY_NAME[module], "variable")}:
            assert body.get("tags") == "${local.tags}", label


@pytest.mark.parametrize(
    ("environment", "one_nat"), [("dev", True), ("staging", True), ("prod", False)], ids=ENVIRONMENT_NAMES
)
def test_prod_has_a_nat_gateway_per_zone(environment: str, one_nat: bool) -> None:
    [networking] = [
        b
        for _, label, b in blocks(ENVIRONMENTS / environment / "platform", "module")
        if label == "networking"
    ]
    assert networking["single_nat_gateway"] is one_nat


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_only_dev_buckets_can_be_destroyed_with_their_data(environment: str) -> None:
    for _, _, body in blocks(ENVIRONMENTS / environment / "platform", "module"):
        assert body.get("force_destroy", False) is False


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
    """docs/terraform.md tells operators which outputs go where; each must be a real output of that stack."""
    docs = (TERRAFORM.parent / "docs" / "terraform.md").read_text()
    rows = re.findall(r"^\s*\| (`[a-z_]+`(?:, `[a-z_]+`)*) \| (platform|innovation) \|", docs, re.MULTILINE)
    assert len(rows) >= 6
    for names, stack in rows:
        for environment in ENVIRONMENT_NAMES:
            outputs = {label for _, label, _ in blocks(ENVIRONMENTS / environment / stack, "output")}
            for name in re.findall(r"`([a-z_]+)`", names):
                assert name in outputs, f"{name} is not an output of {environment}/{stack}"
