"""Each image installs what its pods run and nothing else: read from the Dockerfiles and the lock file."""

from __future__ import annotations

import pytest

from tests.dockerfiles import IMAGES, closure, copied_sources, export_extras, install_set, members

EXPECTED = {
    # The API package carries the `anthill` command every image's entrypoint runs.
    "operator": ("anthill-api", "anthill-operator"),
    "ingest": ("anthill-api", "anthill-ingest"),
    "spark": ("anthill-api", "anthill-spark"),
}
NEVER_SHIPPED = {"anthill-sandbox", "anthill-devkit"}
# What only the operator needs: a workload image that pulls these in is importing the operator.
OPERATOR_ONLY = {"anthill-operator", "databricks-sdk", "kopf", "kubernetes", "prometheus-client"}


@pytest.mark.parametrize("image", IMAGES)
def test_each_image_names_the_packages_its_pods_run(image: str) -> None:
    assert install_set(image) == EXPECTED[image]


@pytest.mark.parametrize("image", IMAGES)
def test_no_image_installs_a_sandbox_or_the_dev_harness(image: str) -> None:
    installed = closure(install_set(image), export_extras(image))
    assert not installed & NEVER_SHIPPED


@pytest.mark.parametrize("image", ["ingest", "spark"])
def test_workload_images_carry_nothing_of_the_operator(image: str) -> None:
    installed = closure(install_set(image), export_extras(image))
    assert not installed & OPERATOR_ONLY, sorted(installed & OPERATOR_ONLY)


@pytest.mark.parametrize("image", IMAGES)
def test_the_install_set_holds_every_workspace_package_it_depends_on(image: str) -> None:
    """A workspace package pulled in by another but not built would make the image's install fail."""
    packages = install_set(image)
    assert closure(packages, export_extras(image)) & set(members()) == set(packages)


@pytest.mark.parametrize("image", IMAGES)
def test_the_build_copies_the_sources_of_exactly_those_packages(image: str) -> None:
    assert copied_sources(image) == {members()[name] for name in install_set(image)}


def test_the_closure_follows_the_lock_file() -> None:
    """The helper the tests above rely on: the ingest workload does reach pyarrow through the lock."""
    assert {"anthill-api", "pyarrow", "pydantic"} <= closure(("anthill-ingest",))


def test_the_spark_image_installs_the_pyspark_the_wheel_leaves_to_the_runtime() -> None:
    """The published wheel requires no PySpark (Databricks Runtime provides it); the image takes the extra."""
    assert "pyspark" not in closure(("anthill-spark",))
    assert {"pyspark", "delta-spark"} <= closure(install_set("spark"), export_extras("spark"))
