"""The anthill-spark wheel as Databricks installs it: built by ``uv build``, read from its own metadata."""

from __future__ import annotations

import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from anthill_api import runtime

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def metadata(built_wheel: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(built_wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(archive.read(name).decode())
    return {"Requires-Dist": message.get_all("Requires-Dist") or [],
            "Provides-Extra": message.get_all("Provides-Extra") or []}  # fmt: skip


def test_the_wheel_requires_nothing_databricks_runtime_provides(metadata: dict[str, list[str]]) -> None:
    required = [Requirement(line) for line in metadata["Requires-Dist"]]
    unconditional = {r.name for r in required if r.marker is None}
    assert unconditional, "the wheel still needs its own (non-runtime) dependencies"
    assert not unconditional & runtime.PROVIDED, sorted(unconditional & runtime.PROVIDED)


def test_local_runs_get_the_runtimes_pyspark_and_delta_from_the_local_extra(
    metadata: dict[str, list[str]],
) -> None:
    assert "local" in metadata["Provides-Extra"]
    local = {
        r.name: str(r.specifier)
        for r in map(Requirement, metadata["Requires-Dist"])
        if r.marker is not None and r.marker.evaluate({"extra": "local"})
    }
    assert local == {"pyspark": f"=={runtime.PYSPARK}", "delta-spark": f"=={runtime.DELTA_SPARK}"}
