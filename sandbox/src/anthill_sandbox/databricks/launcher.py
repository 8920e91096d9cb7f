"""Run one python_wheel_task in the runtime environment, as a Databricks driver does.

Run by path (``python launcher.py <task.json>``) with the runtime environment's Python, so it imports nothing of
Anthill's: only the standard library, the runtime's PySpark, and the task's installed wheel. It creates the
SparkSession first, the one a Databricks driver provides (the entry point finds it active), then calls the
entry point with the task's parameters as ``sys.argv[1:]``. An uncaught exception or a non-zero exit ends the
process with a non-zero code after writing the exception's last line and its traceback to the task's result
file, which the server reports as the task's ``error`` and ``error_trace``.

``task.json``: ``{"conf": {...}, "package_name": str, "entry_point": str, "parameters": [str], "result": path}``.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import re
import signal
import sys
import traceback
from collections.abc import Callable
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1


def entry_point(package_name: str, name: str) -> Callable[[], Any]:
    """The distribution's ``console_scripts`` entry point ``name``, else ``<package_name>.<name>`` (Databricks'
    fallback when the metadata names no such entry point)."""
    wanted = _normalise(package_name)
    for distribution in distributions():
        if _normalise(distribution.metadata["Name"] or "") != wanted:
            continue
        for point in distribution.entry_points.select(group="console_scripts", name=name):
            loaded: Callable[[], Any] = point.load()
            return loaded
    module = importlib.import_module(package_name)
    function: Callable[[], Any] = getattr(module, name)
    return function


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def error_line(exc: BaseException) -> str:
    """The exception's own line (``Type: message``). A Py4JJavaError's first line only names the JVM call
    ("An error occurred while calling o63.parquet."); the Java exception it carries follows on a line of its
    own starting with ": ", and joins it, so the line says what went wrong."""
    lines = "".join(traceback.format_exception_only(exc)).strip().splitlines()
    if len(lines) > 1 and lines[1].startswith(": "):
        return f"{lines[0]} {lines[1].removeprefix(': ')}"
    return lines[0]


def _report(result: Path, exc: BaseException) -> None:
    error = error_line(exc)
    trace = "".join(traceback.format_exception(exc))
    result.write_text(json.dumps({"error": error, "error_trace": trace}))
    sys.stderr.write(trace)


def die_with_parent() -> None:
    """SIGTERM this process when the thread of the server that started it ends, so that no task outlives a
    server killed without a chance to cancel its runs (Linux's PR_SET_PDEATHSIG)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def main(task_file: str) -> int:
    die_with_parent()
    task = json.loads(Path(task_file).read_text())
    result = Path(task["result"])
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - a failure here is the task's failure

        SparkSession.builder.config(map=task["conf"]).getOrCreate()
        function = entry_point(task["package_name"], task["entry_point"])
        sys.argv = [task["entry_point"], *task["parameters"]]
        function()
    except SystemExit as exc:
        if exc.code in (None, 0):
            return 0
        _report(result, exc)
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # any failure is the task's
        _report(result, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
