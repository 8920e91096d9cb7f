"""The local stand-in for Databricks Runtime: a Python environment with the pinned PySpark and Delta, nothing else.

Runs install their wheel libraries next to it (never into it) and run in it, so a wheel that only works because
the developer's environment happens to hold some package fails here as it would on a cluster. It is built once
per set of pins with the dev environment's uv (whose cache makes that quick after ``make sync``) under
``${ANTHILL_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/anthill}/databricks-runtime/<key>``, the cache local Spark's
jars use too, outside the repository.

Its Python is this machine's (3.11 or later): Databricks Runtime 17.3 has 3.12, which uv may not download here.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from anthill_api import runtime
from anthill_spark import jars

UV = Path(sys.executable).parent / "uv"


class RuntimeEnvError(RuntimeError):
    """The runtime environment could not be built; the message carries uv's own words."""


@dataclass(frozen=True)
class RuntimeEnv:
    """A built runtime environment."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def hadoop_version(self) -> str:
        """The Hadoop version of the runtime's PySpark (its ``hadoop-client-api`` jar): what S3A must match."""
        for jar in self.root.glob("lib/python*/site-packages/pyspark/jars/hadoop-client-api-*.jar"):
            return jar.name.removeprefix("hadoop-client-api-").removesuffix(".jar")
        raise RuntimeEnvError(f"no hadoop-client-api jar under {self.root}: is PySpark installed whole?")


def cache_dir() -> Path:
    """Beside local Spark's jar cache, under the same root."""
    return jars.cache_dir().parent / "databricks-runtime"


def runtime_key() -> str:
    """What the environment is built from: the Python minor version and the runtime's pins."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"py{python}-pyspark{runtime.PYSPARK}-delta{runtime.DELTA_SPARK}"


def requirements() -> list[str]:
    return [f"pyspark=={runtime.PYSPARK}", f"delta-spark=={runtime.DELTA_SPARK}"]


def ensure_runtime(directory: Path | None = None) -> RuntimeEnv:
    """The runtime environment for the current pins, built first when missing.

    Concurrent callers (servers in several test processes) wait on a file lock; the one that builds does so in
    a scratch folder renamed into place once complete, so a half-built environment is never used.
    """
    directory = directory or cache_dir()
    env = RuntimeEnv(directory / runtime_key())
    if env.python.exists():
        return env
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not env.python.exists():
            _build(env.root)
    return env


def _build(target: Path) -> None:
    scratch = target.with_name(f".incoming-{target.name}")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        # Relocatable: the environment is built in the scratch folder and used where it is renamed to.
        _uv("venv", "--quiet", "--relocatable", "--python", sys.executable, str(scratch))
        _uv("pip", "install", "--quiet", "--python", str(scratch / "bin" / "python"), *requirements())
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _uv(*args: str) -> None:
    result = subprocess.run([str(UV), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeEnvError(
            f"uv {args[0]} failed building the runtime environment:\n{result.stderr[-3000:]}"
        )
