"""Runs executed for real: each run on a thread of its own, each task in a process of the runtime environment.

run-now returns at once, as on Databricks, while a thread takes the run through PENDING (the cluster is being
prepared: the runtime environment built if missing), RUNNING (its tasks, in dependency order) and TERMINATING
to TERMINATED, or INTERNAL_ERROR. For each task it installs the task's wheel libraries from the Files store into
the run's library folder (``uv pip install --target``, as a cluster installs its libraries), then runs the
python_wheel_task's entry point through ``launcher`` with the runtime's Python, in a process group of its own
so that a cancel stops it and its JVM. What the task prints, Spark's JVM included, goes to the task's log,
which ``runs/get-output`` returns. Decisions (order, skips, parameters, configuration, states) are ``runs``'.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from anthill_sandbox.databricks import runs
from anthill_sandbox.databricks.runs import Outcome, UnsupportedTaskError
from anthill_sandbox.databricks.runtime_env import UV, RuntimeEnv, ensure_runtime
from anthill_sandbox.databricks.state import WorkspaceState
from anthill_spark.jars import ARTIFACTS, ensure_jars, s3a_artifacts

LAUNCHER = Path(__file__).with_name("launcher.py")
CANCEL_GRACE = 10.0  # seconds a cancelled task's processes get to end on SIGTERM before SIGKILL


class LibraryError(Exception):
    """A task's library could not be installed; carries the task's outcome."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


class Runner:
    """Executes the runs of a :class:`WorkspaceState`; every change to a run's record holds the state's lock."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        self._threads: dict[int, threading.Thread] = {}
        self._processes: dict[int, subprocess.Popen[bytes]] = {}  # task run id -> its running process
        self._pids: dict[int, int] = {}  # task run id -> the pid its process had
        self._canceled: dict[int, float] = {}  # run id -> when it was cancelled
        self._logs: dict[int, Path] = {}  # task run id -> its output
        self._installed: dict[Path, set[str]] = {}  # a run's library folder -> the wheels installed in it
        self._errors: dict[int, Outcome] = {}  # task run id -> how it ended
        self._root: Path | None = None
        self._own_root = False

    def start(self, run_id: int) -> None:
        thread = threading.Thread(target=self._execute, args=(run_id,), name=f"databricks-run-{run_id}",
                                  daemon=True)  # fmt: skip
        with self.state.lock:
            self._threads[run_id] = thread
        thread.start()

    def cancel(self, run_id: int) -> bool:
        """Stop the run: its running task's processes get SIGTERM (SIGKILL after a grace), the rest never start.
        False when this runner is not executing the run."""
        with self.state.lock:
            if run_id not in self._threads or not self._threads[run_id].is_alive():
                return False
            self._canceled.setdefault(run_id, time.monotonic())
            task_ids = [task["run_id"] for task in self.state.runs[run_id].get("tasks", [])]
            running = [self._processes[t] for t in task_ids if t in self._processes]
        for process in running:
            _signal_group(process.pid, signal.SIGTERM)
        return True

    def pid(self, task_run_id: int) -> int | None:
        """The process id a task ran as (it may have ended): what a test checks a cancel against."""
        with self.state.lock:
            return self._pids.get(task_run_id)

    def output(self, task_run_id: int) -> tuple[Path | None, Outcome | None]:
        """A task's log file (None before it started) and how it ended (None while it has not)."""
        with self.state.lock:
            return self._logs.get(task_run_id), self._errors.get(task_run_id)

    def shutdown(self) -> None:
        """Cancel every active run and wait for them; remove the folder the runs were kept in when it was ours."""
        with self.state.lock:
            active = [run_id for run_id, thread in self._threads.items() if thread.is_alive()]
        for run_id in active:
            self.cancel(run_id)
        for run_id in active:
            self._threads[run_id].join(timeout=CANCEL_GRACE * 3)
        if self._own_root and self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    # The run's thread.

    def _execute(self, run_id: int) -> None:
        with self.state.lock:
            run = copy.deepcopy(self.state.runs[run_id])
        tasks = {task["task_key"]: task for task in run["tasks"]}
        results: dict[str, Outcome] = {}
        try:
            order = runs.task_order(run["tasks"])
            runs.check_tasks(run["tasks"])
            environment = ensure_runtime()
            self._set_run(run_id, life_cycle="RUNNING")
            for key in order:
                task = tasks[key]
                upstream = [results[d["task_key"]].result for d in task.get("depends_on") or []]
                skipped = runs.skipped(upstream)
                if skipped is None and run_id in self._canceled:
                    skipped = "CANCELED"
                if skipped is not None:
                    results[key] = Outcome(skipped, message=_SKIPPED.get(skipped, ""))
                    self._set_task(run_id, key, results[key])
                    continue
                results[key] = self._run_task(run_id, run, task, environment)
        except Exception as exc:  # whatever stops a run is its INTERNAL_ERROR
            self._end_run(run_id, Outcome("FAILED", life_cycle="INTERNAL_ERROR", message=str(exc)), results)
            return
        self._end_run(run_id, runs.run_outcome(results, run_id in self._canceled), results)

    def _run_task(
        self, run_id: int, run: Mapping[str, Any], task: Mapping[str, Any], env: RuntimeEnv
    ) -> Outcome:
        key, task_run_id = task["task_key"], task["run_id"]
        folder = self._folder(run_id) / key
        (folder / "home").mkdir(parents=True, exist_ok=True)
        log = folder / "output.log"
        started = self.state.now_ms()
        self._set_task(run_id, key, None, life_cycle="PENDING", start_time=started)
        with self.state.lock:
            self._logs[task_run_id] = log
        try:
            wheel = task["python_wheel_task"]
            libraries = self._folder(run_id) / "libraries"
            self._install(task, libraries, env, folder)
            cluster = _cluster(run, task)
            parameters, dropped = runs.local_parameters(wheel.get("parameters") or [])
            log.write_text(f"{runs.catalog_note(dropped)}\n" if dropped else "")
            run_env = dict(self.state.run_env)
            s3 = runs.uses_s3(parameters)
            jars = ensure_jars(ARTIFACTS + (s3a_artifacts(env.hadoop_version()) if s3 else ()))
            conf = runs.spark_conf(cluster.get("spark_conf") or {}, [str(jar) for jar in jars], str(folder / "local"),
                                   runs.s3_conf({**run_env, **(cluster.get("spark_env_vars") or {})}) if s3 else {})  # fmt: skip
            spec = folder / "task.json"
            result = folder / "result.json"
            spec.write_text(json.dumps({"conf": conf, "package_name": wheel["package_name"],
                                        "entry_point": wheel["entry_point"], "parameters": parameters,
                                        "result": str(result)}))  # fmt: skip
            environ = runs.task_env(os.environ, cluster.get("spark_env_vars") or {}, run_env,
                                    str(folder / "home"), str(libraries), str(env.python))  # fmt: skip
        except LibraryError as exc:
            return self._end_task(run_id, key, exc.outcome, started)
        except UnsupportedTaskError as exc:
            return self._end_task(run_id, key, Outcome("FAILED", error=str(exc), message=str(exc)), started)
        if run_id in self._canceled:  # cancelled while its libraries were being installed: it never starts
            return self._end_task(run_id, key, runs.exit_outcome(0, None, canceled=True), started)
        running = self.state.now_ms()
        self._set_task(run_id, key, None, life_cycle="RUNNING", setup_duration=running - started)
        returncode = self._launch(
            run_id, task_run_id, [str(env.python), str(LAUNCHER), str(spec)], environ, log, folder
        )
        reported = json.loads(result.read_text()) if result.exists() else None
        outcome = runs.exit_outcome(returncode, reported, run_id in self._canceled)
        return self._end_task(run_id, key, outcome, started, execution=self.state.now_ms() - running)

    def _install(self, task: Mapping[str, Any], libraries: Path, env: RuntimeEnv, folder: Path) -> None:
        """The task's wheel libraries from the Files store into ``libraries``, as a cluster installs them."""
        for library in task.get("libraries") or []:
            whl = library.get("whl")
            if whl is None:
                raise LibraryError(
                    runs.library_failure(str(library), "only whl libraries install on the local server")
                )
            with self.state.lock:
                data = self.state.files.get(whl)
            if data is None:
                raise LibraryError(runs.library_failure(whl, f"{whl} does not exist."))
            with self.state.lock:
                if whl in self._installed.get(libraries, set()):
                    continue  # the cluster has it already (an earlier task of the run installed it)
            local = folder / "wheels" / Path(whl).name
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(data)
            # Resolve first: what the wheel would install, checked before anything lands in the cluster.
            resolved = _uv_pip(env, ["compile", "--quiet", "--no-header", "--no-annotate", "-"], str(local))
            if resolved.returncode != 0:
                raise LibraryError(runs.library_failure(whl, resolved.stderr.strip()[-3000:]))
            if clash := runs.provided(runs.requirement_names(resolved.stdout)):
                detail = (f"it installs {', '.join(clash)}, which Databricks Runtime provides; a library's own copy "
                          "replaces the runtime's and breaks the cluster's Spark.")  # fmt: skip
                raise LibraryError(runs.library_failure(whl, detail))
            installed = _uv_pip(env, ["install", "--quiet", "--target", str(libraries), str(local)])
            if installed.returncode != 0:
                raise LibraryError(runs.library_failure(whl, installed.stderr.strip()[-3000:]))
            with self.state.lock:
                self._installed.setdefault(libraries, set()).add(whl)

    def _launch(self, run_id: int, task_run_id: int, command: list[str], environ: dict[str, str], log: Path,
                folder: Path) -> int:  # fmt: skip
        """Run the task's process to its end in a process group of its own; its output is appended to ``log``."""
        with log.open("ab") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=environ, cwd=folder, start_new_session=True)  # fmt: skip
        with self.state.lock:
            self._processes[task_run_id] = process
            self._pids[task_run_id] = process.pid
            canceled = run_id in self._canceled
        if canceled:  # cancelled while the task was being set up
            _signal_group(process.pid, signal.SIGTERM)
        while True:
            try:
                returncode = process.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                since = self._canceled.get(run_id)
                if since is not None and time.monotonic() - since > CANCEL_GRACE:
                    _signal_group(process.pid, signal.SIGKILL)
        self._set_task(run_id, self._key(run_id, task_run_id), None, life_cycle="TERMINATING")
        _tear_down(process.pid)
        with self.state.lock:
            del self._processes[task_run_id]
        return returncode

    # Records.

    def _folder(self, run_id: int) -> Path:
        with self.state.lock:
            if self._root is None:
                self._own_root = self.state.run_root is None
                self._root = self.state.run_root or Path(tempfile.mkdtemp(prefix="anthill-databricks-runs-"))
        return self._root / f"run-{run_id}"

    def _key(self, run_id: int, task_run_id: int) -> str:
        with self.state.lock:
            key: str = next(
                t["task_key"] for t in self.state.runs[run_id]["tasks"] if t["run_id"] == task_run_id
            )
            return key

    def _end_task(self, run_id: int, key: str, outcome: Outcome, started: int, execution: int = 0) -> Outcome:
        ended = self.state.now_ms()
        self._set_task(run_id, key, outcome, end_time=ended, execution_duration=execution,
                       cleanup_duration=0, run_duration=ended - started)  # fmt: skip
        return outcome

    def _set_task(self, run_id: int, key: str, outcome: Outcome | None, life_cycle: str | None = None,
                  **fields: int) -> None:  # fmt: skip
        with self.state.lock:
            for task in self.state.runs[run_id]["tasks"]:
                if task["task_key"] != key:
                    continue
                if outcome is not None:
                    task["state"] = _state(outcome.life_cycle, outcome.result, outcome.message)
                    self._errors[task["run_id"]] = outcome
                elif life_cycle is not None:
                    task["state"] = _state(life_cycle)
                task.update(fields)

    def _set_run(self, run_id: int, life_cycle: str) -> None:
        with self.state.lock:
            self.state.runs[run_id]["state"] = _state(life_cycle)

    def _end_run(self, run_id: int, outcome: Outcome, results: Mapping[str, Outcome]) -> None:
        with self.state.lock:
            run = self.state.runs[run_id]
            run["state"] = _state("TERMINATING")
            for task in run["tasks"]:  # tasks the run never reached (it stopped on an internal error)
                if task["task_key"] not in results:
                    task["state"] = _state(outcome.life_cycle, outcome.result, outcome.message)
                    self._errors[task["run_id"]] = outcome
            end = self.state.now_ms()
            run["state"] = _state(outcome.life_cycle, outcome.result, outcome.message,
                                  canceled=run_id in self._canceled)  # fmt: skip
            run["end_time"] = end
            run["run_duration"] = end - run["start_time"]


_SKIPPED = {
    "UPSTREAM_FAILED": "Upstream task failed.",
    "UPSTREAM_CANCELED": "Upstream task was cancelled.",
    "CANCELED": "Run cancelled.",
}


def _state(
    life_cycle: str, result: str | None = None, message: str = "", canceled: bool = False
) -> dict[str, Any]:
    state: dict[str, Any] = {"life_cycle_state": life_cycle, "state_message": message,
                             "user_cancelled_or_timedout": canceled}  # fmt: skip
    if result is not None:
        state["result_state"] = result
    return state


def _cluster(run: Mapping[str, Any], task: Mapping[str, Any]) -> Mapping[str, Any]:
    """The cluster spec a task runs on: its own new_cluster or the run's job cluster it names."""
    if task.get("new_cluster"):
        cluster: Mapping[str, Any] = task["new_cluster"]
        return cluster
    for job_cluster in run.get("job_clusters") or []:
        if job_cluster["job_cluster_key"] == task.get("job_cluster_key"):
            found: Mapping[str, Any] = job_cluster["new_cluster"]
            return found
    raise UnsupportedTaskError(
        f"task {task['task_key']}: only job clusters and new clusters run on the local server"
    )


def _uv_pip(env: RuntimeEnv, args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``uv pip`` for the runtime's Python (the server's own environment: uv's cache, index and proxy settings)."""
    command = [str(UV), "pip", args[0], "--python", str(env.python), *args[1:]]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)


def _tear_down(group: int) -> None:
    """The cluster goes with the task: what is left of its process group (the JVM the entry point's session
    started, which ends by itself once its Python has gone, running its shutdown hooks that remove Spark's
    scratch folders) gets SIGTERM, and SIGKILL when it has not ended after a grace."""
    _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + CANCEL_GRACE
    while _group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.1)  # no process handle to wait on: the group's members are not our children
    _signal_group(group, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_group(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
