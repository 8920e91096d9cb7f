"""The one pin of the Databricks Runtime, and the places that must agree with it."""

from __future__ import annotations

import tomllib
from importlib.metadata import version

import pytest

from anthill_api import runtime
from tests.helpers import REPO


def test_the_development_venv_runs_the_pinned_pyspark_and_delta() -> None:
    assert version("pyspark") == runtime.PYSPARK
    assert version("delta-spark") == runtime.DELTA_SPARK


def test_the_lock_file_pins_the_same_versions() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {package["name"]: package["version"] for package in lock["package"]}
    assert locked["pyspark"] == runtime.PYSPARK
    assert locked["delta-spark"] == runtime.DELTA_SPARK


def test_the_pinned_runtime_carries_spark_4() -> None:
    assert runtime.spark_major(runtime.DATABRICKS_RUNTIME) == runtime.SPARK_MAJOR


@pytest.mark.parametrize(
    ("spark_version", "major"),
    [("17.3.x-scala2.13", 4), ("18.0.x-scala2.13", 4), ("15.4.x-scala2.12", 3), ("16.4.x-scala2.12", 3),
     ("custom:my-image", None)],
)  # fmt: skip
def test_spark_major_reads_the_runtime_version(spark_version: str, major: int | None) -> None:
    assert runtime.spark_major(spark_version) == major
