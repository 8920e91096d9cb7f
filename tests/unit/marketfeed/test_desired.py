"""The pure builders: a MarketFeed's ConfigMap and CronJob, compared with stored YAML and checked by rule."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill.controller.cli import render_documents
from anthill.marketfeed.desired import (
    CRONJOB_NAME_MAX,
    FEED_LABEL,
    FEED_NAME_ANNOTATION,
    Feed,
    child_name,
    desired_configmap,
    desired_cronjob,
    feed_selector,
    is_up_to_date,
)
from anthill.naming import LABEL_VALUE_MAX
from anthill.settings import OperatorSettings
from anthill_api.marketfeed import MarketFeedSpec

REPO = Path(__file__).resolve().parents[3]
SETTINGS = OperatorSettings(_env_file=None)  # type: ignore[call-arg]


def _feed(**spec: Any) -> Feed:
    raw = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())["spec"]
    raw.update(spec)
    return Feed("daily", "market", MarketFeedSpec.model_validate(raw), uid="u-1", generation=1)


def test_children_match_the_stored_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    """The golden file is what `anthill render examples/us-equities-daily.yaml` prints with default settings."""
    for key in [k for k in os.environ if k.startswith("ANTHILL_")]:
        monkeypatch.delenv(key)
    docs = list(yaml.safe_load_all((REPO / "examples" / "us-equities-daily.yaml").read_text()))
    expected = list(
        yaml.safe_load_all((REPO / "tests/data/golden/us-equities-daily.children.yaml").read_text())
    )
    assert render_documents(docs, OperatorSettings()) == expected


def _pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def test_pod_meets_the_restricted_profile() -> None:
    pod = _pod(desired_cronjob(_feed(), SETTINGS))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_pods_run_as_the_named_service_account_without_its_api_token() -> None:
    named = _pod(desired_cronjob(_feed(serviceAccountName="anthill-ingest"), SETTINGS))
    assert named["serviceAccountName"] == "anthill-ingest"
    assert named["automountServiceAccountToken"] is False
    # Unset is spelled out too, so removing the field is drift that reconciling puts back to default.
    unnamed = _pod(desired_cronjob(_feed(), SETTINGS))
    assert unnamed["serviceAccountName"] == "default"
    assert not is_up_to_date(
        desired_cronjob(_feed(), SETTINGS),
        desired_cronjob(_feed(serviceAccountName="anthill-ingest"), SETTINGS),
    )


def test_the_api_key_comes_from_the_secret_and_nowhere_else() -> None:
    cronjob = desired_cronjob(_feed(), SETTINGS)
    (container,) = _pod(cronjob)["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["MASSIVE_API_KEY"] == {
        "name": "MASSIVE_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "massive-api", "key": "apiKey"}},
    }
    assert "apiKey" not in " ".join(container["args"])


@pytest.mark.parametrize(
    ("spec", "field", "expected"),
    [
        pytest.param({"suspend": True}, "suspend", True, id="suspend passes through"),
        pytest.param(
            {"concurrencyPolicy": "Replace"}, "concurrencyPolicy", "Replace", id="concurrency policy"
        ),
        pytest.param({"successfulJobsHistoryLimit": 9}, "successfulJobsHistoryLimit", 9, id="history limit"),
        pytest.param({"timeZone": "Europe/London"}, "timeZone", "Europe/London", id="time zone"),
        pytest.param({"schedule": "@hourly"}, "schedule", "@hourly", id="schedule"),
    ],
)
def test_spec_fields_pass_through(spec: dict[str, Any], field: str, expected: Any) -> None:
    assert desired_cronjob(_feed(**spec), SETTINGS)["spec"][field] == expected


DEFAULT_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, DEFAULT_RESOURCES,
                     id="unset: the defaults, within which a backfill of any size runs chunk by chunk"),
        pytest.param({"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "4Gi"}}},
                     {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "4Gi"}},
                     id="set: passed through as given"),
        pytest.param({"resources": {"limits": {"memory": "2Gi", "cpu": "2"}}},
                     {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "2Gi", "cpu": "2"}},
                     id="only limits set: the default requests stay, as the API server defaults them"),
        pytest.param({"resources": {"requests": {}, "limits": {}}}, {"requests": {}, "limits": {}},
                     id="emptied on purpose: no requests or limits at all"),
    ],
)  # fmt: skip
def test_the_ingest_container_gets_the_specs_resources(
    spec: dict[str, Any], expected: dict[str, Any]
) -> None:
    (container,) = _pod(desired_cronjob(_feed(**spec), SETTINGS))["containers"]
    assert container["resources"] == expected


def test_a_resources_change_is_drift() -> None:
    bigger = {"resources": {"limits": {"memory": "4Gi"}}}
    assert not is_up_to_date(desired_cronjob(_feed(**bigger), SETTINGS), desired_cronjob(_feed(), SETTINGS))


def test_no_time_zone_means_none_set() -> None:
    assert "timeZone" not in desired_cronjob(_feed(timeZone=None), SETTINGS)["spec"]


def test_a_spec_change_changes_the_spec_hash() -> None:
    before = desired_cronjob(_feed(), SETTINGS)["metadata"]["annotations"]
    after = desired_cronjob(_feed(tickers=["AAPL"]), SETTINGS)["metadata"]["annotations"]
    assert before != after


@pytest.mark.parametrize(
    ("name", "expected_length"),
    [
        pytest.param("short", 5, id="short names are kept"),
        pytest.param("x" * CRONJOB_NAME_MAX, CRONJOB_NAME_MAX, id="at the limit is kept"),
        pytest.param("x" * 200, CRONJOB_NAME_MAX, id="long names are shortened with a hash"),
    ],
)
def test_child_name_fits_cronjob_limits(name: str, expected_length: int) -> None:
    assert len(child_name(name)) == expected_length
    assert child_name(name) == child_name(name)


def test_long_names_stay_distinct() -> None:
    assert child_name("a" * 100 + "1") != child_name("a" * 100 + "2")


def test_a_long_feed_name_gives_valid_labels_that_its_selector_finds() -> None:
    """Names may be 253 characters, label values only 63: every label is hashed alike, and the full name
    travels in an annotation for the handlers that map a Job back to its feed."""
    name = "f" * 253
    feed = Feed(name, "market", _feed().spec, uid="u-1")
    cronjob = desired_cronjob(feed, SETTINGS)
    job_meta = cronjob["spec"]["jobTemplate"]["metadata"]
    for meta in (cronjob["metadata"], job_meta, cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"],
                 desired_configmap(feed)["metadata"]):  # fmt: skip
        assert all(len(value) <= LABEL_VALUE_MAX for value in meta["labels"].values())
    assert feed_selector(name) == f"{FEED_LABEL}={job_meta['labels'][FEED_LABEL]}"
    assert job_meta["annotations"][FEED_NAME_ANNOTATION] == name


DESIRED = {"spec": {"schedule": "0 1 * * *", "list": [{"a": 1}, {"b": 2}]}}


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        pytest.param(DESIRED, True, id="identical"),
        pytest.param({"spec": {**DESIRED["spec"], "extra": 1}}, True, id="server defaults on top are fine"),
        pytest.param({"spec": {"schedule": "* * * * *", "list": DESIRED["spec"]["list"]}}, False,
                     id="changed scalar is drift"),
        pytest.param({"spec": {"schedule": "0 1 * * *", "list": [{"a": 1}]}}, False, id="removed item is drift"),
        pytest.param({"spec": {"schedule": "0 1 * * *", "list": [{"a": 1}, {"b": 2}, {"c": 3}]}}, False,
                     id="added item is drift"),
        pytest.param({"spec": {"schedule": "0 1 * * *", "list": [{"a": 1, "z": 0}, {"b": 2}]}}, True,
                     id="defaults inside list items are fine"),
        pytest.param({}, False, id="missing section is drift"),
    ],
)  # fmt: skip
def test_is_up_to_date(observed: dict[str, Any], expected: bool) -> None:
    assert is_up_to_date(copy.deepcopy(DESIRED), observed) is expected
