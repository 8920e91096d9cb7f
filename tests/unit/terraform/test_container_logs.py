"""The container-logs module's metric filters match what the operator really logs, as Fluent Bit ships it.

The operator's lines are formatted here by kopf's JSON formatter (what ``anthill operator run`` installs), then
wrapped the way the CloudWatch Observability add-on's Fluent Bit writes a container's line (``log``, the parsed
JSON under ``log_processed``, the pod under ``kubernetes``), and each filter pattern is evaluated on them.
"""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

import pytest
from kopf._core.actions.loggers import ObjectJsonFormatter

from anthill.runs import (
    ERROR_SEVERITY,
    EVENT_FIELD,
    FEED_KIND,
    HEARTBEAT,
    RUN_FAILED,
    SEVERITY_FIELD,
    FailedRun,
    RunReporter,
    heartbeat,
)
from tests.helpers import REPO
from tests.unit.terraform.hcl import MODULES, locals_of

MODULE = MODULES / "container-logs"
NAMESPACE, CONTAINER = "anthill-system", "operator"  # the module's defaults, checked below
_TERM = re.compile(r'^\$\.([A-Za-z_.]+) = "([^"]*)"$')


def _patterns() -> dict[str, str]:
    found = locals_of(MODULE)
    operator = found["operator"].replace("${var.operator.namespace}", NAMESPACE)
    operator = operator.replace("${var.operator.container}", CONTAINER)
    return {
        key: alarm["pattern"].replace("${local.operator}", operator) for key, alarm in found["alarms"].items()
    }


def matches(pattern: str, record: dict[str, Any]) -> bool:
    """CloudWatch's JSON filter syntax, as far as the module uses it: ``{ $.a.b = "v" && ... }``."""
    body = pattern.strip()
    assert body[0] + body[-1] == "{}", pattern
    for term in body[1:-1].split("&&"):
        match = _TERM.match(term.strip())
        assert match, f"unsupported term {term!r}"
        value: Any = record
        for key in match.group(1).split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value != match.group(2):
            return False
    return True


def _shipped(line: str, container: str = CONTAINER) -> dict[str, Any]:
    """A container's line as Fluent Bit's kubernetes filter (Merge_Log, Merge_Log_Key log_processed) ships it."""
    return {
        "time": "2026-11-28T03:02:00.000000000Z",
        "stream": "stderr",
        "log": line,
        "log_processed": json.loads(line),
        "kubernetes": {
            "namespace_name": NAMESPACE,
            "container_name": container,
            "pod_name": "anthill-operator-0",
        },
    }


def _operator_lines(emit: Any) -> list[str]:
    """What ``emit()`` logs through the operator's loggers, one JSON line each (kopf's JSON format)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ObjectJsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        emit()
    finally:
        root.setLevel(level)
        root.removeHandler(handler)
    return stream.getvalue().splitlines()


def _run_failed() -> None:
    RunReporter().report(FailedRun(FEED_KIND, "market", "spy", "u", "spy-1", "BackoffLimitExceeded"), None)


def _heartbeat() -> None:
    stop = _Stopped()
    heartbeat(300, stop)  # type: ignore[arg-type]


class _Stopped:
    """An event that stops the heartbeat after its first line."""

    def __init__(self) -> None:
        self.calls = 0

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls > 1

    def wait(self, _: float) -> bool:
        return True


def _reconcile_error() -> None:
    # kopf's own line for a handler that raised (TemporaryError), on the logger it uses for objects
    logging.getLogger("kopf.objects").error("Handler 'reconcile' failed temporarily: 503 Service Unavailable")


def _reconcile_info() -> None:
    logging.getLogger("anthill.pipeline.reconcile").info("created job 7 for market/local")


LINES = {
    "run-failed": _run_failed,
    "heartbeat": _heartbeat,
    "reconcile-error": _reconcile_error,
    "info": _reconcile_info,
}


@pytest.mark.parametrize(
    ("alarm", "line", "matched"),
    [
        pytest.param("run-failed", "run-failed", True, id="a failed run counts"),
        pytest.param("run-failed", "heartbeat", False, id="a heartbeat is no failed run"),
        pytest.param("operator-errors", "reconcile-error", True, id="kopf's failed reconcile counts"),
        pytest.param(
            "operator-errors", "run-failed", False, id="a failed run is the workload's, not an error"
        ),
        pytest.param("operator-errors", "info", False, id="info lines do not count"),
        pytest.param("operator-silent", "heartbeat", True, id="the heartbeat keeps the silence alarm quiet"),
        pytest.param("operator-silent", "info", False, id="other lines are no heartbeat"),
    ],
)
def test_each_filter_matches_the_line_the_operator_writes(alarm: str, line: str, matched: bool) -> None:
    (text,) = _operator_lines(LINES[line])
    assert matches(_patterns()[alarm], _shipped(text)) is matched


def test_filters_match_only_the_operators_container() -> None:
    (text,) = _operator_lines(_run_failed)
    assert not matches(_patterns()["run-failed"], _shipped(text, container="ingest"))


def test_the_filters_name_the_operators_field_names_and_values() -> None:
    """The constants the filters spell out are the operator's own."""
    patterns = _patterns()
    assert f'$.log_processed.{EVENT_FIELD} = "{RUN_FAILED}"' in patterns["run-failed"]
    assert f'$.log_processed.{SEVERITY_FIELD} = "{ERROR_SEVERITY}"' in patterns["operator-errors"]
    assert f'$.log_processed.{EVENT_FIELD} = "{HEARTBEAT}"' in patterns["operator-silent"]


def test_the_operator_defaults_are_where_the_chart_and_gitops_put_it() -> None:
    variables = (MODULE / "variables.tf").read_text()
    assert f'namespace = optional(string, "{NAMESPACE}")' in variables
    assert f'container = optional(string, "{CONTAINER}")' in variables
    assert (
        f"- name: {CONTAINER}\n"
        in (REPO / "charts" / "anthill" / "templates" / "deployment.yaml").read_text()
    )
    # Argo CD deploys the operator into the namespace Terraform's bootstrap gives the ApplicationSet.
    assert f"operatorNamespace: {NAMESPACE}" in (REPO / "gitops" / "bootstrap" / "values.yaml").read_text()
    bootstrap = (REPO / "terraform" / "modules" / "platform-bootstrap" / "variables.tf").read_text()
    assert f'default     = "{NAMESPACE}"' in bootstrap.split('variable "operator_namespace"')[1].split("}")[0]


def test_missing_data_is_breaching_only_for_the_heartbeat() -> None:
    """No datapoint means no matching line: no failure, no error; but for the heartbeat, a silent operator."""
    treat = {key: alarm["treat_missing_data"] for key, alarm in locals_of(MODULE)["alarms"].items()}
    assert treat == {
        "run-failed": "notBreaching",
        "operator-errors": "notBreaching",
        "operator-silent": "breaching",
    }
