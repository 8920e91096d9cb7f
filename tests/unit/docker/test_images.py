"""The Dockerfiles, checked without a Docker engine: pinned bases, non-root, and entry points that exist.

The images are built by .github/workflows/release.yml; here each Dockerfile is read as text and what it
names (workspace packages, console scripts, `anthill` subcommands, paths) is checked against the repository.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill.settings import OperatorSettings
from anthill.workload import NONROOT_UID
from tests.dockerfiles import (
    DOCKER,
    IMAGES,
    arg_defaults,
    dockerfile,
    final_stage,
    install_set,
    instructions,
    members,
)
from tests.helpers import REPO, anthill

PINNED = re.compile(r"^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
ANTHILL = str(Path(sys.executable).parent / "anthill")
# What each image must be able to run, as the platform runs it.
COMMANDS = {
    "operator": [["operator", "run"]],
    "ingest": [["ingest", "run"]],
    "spark": [["spark", "run"]],
}


def scripts(package: str) -> dict[str, str]:
    project: dict[str, Any] = tomllib.loads((REPO / package / "pyproject.toml").read_text())["project"]
    return dict(project.get("scripts", {}))


@pytest.mark.parametrize("image", IMAGES)
def test_every_base_image_is_pinned_by_version_and_digest(image: str) -> None:
    text = dockerfile(image)
    args = arg_defaults(text)
    stages: set[str] = set()
    for kind, rest in instructions(text):
        if kind != "FROM":
            continue
        ref, *alias = rest.split()
        resolved = args.get(ref.removeprefix("${").removesuffix("}"), ref)
        assert resolved in stages or PINNED.match(resolved), f"{image}: FROM {resolved} is not pinned"
        if alias:
            stages.add(alias[-1])


def locked_uv() -> tuple[str, set[str]]:
    """uv's version and the hashes of every file of it in uv.lock."""
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    [uv] = [package for package in lock["package"] if package["name"] == "uv"]
    return uv["version"], {uv["sdist"]["hash"], *(wheel["hash"] for wheel in uv["wheels"])}


def test_uv_requirements_are_the_locked_uv() -> None:
    text = (DOCKER / "uv-requirements.txt").read_text()
    version, hashes = locked_uv()
    assert re.findall(r"^uv==(\S+) ", text, re.MULTILINE) == [version]
    assert set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", text)) == hashes


@pytest.mark.parametrize("image", IMAGES)
def test_every_pip_install_requires_hashes(image: str) -> None:
    """uv itself comes in by pip: only with --require-hashes from uv-requirements.txt, never by name alone."""
    # pip itself, not `uv pip` (whose installs are of uv export's hashed lock and of our own wheels).
    pip = re.compile(r"(?<!uv )pip install")
    runs = [rest for kind, rest in instructions(dockerfile(image)) if kind == "RUN" and pip.search(rest)]
    assert runs, f"{image}: installs uv somehow"
    for run in runs:
        for command in pip.split(run)[1:]:
            assert "--require-hashes" in command, f"{image}: pip install without --require-hashes: {run}"
            assert "-r /tmp/uv-requirements.txt" in command, run
        assert "uv==" not in run, f"{image}: uv named without its hashes: {run}"
    assert any(kind == "COPY" and rest == "docker/uv-requirements.txt /tmp/uv-requirements.txt"
               for kind, rest in instructions(dockerfile(image)))  # fmt: skip


def test_spark_image_checks_every_jar_against_its_pinned_checksum() -> None:
    from anthill_spark import jars  # noqa: PLC0415 - only this test needs the Spark package

    lines = (DOCKER / "spark-jars.sha256").read_text().splitlines()
    pinned = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    assert pinned == jars.SHA256
    fetched = {jars.jar_name(coordinate) for coordinate in (*jars.ARTIFACTS, *jars.s3a_artifacts())}
    assert fetched == set(pinned), "every jar the session or the image fetches has a checksum, and no other"
    text = dockerfile("spark")
    [jars_stage] = [rest for kind, rest in instructions(text) if kind == "RUN" and "mvn" in rest]
    assert "sha256sum --check --strict /tmp/spark-jars.sha256" in jars_stage
    assert "COPY docker/spark-jars.sha256 /tmp/spark-jars.sha256" in text


@pytest.mark.parametrize("image", IMAGES)
def test_image_runs_as_the_non_root_user_the_pods_declare(image: str) -> None:
    user = [rest for kind, rest in final_stage(dockerfile(image)) if kind == "USER"]
    assert user == [f"{NONROOT_UID}:{NONROOT_UID}"], "numeric, so runAsNonRoot can verify it"
    values = yaml.safe_load((REPO / "charts" / "anthill" / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == NONROOT_UID


@pytest.mark.parametrize("image", IMAGES)
def test_image_is_multi_stage_and_installs_locked_wheels_with_uv(image: str) -> None:
    text = dockerfile(image)
    steps = instructions(text)
    assert sum(kind == "FROM" for kind, _ in steps) >= 2
    run = " ".join(rest for kind, rest in steps if kind == "RUN")
    assert 'for package in ${PACKAGES}; do uv build --package "$package" --wheel' in run, (
        "the workspace's own code goes in as wheels"
    )
    assert set(install_set(image)) <= members().keys()
    assert "uv export --frozen" in run
    assert "--require-hashes" in run, "third-party packages exactly as uv.lock pins them"
    assert "--no-deps /dist/*.whl" in run, "the wheels add nothing beyond the locked requirements"
    assert "/opt/anthill" in " ".join(rest for kind, rest in final_stage(text) if kind == "COPY")


@pytest.mark.parametrize("image", IMAGES)
def test_entry_point_and_commands_exist(image: str) -> None:
    steps = final_stage(dockerfile(image))
    [entrypoint] = [json.loads(rest) for kind, rest in steps if kind == "ENTRYPOINT"]
    assert entrypoint == ["anthill"]
    assert "anthill" in scripts("crds")  # anthill-api, in every image
    [cmd] = [json.loads(rest) for kind, rest in steps if kind == "CMD"]
    for command in [cmd, *COMMANDS[image]]:
        result = subprocess.run([ANTHILL, *[part for part in command if part != "--help"], "--help"],
                                capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
        assert result.returncode == 0, f"anthill {shlex.join(command)}: {result.stderr}"


def test_spark_image_provides_the_wheel_tasks_console_scripts() -> None:
    """Databricks' python_wheel_task and the Kubernetes runtime call these by name."""
    assert "anthill-spark" in install_set("spark")
    for name, target in scripts("spark").items():
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function)), name
    assert set(scripts("spark")) == {"bronze_to_silver", "silver_to_gold", "all"}


def test_spark_image_ships_the_delta_jars_where_the_session_looks() -> None:
    from anthill_spark import jars  # noqa: PLC0415 - only this test needs the Spark package

    text = dockerfile("spark")
    args = arg_defaults(text)
    assert args["DELTA_VERSION"] == jars.DELTA_VERSION
    assert "ANTHILL_TOOLS_DIR=/opt/anthill-tools" in text
    assert "COPY --from=jars /jars/ /opt/anthill-tools/jars/" in text
    for coordinate in jars.ARTIFACTS:
        artifact = coordinate.split(":")[1]
        assert artifact in text
    # s3:// lakes: the S3A jars for PySpark's own Hadoop, so a pod never fetches from Maven at run time.
    hadoop_aws, sdk_bundle = jars.s3a_artifacts()
    assert args["HADOOP_VERSION"] == hadoop_aws.split(":")[2]
    assert args["AWS_SDK_VERSION"] == sdk_bundle.split(":")[2]
    assert "org.apache.hadoop:hadoop-aws:${HADOOP_VERSION}" in text
    assert "software.amazon.awssdk:bundle:${AWS_SDK_VERSION}" in text


def test_pipeline_cronjob_runs_the_spark_image_command() -> None:
    """A Kubernetes-runtime pipeline's CronJob runs `anthill spark run` as the spark image provides it."""
    result = anthill("render", "examples/medallion-kubernetes.yaml", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    [cronjob] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["anthill", "spark", "run"]
    assert 'ENTRYPOINT ["anthill"]' in dockerfile("spark")


def test_operator_runs_the_ingest_image_the_workflow_builds() -> None:
    """A feed's CronJob runs `anthill ingest run` in the default ingest image, one this repository builds."""
    result = anthill("render", "examples/us-equities-daily.yaml", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    [cronjob] = [doc for doc in yaml.safe_load_all(result.stdout) if doc and doc["kind"] == "CronJob"]
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][:3] == ["anthill", *COMMANDS["ingest"][0]]
    default = OperatorSettings().ingest_image
    assert container["image"] == default
    assert default.rsplit(":", 1)[0].endswith("/anthill-ingest")
    values = yaml.safe_load((REPO / "charts" / "anthill" / "values.yaml").read_text())
    assert values["image"]["repository"].endswith("/anthill-operator")
    assert values["ingest"]["image"] == default


def test_release_workflow_builds_every_dockerfile() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    matrix = workflow["jobs"]["images"]["strategy"]["matrix"]["image"]
    assert sorted(matrix) == sorted(p.name.removesuffix(".Dockerfile") for p in DOCKER.glob("*.Dockerfile"))
    assert sorted(matrix) == sorted(IMAGES)


def test_dockerignore_admits_exactly_what_the_dockerfiles_copy() -> None:
    patterns = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]

    def included(path: str) -> bool:
        keep = True
        for pattern in patterns:
            negate = pattern.startswith("!")
            bare = pattern.removeprefix("!").rstrip("/")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/"):
                keep = negate
        return keep

    for image in IMAGES:
        for kind, rest in instructions(dockerfile(image)):
            if kind != "COPY" or rest.startswith("--from"):
                continue
            *sources, _ = rest.split()
            for source in sources:
                assert (REPO / source).exists(), source
                probe = source + "x.py" if source.endswith("/") else source
                assert included(probe), f"{image}: .dockerignore drops {source}"
