"""What a run's tasks are given and how their ends are reported, as Databricks does: pure, no I/O, no clock.

The runner (``runner``) does the I/O; everything it decides is here: the order of the tasks, which are skipped
and why, the parameters a task gets locally, its Spark configuration and environment, and the mapping of a
task's end (exit code, reported exception, cancel, library failure) onto Databricks' states.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from anthill_api import runtime

# Unity Catalog names a job's parameters may carry: with no metastore here they cannot resolve, so they are
# dropped and the jobs' tables stay path-based under --lake.
UC_FLAGS = ("--catalog", "--silver-schema", "--gold-schema")
# What Databricks Runtime configures on every driver; a job cluster's spark_conf may change these.
RUNTIME_CONF = {
    "spark.master": "local[*]",
    "spark.app.name": "Databricks Shell",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "2g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
# What the runtime itself provides and a job cluster cannot turn off: Delta as the session catalog.
DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
S3_SCHEMES = ("s3://", "s3a://")
# Variables of the server's own environment a task's process inherits; nothing else of it.
INHERITED_ENV = ("PATH", "JAVA_HOME", "LANG")
LOGS_LIMIT = 5 * 1024 * 1024  # get-output returns the last 5 MB of a task's output, as Databricks does
FAILED_RESULTS = frozenset({"FAILED", "UPSTREAM_FAILED", "TIMEDOUT"})
CANCELED_RESULTS = frozenset({"CANCELED", "UPSTREAM_CANCELED"})


class UnsupportedTaskError(ValueError):
    """A task or run setting this server cannot execute (the message names it)."""


@dataclass(frozen=True)
class Outcome:
    """How a task ended, as ``runs/get`` and ``runs/get-output`` report it."""

    result: str
    life_cycle: str = "TERMINATED"
    error: str | None = None
    error_trace: str | None = None
    message: str = ""


def task_order(tasks: Sequence[Mapping[str, Any]]) -> list[str]:
    """The task keys in an order where each task comes after every task it depends on; among tasks ready at
    the same time, the job's own order. ``UnsupportedTaskError`` for a cycle."""
    pending = {task["task_key"]: {d["task_key"] for d in task.get("depends_on") or []} for task in tasks}
    order: list[str] = []
    while pending:
        ready = [key for key, needs in pending.items() if needs <= set(order)]
        if not ready:
            raise UnsupportedTaskError(f"the tasks {sorted(pending)} depend on each other in a cycle")
        order.append(ready[0])
        del pending[ready[0]]
    return order


def check_tasks(tasks: Sequence[Mapping[str, Any]]) -> None:
    """``UnsupportedTaskError`` naming the first task this server cannot execute, before any task runs: only
    python_wheel_task, and only ``run_if`` ALL_SUCCESS (the default, what the operator's jobs use)."""
    for task in tasks:
        if "python_wheel_task" not in task:
            raise UnsupportedTaskError(
                f"task {task['task_key']}: only python_wheel_task runs on the local server"
            )
        if (run_if := task.get("run_if", "ALL_SUCCESS")) != "ALL_SUCCESS":
            raise UnsupportedTaskError(f"task {task['task_key']}: run_if {run_if} is not executed by the local "
                                       "server, only ALL_SUCCESS")  # fmt: skip


def skipped(upstream: Iterable[str]) -> str | None:
    """The result a task (run_if ALL_SUCCESS) gets instead of running when its dependencies ended with
    ``upstream`` results, or None when it runs."""
    results = set(upstream)
    if results & CANCELED_RESULTS:
        return "UPSTREAM_CANCELED"
    if results - {"SUCCESS"}:
        return "UPSTREAM_FAILED"
    return None


def exit_outcome(returncode: int, reported: Mapping[str, str] | None, canceled: bool) -> Outcome:
    """A python_wheel_task's end from its process: exit 0 is SUCCESS; an uncaught exception or a non-zero exit
    is FAILED with the exception's last line as ``error`` and its traceback as ``error_trace`` (or, when the
    process died without a word, its exit code or signal); a cancelled task is CANCELED whatever its code."""
    if canceled:
        return Outcome("CANCELED", message="Run cancelled.")
    if returncode == 0:
        return Outcome("SUCCESS")
    if reported:
        error = reported["error"]
        return Outcome("FAILED", error=error, error_trace=reported.get("error_trace"), message=error)
    if returncode < 0:
        error = f"The Python process was killed by {signal.Signals(-returncode).name}."
    else:
        error = f"The Python process exited with code {returncode}."
    return Outcome("FAILED", error=error, message=error)


def library_failure(whl: str, detail: str) -> Outcome:
    """A cluster library that could not be installed: the task never starts, as on Databricks."""
    error = f'Library installation failed for library due to user error for whl: "{whl}". Error messages: {detail}'
    return Outcome("FAILED", life_cycle="INTERNAL_ERROR", error=error, message=error)


def provided(installed: Iterable[str]) -> list[str]:
    """The distributions among ``installed`` that Databricks Runtime provides: a library that brings its own
    copy replaces the runtime's and breaks the cluster."""
    return sorted({_normalise(name) for name in installed} & runtime.PROVIDED)


def requirement_names(requirements: str) -> list[str]:
    """The distribution names in a requirements listing (``uv pip compile``'s output): ``name==1.0`` and
    ``name @ url`` lines; comments and continuation lines are skipped."""
    names = []
    for line in requirements.splitlines():
        if match := re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==|@)", line):
            names.append(match.group(1))
    return names


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def local_parameters(parameters: Sequence[str]) -> tuple[list[str], list[str]]:
    """``parameters`` without the Unity Catalog names (``--catalog X`` and ``--catalog=X`` alike), and the
    dropped ones as ``flag value`` strings."""
    kept: list[str] = []
    dropped: list[str] = []
    items = iter(parameters)
    for item in items:
        flag, equals, value = item.partition("=")
        if flag in UC_FLAGS:
            dropped.append(f"{flag} {value if equals else next(items, '')}".strip())
        else:
            kept.append(item)
    return kept, dropped


def catalog_note(dropped: Sequence[str]) -> str:
    """The first line of a task's output when its Unity Catalog names were dropped."""
    return (f"anthill sandbox: Unity Catalog names cannot resolve without a metastore; dropped "
            f"{', '.join(dropped)}: tables stay path-based under --lake")  # fmt: skip


def uses_s3(parameters: Sequence[str]) -> bool:
    """Whether a parameter (``s3://...`` or ``--flag=s3://...``) names an S3 location: S3A is then loaded."""
    return any(
        item.startswith(S3_SCHEMES) or item.partition("=")[2].startswith(S3_SCHEMES) for item in parameters
    )


def s3_conf(environ: Mapping[str, str]) -> dict[str, str]:
    """What a cluster's instance profile gives its Spark: ``s3://`` through S3A with the default AWS credential
    chain; locally ``environ`` (the server's run_env) stands for the profile, with an S3 API endpoint of its own."""
    conf = {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.aws.credentials.provider":
            "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
    }  # fmt: skip
    if region := environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"):
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    if endpoint := environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL"):
        conf |= {
            "spark.hadoop.fs.s3a.endpoint": endpoint,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint.startswith("https://")).lower(),
        }
    return conf


def spark_conf(cluster_conf: Mapping[str, str], jars: Sequence[str], local_dir: str,
               s3: Mapping[str, str]) -> dict[str, str]:  # fmt: skip
    """The driver's Spark configuration: the runtime's defaults (scratch space in ``local_dir``, the task's own
    as a cluster's local disk, and S3 access), then the job cluster's spark_conf over them, then what the runtime
    always sets: Delta, and its jars."""
    defaults = {**RUNTIME_CONF, "spark.local.dir": local_dir, **s3}
    return {**defaults, **cluster_conf, **DELTA_CONF, "spark.jars": ",".join(jars)}


def task_env(server_env: Mapping[str, str], cluster_env: Mapping[str, str], run_env: Mapping[str, str],
             home: str, libraries: str, python: str) -> dict[str, str]:  # fmt: skip
    """A task process's environment: a few of the server's variables, the job cluster's spark_env_vars and the
    server's run_env (standing for the cluster's instance profile), never the server's whole environment.
    ``libraries`` (the run's installed wheels) is on PYTHONPATH, where a cluster's libraries are importable."""
    env = {name: server_env[name] for name in INHERITED_ENV if name in server_env}
    env.setdefault("LANG", "C.UTF-8")
    return {**env, **cluster_env, **run_env, "HOME": home, "PYTHONPATH": libraries, "PYSPARK_PYTHON": python}


def run_outcome(results: Mapping[str, Outcome], canceled: bool) -> Outcome:
    """The run's state from its tasks' (in execution order): CANCELED when cancelled, else FAILED naming the
    first failed task (INTERNAL_ERROR when that task's cluster library failed), else SUCCESS."""
    if canceled:
        return Outcome("CANCELED", message="Run cancelled.")
    for key, outcome in results.items():
        if outcome.result == "FAILED":
            message = (f"Task {key} failed with message: {outcome.error}. "
                       "This caused all downstream tasks to get skipped.")  # fmt: skip
            return Outcome("FAILED", life_cycle=outcome.life_cycle, message=message)
    return Outcome("SUCCESS")


def tail(data: bytes, limit: int = LOGS_LIMIT) -> tuple[str, bool]:
    """The last ``limit`` bytes of a task's output as text, and whether anything was cut."""
    return data[-limit:].decode(errors="replace"), len(data) > limit
