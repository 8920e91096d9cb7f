"""A local Databricks Jobs API (2.2) server for the endpoints the operator calls through ``databricks-sdk``.

Jobs create/reset/update/get/list/delete and run-now, runs get/list/get-output/cancel/cancel-all, the caller's identity (SCIM ``Me``, with
the workspace id in ``X-Databricks-Org-Id``), with Databricks' error bodies
(``{"error_code", "message"}``), bearer-token auth (personal access tokens, or OAuth machine-to-machine tokens
from ``/oidc/v1/token``), and request bodies checked against the SDK's own dataclasses, so a field the real
API would not know is a 400 here too. Server-side defaults are filled in on create and reset, as Databricks
does, so clients must late-initialise them. Faults can be injected (429 with Retry-After, 500, latency, an echo of the request as some other host's answer),
with a seeded RNG so a run is repeatable. Serves on loopback only; state lives in memory.

The Files API (``/api/2.0/fs/files`` and ``/fs/directories``) serves Unity Catalog volumes the state names.

Runs execute for real, asynchronously as on Databricks: each task's wheel libraries are installed from the Files
store and its python_wheel_task entry point runs with local Spark and Delta in a runtime environment that holds
what Databricks Runtime provides and nothing else. ``WorkspaceState.run_mode`` "succeed" or "hold" instead end
runs at once or keep them RUNNING, for tests of the API alone.

Where things are: ``state`` (the workspace, its credentials and faults), ``jobs`` (the Jobs API endpoints and
paging), ``files`` (the Files API over volumes), ``settings`` (Databricks' checks on job settings, its defaults, jobs/update's merge), ``validation``
(bodies against the SDK's dataclasses), ``errors`` (the error answers), ``server`` (HTTP, auth, routing),
``runs`` (what a run's tasks get and how their ends are reported: pure), ``runner`` (runs executed),
``runtime_env`` (the runtime environment), ``launcher`` (the script a task's process runs).
"""

from anthill_sandbox.databricks.server import DatabricksServer
from anthill_sandbox.databricks.state import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TOKEN,
    DEFAULT_USER,
    DEFAULT_WORKSPACE_ID,
    DatabricksFaults,
    Echo,
    Principal,
    WorkspaceState,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_TOKEN",
    "DEFAULT_USER",
    "DEFAULT_WORKSPACE_ID",
    "DatabricksFaults",
    "DatabricksServer",
    "Echo",
    "Principal",
    "WorkspaceState",
]
