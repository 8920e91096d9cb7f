"""The local Databricks server's decisions about runs: task order, skips, parameters, configuration, states."""

from __future__ import annotations

import ast
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from anthill_sandbox.databricks import runs
from anthill_sandbox.databricks.launcher import error_line
from anthill_sandbox.databricks.runs import Outcome, UnsupportedTaskError


def _task(key: str, *needs: str) -> dict[str, Any]:
    return {"task_key": key, "depends_on": [{"task_key": need} for need in needs]}


@pytest.mark.parametrize(
    ("tasks", "order"),
    [
        pytest.param([_task("silver"), _task("gold", "silver")], ["silver", "gold"], id="operator-job"),
        # The job lists a task before the one it depends on: it still runs after it.
        pytest.param([_task("gold", "silver"), _task("silver")], ["silver", "gold"], id="listed-backwards"),
        # Independent tasks keep the job's order, so a run is repeatable.
        pytest.param(
            [_task("b"), _task("a"), _task("c", "a", "b")], ["b", "a", "c"], id="ties-keep-job-order"
        ),
        pytest.param(
            [_task("d", "b", "c"), _task("c", "a"), _task("b", "a"), _task("a")],
            ["a", "c", "b", "d"],
            id="diamond",
        ),
    ],
)
def test_tasks_run_after_what_they_depend_on(tasks: list[dict[str, Any]], order: list[str]) -> None:
    assert runs.task_order(tasks) == order


def test_a_cycle_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedTaskError, match=r"\['a', 'b'\]"):
        runs.task_order([_task("a", "b"), _task("b", "a")])


@pytest.mark.parametrize(
    ("upstream", "result"),
    [
        pytest.param([], None, id="no-dependencies-runs"),
        pytest.param(["SUCCESS", "SUCCESS"], None, id="all-succeeded-runs"),
        pytest.param(["SUCCESS", "FAILED"], "UPSTREAM_FAILED", id="a-failure-skips-dependants"),
        # A skip propagates: the dependants of a skipped task are skipped for the same reason.
        pytest.param(["UPSTREAM_FAILED"], "UPSTREAM_FAILED", id="skip-propagates"),
        pytest.param(["CANCELED"], "UPSTREAM_CANCELED", id="a-cancel-is-not-a-failure"),
        pytest.param(["FAILED", "UPSTREAM_CANCELED"], "UPSTREAM_CANCELED", id="cancel-wins"),
    ],
)
def test_all_success_runs_a_task_only_when_every_dependency_succeeded(
    upstream: list[str], result: str | None
) -> None:
    assert runs.skipped(upstream) == result


@pytest.mark.parametrize(
    ("task", "message"),
    [
        # ALL_DONE and the others would need Databricks' exact rules for each upstream result: refused, not guessed.
        pytest.param({"python_wheel_task": {}, "run_if": "ALL_DONE"}, "run_if ALL_DONE", id="other-run-if"),
        pytest.param({"notebook_task": {}}, "only python_wheel_task", id="notebook-task"),
    ],
)
def test_what_the_server_cannot_execute_is_refused_before_anything_runs(
    task: dict[str, Any], message: str
) -> None:
    tasks = [{"task_key": "first", "python_wheel_task": {}}, {"task_key": "second", **task}]
    with pytest.raises(UnsupportedTaskError, match=f"task second: {message}"):
        runs.check_tasks(tasks)
    runs.check_tasks(tasks[:1])


TRACE = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: no bronze\n'


@pytest.mark.parametrize(
    ("returncode", "reported", "canceled", "expected"),
    [
        pytest.param(0, None, False, Outcome("SUCCESS"), id="exit-0-succeeds"),
        pytest.param(
            1,
            {"error": "ValueError: no bronze", "error_trace": TRACE},
            False,
            Outcome(
                "FAILED", error="ValueError: no bronze", error_trace=TRACE, message="ValueError: no bronze"
            ),
            id="uncaught-exception-is-its-last-line",
        ),
        # argparse's usage error: sys.exit(2), reported by the launcher as SystemExit.
        pytest.param(
            2,
            {"error": "SystemExit: 2", "error_trace": "..."},
            False,
            Outcome("FAILED", error="SystemExit: 2", error_trace="...", message="SystemExit: 2"),
            id="non-zero-exit-fails",
        ),
        # The process died before the launcher could say why (the JVM took the machine's memory, say).
        pytest.param(
            -signal.SIGKILL,
            None,
            False,
            Outcome(
                "FAILED",
                error="The Python process was killed by SIGKILL.",
                message="The Python process was killed by SIGKILL.",
            ),
            id="killed-without-a-word",
        ),
        pytest.param(
            3,
            None,
            False,
            Outcome(
                "FAILED",
                error="The Python process exited with code 3.",
                message="The Python process exited with code 3.",
            ),
            id="exit-code-without-a-word",
        ),
        # A cancel's SIGTERM ends the process with an error of its own: that is not the task failing.
        pytest.param(
            -signal.SIGTERM, None, True, Outcome("CANCELED", message="Run cancelled."), id="cancelled"
        ),
    ],
)
def test_a_wheel_tasks_exit_maps_as_on_databricks(returncode: int, reported: dict[str, str] | None,
                                                  canceled: bool, expected: Outcome) -> None:  # fmt: skip
    assert runs.exit_outcome(returncode, reported, canceled) == expected


@pytest.mark.parametrize(
    ("parameters", "kept", "dropped"),
    [
        pytest.param(
            ["--lake", "file:///l", "--bronze", "b"],
            ["--lake", "file:///l", "--bronze", "b"],
            [],
            id="no-catalog-untouched",
        ),
        pytest.param(
            [
                "--lake",
                "s3://l",
                "--catalog",
                "anthill_dev",
                "--silver-schema",
                "silver",
                "--gold-schema",
                "gold",
                "--gold",
                "daily_returns",
            ],
            ["--lake", "s3://l", "--gold", "daily_returns"],
            ["--catalog anthill_dev", "--silver-schema silver", "--gold-schema gold"],
            id="operator-catalog-dropped",
        ),
        # argparse takes --flag=value too; --gold (a table list) is not --gold-schema.
        pytest.param(
            ["--catalog=c", "--gold=daily_returns"],
            ["--gold=daily_returns"],
            ["--catalog c"],
            id="equals-form",
        ),
    ],
)
def test_unity_catalog_names_are_dropped_and_named(parameters: list[str], kept: list[str],
                                                   dropped: list[str]) -> None:  # fmt: skip
    assert runs.local_parameters(parameters) == (kept, dropped)


@pytest.mark.parametrize(
    ("parameters", "s3"),
    [
        pytest.param(["--lake", "file:///tmp/lake"], False, id="file-lake"),
        pytest.param(["--lake", "s3://bucket/market"], True, id="s3-lake"),
        pytest.param(
            ["--lake", "file:///l", "--bronze=s3a://b/bronze/market/f"], True, id="s3a-bronze-equals"
        ),
    ],
)
def test_s3a_is_loaded_only_when_a_location_is_on_s3(parameters: list[str], s3: bool) -> None:
    assert runs.uses_s3(parameters) is s3


def test_the_runtime_provides_delta_and_its_jars_whatever_the_cluster_says() -> None:
    conf = runs.spark_conf(
        {"spark.master": "local[*, 4]", "spark.sql.session.timeZone": "America/New_York",
         "spark.sql.extensions": "something.Else"},
        ["/c/delta.jar", "/c/storage.jar"],
        "/runs/run-1/silver/local",
        {},
    )  # fmt: skip
    assert conf["spark.master"] == "local[*, 4]"  # the single-node cluster's own setting
    assert conf["spark.sql.session.timeZone"] == "America/New_York"  # a cluster may change the default UTC
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.jars"] == "/c/delta.jar,/c/storage.jar"
    assert conf["spark.local.dir"] == "/runs/run-1/silver/local"  # Spark's scratch files stay with the task
    assert runs.spark_conf({}, [], "/l", {})["spark.sql.session.timeZone"] == "UTC"


def test_a_task_gets_a_minimal_environment_never_the_servers() -> None:
    server = {
        "PATH": "/usr/bin",
        "LANG": "en_US.UTF-8",
        "DATABRICKS_TOKEN": "dapi-x",
        "AWS_SECRET_ACCESS_KEY": "s",
    }
    env = runs.task_env(server, {"PYSPARK_PYTHON": "/x", "TZ": "UTC"}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
                        "/run/home", "/run/libraries", "/rt/bin/python")  # fmt: skip
    assert env == {"PATH": "/usr/bin", "LANG": "en_US.UTF-8", "TZ": "UTC", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
                   "HOME": "/run/home", "PYTHONPATH": "/run/libraries", "PYSPARK_PYTHON": "/rt/bin/python"}  # fmt: skip


@pytest.mark.parametrize(
    ("results", "canceled", "expected"),
    [
        pytest.param(
            {"a": Outcome("SUCCESS"), "b": Outcome("SUCCESS")}, False, Outcome("SUCCESS"), id="success"
        ),
        pytest.param(
            {"a": Outcome("FAILED", error="ValueError: x"), "b": Outcome("UPSTREAM_FAILED")},
            False,
            Outcome(
                "FAILED",
                message="Task a failed with message: ValueError: x. "
                "This caused all downstream tasks to get skipped.",
            ),
            id="names-the-first-failed-task",
        ),
        pytest.param(
            {"a": runs.library_failure("/V/w.whl", "gone")},
            False,
            Outcome(
                "FAILED",
                life_cycle="INTERNAL_ERROR",
                message="Task a failed with message: Library installation failed for library due to "
                'user error for whl: "/V/w.whl". Error messages: gone. '
                "This caused all downstream tasks to get skipped.",
            ),
            id="library-failure-is-internal-error",
        ),
        pytest.param(
            {"a": Outcome("CANCELED"), "b": Outcome("UPSTREAM_CANCELED")},
            True,
            Outcome("CANCELED", message="Run cancelled."),
            id="cancelled",
        ),
    ],
)
def test_a_runs_state_follows_its_tasks(
    results: dict[str, Outcome], canceled: bool, expected: Outcome
) -> None:
    assert runs.run_outcome(results, canceled) == expected


def test_only_distributions_the_runtime_provides_are_refused() -> None:
    assert runs.provided(["anthill_spark", "rich", "PySpark", "delta_spark", "typer"]) == [
        "delta-spark",
        "pyspark",
    ]


def test_logs_keep_their_tail() -> None:
    assert runs.tail(b"0123456789", limit=4) == ("6789", True)
    assert runs.tail(b"short", limit=10) == ("short", False)


def test_a_resolved_closure_names_every_distribution_it_would_install() -> None:
    """``uv pip compile``'s listing, wheel path and annotations included, as the runner checks it."""
    listing = "bronze-tools @ file:///runs/w/bronze_tools-0.1-py3-none-any.whl\npy4j==0.10.9.9\n    # via pyspark\npyspark==4.0.5\n"
    names = runs.requirement_names(listing)
    assert names == ["bronze-tools", "py4j", "pyspark"]
    assert runs.provided(names) == ["py4j", "pyspark"]


def test_the_launcher_imports_only_what_the_runtime_has() -> None:
    """It runs in the runtime environment, where nothing of Anthill's is installed but the task's own wheel."""
    tree = ast.parse(Path(runs.__file__).with_name("launcher.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}  # fmt: skip
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}  # fmt: skip
    assert imported - set(sys.stdlib_module_names) == {"pyspark"}


class Py4JJavaError(Exception):
    """What py4j raises: its message names the JVM call, then the Java exception on a line starting ": "."""


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        pytest.param(ValueError("no bronze"), "ValueError: no bronze", id="plain"),
        # A message on several lines: its first is the error, the rest stays in the trace.
        pytest.param(
            RuntimeError("silver failed\nsee above"), "RuntimeError: silver failed", id="multi-line"
        ),
        pytest.param(
            Py4JJavaError(
                "An error occurred while calling o63.parquet.\n: org.apache.spark.SparkException: "
                "Job aborted.\n\tat org.apache.spark.Foo(Foo.scala:1)"
            ),
            "tests.unit.sandbox.test_databricks_runs.Py4JJavaError: An error occurred while calling o63.parquet. "
            "org.apache.spark.SparkException: Job aborted.",
            id="py4j-carries-the-java-exception",
        ),
    ],
)
def test_a_tasks_error_is_the_exceptions_own_line(exc: BaseException, line: str) -> None:
    assert error_line(exc) == line
