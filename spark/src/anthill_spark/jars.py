"""JVM jars local Spark needs beyond PySpark's own, fetched once through Maven into a cache.

``spark.jars.packages`` would resolve them at session start through Ivy, on every fresh machine and every
test session; instead Maven copies the pinned artifacts once into
``${ANTHILL_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/anthill}/jars/<artifact>-<version>.jar`` and sessions list
them in ``spark.jars``. Databricks runtimes ship Delta themselves and never use this.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

# Delta 4.0 for Spark 4.0 / Scala 2.13.
DELTA_VERSION = "4.0.1"
ARTIFACTS = (
    f"io.delta:delta-spark_2.13:{DELTA_VERSION}",
    f"io.delta:delta-storage:{DELTA_VERSION}",
)


# hadoop-aws must match the Hadoop that PySpark bundles, and the AWS SDK bundle must be the one that
# hadoop-aws release was built against (its pom's aws-java-sdk-v2.version).
AWS_SDK_FOR_HADOOP = {"3.4.1": "2.24.6"}


class JarsError(RuntimeError):
    """A jar could not be fetched; the message says what to do."""


def bundled_hadoop_version() -> str:
    """The Hadoop version of PySpark's own ``hadoop-client-api`` jar."""
    import pyspark  # noqa: PLC0415 - only when a session is being built

    jars = Path(pyspark.__file__).parent / "jars"
    for jar in jars.glob("hadoop-client-api-*.jar"):
        return jar.name.removeprefix("hadoop-client-api-").removesuffix(".jar")
    raise JarsError(f"no hadoop-client-api jar in {jars}: is PySpark installed whole?")


def s3a_artifacts(hadoop_version: str | None = None) -> tuple[str, ...]:
    """hadoop-aws for PySpark's Hadoop and the AWS SDK bundle it needs: ``s3a://`` (about 560 MB, once)."""
    version = hadoop_version or bundled_hadoop_version()
    sdk = AWS_SDK_FOR_HADOOP.get(version)
    if sdk is None:
        raise JarsError(f"PySpark bundles Hadoop {version}, whose AWS SDK version is not known here; "
                        f"known: {sorted(AWS_SDK_FOR_HADOOP)}")  # fmt: skip
    return (f"org.apache.hadoop:hadoop-aws:{version}", f"software.amazon.awssdk:bundle:{sdk}")


def cache_dir() -> Path:
    if root := os.environ.get("ANTHILL_TOOLS_DIR"):
        return Path(root) / "jars"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "anthill" / "jars"


def jar_name(coordinate: str) -> str:
    _group, artifact, version = coordinate.split(":")
    return f"{artifact}-{version}.jar"


def ensure_jars(artifacts: tuple[str, ...] = ARTIFACTS) -> list[Path]:
    """Paths of ``artifacts``' jars, copying the missing ones from Maven first."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / jar_name(coordinate) for coordinate in artifacts]
    missing = [c for c, p in zip(artifacts, paths, strict=True) if not p.exists()]
    if missing:
        with (directory / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for coordinate in missing:
                if not (directory / jar_name(coordinate)).exists():
                    _copy(coordinate, directory)
    return paths


def _copy(coordinate: str, directory: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarsError(f"fetching {coordinate} needs Maven (mvn) on PATH, or put its jar in {directory}")
    result = subprocess.run(
        [mvn, "-q", "-B", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
         f"-Dartifact={coordinate}", f"-DoutputDirectory={directory}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0 or not (directory / jar_name(coordinate)).exists():
        raise JarsError(f"mvn could not fetch {coordinate}:\n{(result.stdout + result.stderr)[-3000:]}")
