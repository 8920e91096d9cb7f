"""JVM jars local Spark needs beyond PySpark's own, fetched once through Maven into a cache.

``spark.jars.packages`` would resolve them at session start through Ivy, on every fresh machine and every
test session; instead Maven copies the pinned artifacts once into
``${ANTHILL_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/anthill}/jars/<artifact>-<version>.jar`` and sessions list
them in ``spark.jars``. Databricks runtimes ship Delta themselves and never use this.
"""

from __future__ import annotations

import fcntl
import hashlib
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

# SHA-256 of every jar this module or the Spark image fetches, checked after each download: a mirror or a
# proxy serving other bytes fails the fetch. docker/spark-jars.sha256 holds the same lines for the image's
# build (a test keeps them equal). Each matches Maven Central's published .sha1 of the same file.
SHA256 = {
    "delta-spark_2.13-4.0.1.jar": "a1e76860b19fe1e6b205a4ea7a9099a2f9575d39bb71d49b3e679b299d0efb91",
    "delta-storage-4.0.1.jar": "ecc42c5aaa51c423312d9e4e48aa4a12b34740bf2c37de0e8f279277ec3d12e4",
    "hadoop-aws-3.4.1.jar": "01334a07e179cae2b7e251f24857f11e3759108c9d6a79dcbe362a4295227da2",
    "bundle-2.24.6.jar": "890bf9f2a80488f7a8aa8277d64d13a9ea3a3cdff8607ef3b63a878d8b467b41",
}


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


def sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _copy(coordinate: str, directory: Path) -> None:
    """Fetch one jar through a scratch folder, moved into the cache only once its checksum matches."""
    expected = SHA256.get(jar_name(coordinate))
    if expected is None:
        raise JarsError(f"no SHA-256 pinned for {coordinate} in anthill_spark.jars.SHA256")
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarsError(f"fetching {coordinate} needs Maven (mvn) on PATH, or put its jar in {directory}")
    scratch = directory / ".incoming"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        result = subprocess.run(
            [mvn, "-q", "-B", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
             f"-Dartifact={coordinate}", f"-DoutputDirectory={scratch}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        fetched = scratch / jar_name(coordinate)
        if result.returncode != 0 or not fetched.exists():
            raise JarsError(f"mvn could not fetch {coordinate}:\n{(result.stdout + result.stderr)[-3000:]}")
        if (actual := sha256(fetched)) != expected:
            raise JarsError(f"{fetched.name} has SHA-256 {actual}, not the pinned {expected}: not used")
        fetched.replace(directory / fetched.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
