"""Each image's install set, and only it, in a fresh virtualenv: the commands its pods run work there.

The development venv holds every package, so a workload that imports something only the operator installs
(as the ingest and Spark images once did through the `anthill` command) passes every other test. Here each
image's packages are installed as its Dockerfile installs them: ``uv export`` of the locked third-party
dependencies with hashes, then the workspace's own wheels without dependencies. The venv's commands then run
as in the pod (no development paths, ``HOME`` in a scratch folder) against the suite's real servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from anthill.marketfeed.desired import CONFIG_FILE, Feed, desired_configmap
from anthill_api.marketfeed import MarketFeedSpec
from anthill_devkit.controlplane import Binaries, terminate, wait_for
from anthill_sandbox.server import SandboxServer
from anthill_spark.jars import ARTIFACTS, cache_dir, ensure_jars
from tests.dockerfiles import IMAGES, REPO, export_extras, install_set
from tests.integration.conftest import private_plane
from tests.integration.kubectl import Kubectl, condition, get

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UV = Path(sys.executable).parent / "uv"
COMMANDS = {
    # `anthill <name>` each package adds; an image offers exactly those of the packages it installs.
    "anthill-api": {"crds"},
    "anthill-operator": {"operator", "render"},
    "anthill-ingest": {"ingest", "lake"},
    "anthill-spark": {"spark"},
    "anthill-sandbox": {"sandbox"},
    "anthill-devkit": {"dev", "demo"},
}
NS = "images"
TIMEOUT = 60


@dataclass(frozen=True)
class ImageVenv:
    """A virtualenv holding one image's install set."""

    image: str
    root: Path
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The pod's view: the venv first on PATH, no development packages reachable, a scratch HOME."""
        return {"PATH": f"{self.root / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home),
                "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", **extra}  # fmt: skip

    def run(self, *args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.root / "bin" / args[0]), *args[1:]], env=self.env(**extra),
                              cwd=self.home, capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip

    def distributions(self) -> set[str]:
        listed = subprocess.run([str(UV), "pip", "list", "--python", str(self.root / "bin" / "python"),
                                 "--format", "json"], capture_output=True, text=True, check=True)  # fmt: skip
        return {item["name"] for item in json.loads(listed.stdout)}


def _uv(*args: str, cwd: Path = REPO) -> None:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    result = subprocess.run([str(UV), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"uv {' '.join(args)}:\n{result.stderr}"


def build_venv(image: str, directory: Path) -> ImageVenv:
    """Install ``image``'s packages into a new venv under ``directory`` as its Dockerfile's build stage does."""
    packages = install_set(image)
    requirements, wheels = directory / "requirements.txt", directory / "dist"
    _uv("export", "--frozen", "--no-dev", "--no-emit-workspace", *(f"--package={p}" for p in packages),
        *(f"--extra={extra}" for extra in export_extras(image)), "--quiet", "-o", str(requirements))  # fmt: skip
    for package in packages:
        _uv("build", "--package", package, "--wheel", "--quiet", "--out-dir", str(wheels))
    root = directory / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, str(root))
    python = str(root / "bin" / "python")
    _uv("pip", "install", "--quiet", "--python", python, "--require-hashes", "-r", str(requirements))
    _uv("pip", "install", "--quiet", "--python", python, "--no-deps", *map(str, sorted(wheels.glob("*.whl"))))
    home = directory / "home"
    home.mkdir()
    return ImageVenv(image, root, home)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ImageVenv]:
    """``venv(image)``: that image's venv, built once per module."""
    built: dict[str, ImageVenv] = {}

    def get_venv(image: str) -> ImageVenv:
        if image not in built:
            built[image] = build_venv(image, tmp_path_factory.mktemp(f"image-{image}"))
        return built[image]

    return get_venv


@pytest.mark.parametrize("image", IMAGES)
def test_the_venv_holds_the_install_set_and_no_other_workspace_package(
    venv: Callable[[str], ImageVenv], image: str
) -> None:
    installed = venv(image).distributions()
    assert {name for name in installed if name.startswith("anthill")} == set(install_set(image))
    if image != "operator":
        assert not installed & {"databricks-sdk", "kopf", "kubernetes"}


@pytest.mark.parametrize("image", IMAGES)
def test_anthill_offers_exactly_the_commands_of_the_installed_packages(
    venv: Callable[[str], ImageVenv], image: str
) -> None:
    image_venv = venv(image)
    assert image_venv.run("anthill", "--help").returncode == 0
    offered = set().union(*(COMMANDS[p] for p in install_set(image)))
    for name in set().union(*COMMANDS.values()):
        result = image_venv.run("anthill", name, "--help")
        if name in offered:
            assert result.returncode == 0, f"anthill {name} --help in the {image} image:\n{result.stderr}"
        else:
            assert result.returncode == 2, f"the {image} image offers `anthill {name}`"
            assert "No such command" in result.stderr


@pytest.fixture(scope="module")
def ingested_lake(venv: Callable[[str], ImageVenv], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake the ingest image's venv filled from the sandbox API, running the file the operator mounts."""
    directory = tmp_path_factory.mktemp("image-lake")
    lake = directory / "lake"
    spec = MarketFeedSpec.model_validate({
        "dataset": "aggregates", "assetClass": "stocks", "tickers": ["AAPL", "MSFT", "JPM"],
        "bars": {"multiplier": 1, "timespan": "day"}, "schedule": "0 22 * * 1-5",
        "backfill": {"from": "2025-01-02"}, "destination": {"uri": f"file://{lake}"},
        "apiKeySecretRef": {"name": "massive-api", "key": "apiKey"},
    })  # fmt: skip
    configmap = desired_configmap(Feed("daily", NS, spec, uid="uid"))
    feed_file = directory / CONFIG_FILE
    feed_file.write_text(configmap["data"][CONFIG_FILE])
    server = SandboxServer().start()
    try:
        ingest = venv("ingest")
        result = ingest.run("anthill", "ingest", "run", "--feed", str(feed_file), timeout=300,
                            MASSIVE_API_KEY="sandbox", ANTHILL_MARKET_DATA_URL=server.url)  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    return lake


def test_the_ingest_image_writes_bronze_from_the_sandbox(ingested_lake: Path) -> None:
    # The pod learns its namespace and name from the feed.json the operator renders: both are in every key.
    bronze = sorted(ingested_lake.glob(f"bronze/{NS}/daily/aggregates/1day/date=*/daily.parquet"))
    assert len(bronze) > 100  # every trading day since 2025-01-02
    assert (ingested_lake / "_state" / NS / "daily.json").exists()


def test_the_spark_image_refines_that_lake(venv: Callable[[str], ImageVenv], ingested_lake: Path) -> None:
    """`anthill spark run` as the Kubernetes-runtime CronJob runs it; Delta's jars come from the tools cache
    (the image bakes them in at ANTHILL_TOOLS_DIR)."""
    ensure_jars(ARTIFACTS)  # as the image's build does: pods never run Maven
    env = {"ANTHILL_TOOLS_DIR": str(cache_dir().parent)}
    if java_home := os.environ.get("JAVA_HOME"):
        env["JAVA_HOME"] = java_home
    result = venv("spark").run("anthill", "spark", "run", "--lake", f"file://{ingested_lake}",
                               "--bronze", f"file://{ingested_lake}/bronze/{NS}/daily", "--layer", "all",
                               "--gold", "daily_returns,moving_averages", timeout=600, **env)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gold.daily_returns:" in result.stderr
    for table in ("silver/bars", "gold/daily_returns", "gold/moving_averages"):
        assert list((ingested_lake / table / "_delta_log").glob("*.json")), table


def test_the_operator_image_reconciles_a_feed(
    venv: Callable[[str], ImageVenv], binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`anthill operator run`, on a control plane of its own so no other operator does the work."""
    operator = venv("operator")
    directory = tmp_path_factory.mktemp("image-operator")
    manifest = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())
    manifest["metadata"] = {"name": "equities"}
    with private_plane(binaries, directory, NS) as (_, kubectl, kubeconfig):
        kubectl.ok("create", "secret", "generic", "massive-api", "-n", NS, "--from-literal=apiKey=k")
        kubectl.ok("apply", "-n", NS, "-f", "-", stdin=yaml.safe_dump(manifest))
        with (directory / "operator.log").open("wb") as log:
            process = subprocess.Popen(
                [str(operator.root / "bin" / "anthill"), "operator", "run", "--standalone", "-n", NS],
                env=operator.env(
                    KUBECONFIG=str(kubeconfig),
                    ANTHILL_METRICS_PORT="0",
                    ANTHILL_HEALTH_PORT="0",
                    ANTHILL_LOG_FORMAT="text",
                ),
                cwd=operator.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(lambda: _ready(kubectl), TIMEOUT, "the feed Ready under the image's operator")
        finally:
            terminate(process.pid)
        assert (
            kubectl.ok("get", "cronjob", "equities", "-n", NS, "-o", "name").strip()
            == "cronjob.batch/equities"
        )


def _ready(kubectl: Kubectl) -> bool:
    return condition(get(kubectl, NS, "mf/equities"), "Ready").get("status") == "True"
