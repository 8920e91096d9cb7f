"""The GitHub workflows' security contract, read from the YAML: what a job can reach decides how it is pinned
and which credentials it may name. actionlint (`make lint`) checks the syntax; this checks the policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
# A job that can mint cloud credentials or push images: a tag moved under it would run with that power.
POWERFUL = {("id-token", "write"), ("packages", "write")}
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
# `uses: owner/repo@<sha> # v1.2.3`: the comment says which release the commit is, for updates.
PINNED_LINE = re.compile(r"uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")
TERRAFORM = REPO / ".github" / "workflows" / "terraform.yml"
APPLY_CREDENTIALS = re.compile(
    r"\b(PLATFORM|INNOVATION)_(ROLE_ARN|DATABRICKS_CLIENT_ID|DATABRICKS_CLIENT_SECRET)\b"
)
PLAN_CREDENTIALS = re.compile(r"\bPLAN_(PLATFORM|INNOVATION)_\w+")


def load(path: Path) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(path.read_text())
    return workflow


def permissions(workflow: dict[str, Any], job: dict[str, Any]) -> set[tuple[str, str]]:
    granted = job.get("permissions", workflow.get("permissions", {}))
    if granted == "write-all":
        return POWERFUL
    return {(scope, level) for scope, level in (granted or {}).items()}


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def job_text(path: Path, name: str) -> str:
    """The job's own lines of the file, comments included (YAML parsing drops them)."""
    lines = path.read_text().splitlines()
    start = lines.index(f"  {name}:")
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"  \S", lines[i])), len(lines))
    return "\n".join(lines[start:end])


def powerful_jobs() -> list[Any]:
    return [pytest.param(path, name, id=f"{path.stem}:{name}") for path in WORKFLOWS
            for name, job in load(path)["jobs"].items() if permissions(load(path), job) & POWERFUL]  # fmt: skip


def test_the_workflows_have_powerful_jobs() -> None:
    """The release images and chart, the Terraform plans and applies: the pinning test must see them."""
    assert {param.id for param in powerful_jobs()} >= {"release:images", "release:chart", "terraform:plan",
                                                       "terraform:apply-prod"}  # fmt: skip


@pytest.mark.parametrize(("path", "name"), powerful_jobs())
def test_jobs_that_hold_id_token_or_packages_write_pin_every_action_by_commit(path: Path, name: str) -> None:
    job = load(path)["jobs"][name]
    for action in uses(job):
        if action.startswith(("./", "docker://")):
            continue
        assert PINNED.fullmatch(action), f"{path.name} {name}: {action} is not pinned by a commit SHA"
    text = job_text(path, name)
    for line in (line.strip().removeprefix("- ") for line in text.splitlines() if "uses:" in line):
        assert PINNED_LINE.fullmatch(line), f"{path.name} {name}: {line!r} lacks its `# vX.Y.Z` comment"


def test_one_action_one_commit_across_workflows() -> None:
    """Two pins of the same action at different commits mean one was missed in an update."""
    seen: dict[str, set[str]] = {}
    for line in (
        line.strip().removeprefix("- ") for path in WORKFLOWS for line in path.read_text().splitlines()
    ):
        if match := PINNED_LINE.fullmatch(line):
            seen.setdefault(match.group(1), set()).add(match.group(2))
    assert seen
    assert {action: shas for action, shas in seen.items() if len(shas) > 1} == {}


def runs_on_untrusted_events(job: dict[str, Any]) -> bool:
    """True unless the job's `if` keeps it to pushes (a pull request's code may be anyone's)."""
    condition = str(job.get("if", ""))
    return condition.replace(" ", "") != "github.event_name=='push'"


@pytest.mark.parametrize("name", list(load(TERRAFORM)["jobs"]))
def test_terraform_credentials_follow_the_environment(name: str) -> None:
    """Pull requests plan in `<env>-plan` (no reviewers) with the read-only plan role and plan-only
    Databricks principals; the apply roles and secrets appear only in push-only jobs of the protected `<env>`."""
    job = load(TERRAFORM)["jobs"][name]
    text = yaml.safe_dump(job)
    environment = str(job.get("environment", ""))
    if runs_on_untrusted_events(job):
        assert not APPLY_CREDENTIALS.search(text), f"{name} names apply credentials"
        if ("id-token", "write") in permissions(load(TERRAFORM), job):
            assert environment.endswith("-plan"), f"{name} mints tokens outside a plan environment"
            assert PLAN_CREDENTIALS.search(text), f"{name} holds id-token without the plan role"
    if APPLY_CREDENTIALS.search(text):
        assert not runs_on_untrusted_events(job), f"{name} holds apply credentials on untrusted events"
        assert environment in {"dev", "staging", "prod"}, f"{name} applies outside a protected environment"
        assert not PLAN_CREDENTIALS.search(text)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_apply_applies_the_reviewed_plan(env: str) -> None:
    """The apply job applies the plan file its run saved and showed, never a fresh plan of its own."""
    workflow = load(TERRAFORM)
    job = workflow["jobs"][f"apply-{env}"]
    assert job["environment"] == env
    assert f"apply-{env}" not in workflow["jobs"]["plan"].get("needs", [])
    assert "plan" in job["needs"]
    scripts = [step["run"] for step in job["steps"] if "run" in step]
    applies = [
        line.strip() for script in scripts for line in script.splitlines() if "terraform apply" in line
    ]
    assert len(applies) == 2, applies
    for line in applies:
        assert "-auto-approve" not in line
        assert re.search(r'"(\$GITHUB_WORKSPACE/plans/tfplan-[\w-]+/tfplan|\$reviewed)"$', line), line
    downloads = [
        step for step in job["steps"] if step.get("uses", "").startswith("actions/download-artifact@")
    ]
    assert [step["with"]["pattern"] for step in downloads] == [f"tfplan-{env}-*"]


def test_pull_request_plans_never_lock_or_write_state() -> None:
    plan = load(TERRAFORM)["jobs"]["plan"]
    [script] = [step["run"] for step in plan["steps"] if step.get("id") == "plan"]
    assert "-lock=false" in script
    saves = [step for step in plan["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")
             and step["with"]["name"].startswith("tfplan-")]  # fmt: skip
    assert [step["if"] for step in saves] == ["github.event_name == 'push'"]
    # The lock file goes with the plan: a saved plan applies only with the providers it was made with.
    [save] = saves
    assert save["with"]["path"].splitlines() == [
        "terraform/environments/${{ matrix.environment }}/${{ matrix.stack }}/tfplan",
        "terraform/environments/${{ matrix.environment }}/${{ matrix.stack }}/.terraform.lock.hcl",
    ]
    assert save["with"]["include-hidden-files"] is True


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_apply_inits_with_the_lock_file_the_plan_was_made_with(env: str) -> None:
    job = load(TERRAFORM)["jobs"][f"apply-{env}"]
    scripts = [step["run"] for step in job["steps"] if "terraform apply" in step.get("run", "")]
    assert len(scripts) == 2
    for script, stack in zip(scripts, ("platform", "innovation"), strict=True):
        lines = [line.strip() for line in script.splitlines()]
        copy = f'cp "$GITHUB_WORKSPACE/plans/tfplan-{env}-{stack}/.terraform.lock.hcl" .'
        assert lines.index(copy) < lines.index("terraform init -lockfile=readonly"), script
        assert f"terraform output -json {stack}" in script


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_terraforms_outputs_reach_gitops_through_a_pull_request_without_cloud_credentials(env: str) -> None:
    workflow = load(TERRAFORM)
    job = workflow["jobs"][f"values-{env}"]
    assert job["needs"] == [f"apply-{env}"]
    assert permissions(workflow, job) == {("contents", "write"), ("pull-requests", "write")}
    text = job_text(TERRAFORM, f"values-{env}")
    assert not APPLY_CREDENTIALS.search(text)
    assert not PLAN_CREDENTIALS.search(text)
    assert f"anthill dev gitops-values --env {env}" in text
    assert "gh pr create" in text


def test_failures_and_drift_are_reported() -> None:
    jobs = load(TERRAFORM)["jobs"]
    assert jobs["notify"]["if"].startswith("failure()")
    assert set(jobs["notify"]["needs"]) == set(jobs) - {"notify", "drift-report"}
    assert jobs["drift-report"]["if"] == "always() && github.event_name == 'schedule'"
    assert "for env in dev staging prod" in yaml.safe_dump(jobs["drift-report"])


RELEASE = REPO / ".github" / "workflows" / "release.yml"
WHEEL_DEPLOYS = ["deploy-wheel-dev", "deploy-wheel-staging", "deploy-wheel-prod"]
DEPLOYER_SECRETS = re.compile(r"\bWHEEL_DEPLOYER_CLIENT_(ID|SECRET)\b")


def test_the_wheel_is_deployed_after_the_tests_dev_then_staging_then_prod() -> None:
    """One built wheel, tested first, goes through the environments in order: staging waits for dev and prod
    for staging, so an approval in each environment gates the next."""
    jobs = load(RELEASE)["jobs"]
    assert jobs["wheel"]["needs"] == ["test"]
    assert [jobs[name]["needs"] for name in WHEEL_DEPLOYS] == [["wheel"], ["deploy-wheel-dev"],
                                                                ["deploy-wheel-staging"]]  # fmt: skip
    assert [jobs[name]["environment"] for name in WHEEL_DEPLOYS] == ["dev", "staging", "prod"]
    assert [step["run"] for step in jobs["test"]["steps"] if "run" in step] == ["make test-unit"]


@pytest.mark.parametrize("name", list(load(RELEASE)["jobs"]))
def test_wheel_deployer_credentials_only_in_push_only_environment_jobs(name: str) -> None:
    """A pull request's code never runs with a workspace's deployer credentials: they are named only by jobs
    that run on pushes (staging and prod on release tags), inside the environment that holds them."""
    job = load(RELEASE)["jobs"][name]
    text = yaml.safe_dump(job)
    if not DEPLOYER_SECRETS.search(text):
        return
    assert name in WHEEL_DEPLOYS
    assert job["if"] in ("github.event_name == 'push'", "startsWith(github.ref, 'refs/tags/v')")
    assert job["environment"] == name.removeprefix("deploy-wheel-")
    deploys = [step["run"] for step in job["steps"] if "anthill databricks deploy" in step.get("run", "")]
    assert len(deploys) == 1
    assert "SECRET" not in deploys[0]  # credentials reach the command through its environment only
