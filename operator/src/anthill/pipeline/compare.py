"""Whether a Databricks job matches its desired settings, and which server-filled values to keep.

Crossplane's late initialisation: a field the desired settings leave out but the job has (Databricks fills
``timeout_seconds``, ``format``, ``run_as``, a task's ``run_if`` ...) is adopted, not diffed, so the job does
not flap between our settings and the server's defaults. Lists of keyed entries (tasks, job clusters,
dependencies) are matched by key, so their order never counts.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from databricks.sdk.service.jobs import JobSettings

# Lists whose entries Databricks identifies by a key; they compare as sets keyed by it.
LIST_KEYS = {
    "tasks": "task_key",
    "job_clusters": "job_cluster_key",
    "depends_on": "task_key",
    "environments": "environment_key",
    "parameters": "name",
}


def _keyed(name: str, value: Any) -> str | None:
    """The key of the list ``name`` when ``value`` is a list of entries that all carry it."""
    key = LIST_KEYS.get(name)
    if key is None or not isinstance(value, list):
        return None
    return key if all(isinstance(entry, dict) and key in entry for entry in value) else None


def late_initialize(desired: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    """``desired`` plus every field only ``observed`` has, recursively; keyed entries are merged by key.

    Entries of a keyed list that only ``observed`` has (a task added in the UI) are not adopted: the list's
    membership is ours. Values both sides set keep the desired one.
    """
    out = copy.deepcopy(desired)
    for name, value in observed.items():
        if name not in out:
            out[name] = copy.deepcopy(value)
        elif isinstance(out[name], dict) and isinstance(value, dict):
            out[name] = late_initialize(out[name], value)
        elif (key := _keyed(name, out[name])) is not None and _keyed(name, value) == key:
            theirs = {entry[key]: entry for entry in value}
            out[name] = [late_initialize(e, theirs[e[key]]) if e[key] in theirs else e for e in out[name]]
    return out


def canonical(value: Any, name: str = "") -> Any:
    """``value`` with keyed lists sorted by key, so equal settings compare equal whatever their order."""
    if isinstance(value, dict):
        return {key: canonical(item, key) for key, item in value.items()}
    if isinstance(value, list):
        items = [canonical(item) for item in value]
        key = _keyed(name, items)
        return sorted(items, key=lambda entry: entry[key]) if key else items
    return value


def settings_to_apply(desired: JobSettings, observed: JobSettings) -> JobSettings:
    """What ``jobs.reset`` should send: the desired settings with the server's values late-initialised."""
    from databricks.sdk.service.jobs import JobSettings  # noqa: PLC0415 - loaded with Databricks only

    return JobSettings.from_dict(late_initialize(desired.as_dict(), observed.as_dict()))


def needs_update(desired: JobSettings, observed: JobSettings) -> bool:
    """Whether ``observed`` differs from ``desired`` in anything ``desired`` sets (order of keyed lists aside)."""
    observed_dict = observed.as_dict()
    return bool(canonical(late_initialize(desired.as_dict(), observed_dict)) != canonical(observed_dict))
