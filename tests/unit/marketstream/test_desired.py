"""The pure builders of a MarketStream: its ConfigMap and Deployment, checked by rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill.marketstream.desired import (
    CONFIG_DIR,
    CONFIG_FILE,
    RESTART_HASH_ANNOTATION,
    STREAM_LABEL,
    Stream,
    desired_configmap,
    desired_deployment,
    restart_hash,
)
from anthill.settings import OperatorSettings
from anthill_api.marketstream import MarketStreamSpec

REPO = Path(__file__).resolve().parents[3]
SETTINGS = OperatorSettings(_env_file=None)  # type: ignore[call-arg]


def _stream(**spec: Any) -> Stream:
    raw = yaml.safe_load((REPO / "examples" / "us-equities-stream.yaml").read_text())["spec"]
    raw.update(spec)
    return Stream("live", "market", MarketStreamSpec.model_validate(raw), uid="u-1", generation=1)


def test_one_pod_at_most_never_two_at_once() -> None:
    """Two pods of one stream would hold two connections and write the same events twice."""
    spec = desired_deployment(_stream(), SETTINGS)["spec"]
    assert (spec["replicas"], spec["strategy"]) == (1, {"type": "Recreate"})
    assert spec["selector"]["matchLabels"] == {STREAM_LABEL: "live"}
    assert spec["template"]["metadata"]["labels"][STREAM_LABEL] == "live"


def test_suspend_scales_to_zero() -> None:
    assert desired_deployment(_stream(suspend=True), SETTINGS)["spec"]["replicas"] == 0


def test_the_pod_is_restricted_and_holds_no_secret_value() -> None:
    pod = desired_deployment(_stream(), SETTINGS)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    key = next(e for e in container["env"] if e["name"] == "MASSIVE_API_KEY")
    assert key == {
        "name": "MASSIVE_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "massive-api", "key": "apiKey"}},
    }
    assert container["command"] + container["args"] == ["anthill", "ingest", "stream", "--stream",
                                                        f"{CONFIG_DIR}/{CONFIG_FILE}"]  # fmt: skip
    # A directory mount: the kubelet updates it in place (a subPath mount never changes).
    assert all("subPath" not in mount for mount in container["volumeMounts"])


@pytest.mark.parametrize(
    ("edit", "restarts"),
    [
        pytest.param({"tickers": ["AAPL"]}, False, id="tickers-reach-the-running-pod"),
        pytest.param({"channels": ["trades"]}, False, id="channels-reach-the-running-pod"),
        pytest.param({"destination": {"uri": "s3://other-lake/market"}}, True, id="destination-restarts"),
        pytest.param({"apiKeySecretRef": {"name": "other", "key": "apiKey"}}, True, id="key-secret-restarts"),
        pytest.param({"flush": {"intervalSeconds": 1}}, True, id="flush-restarts"),
        pytest.param({"assetClass": "crypto", "tickers": ["X:BTCUSD"]}, True, id="market-restarts"),
    ],
)
def test_only_what_the_process_cannot_apply_restarts_the_pod(edit: dict[str, Any], restarts: bool) -> None:
    before, after = _stream(), _stream(**edit)
    template = desired_deployment(after, SETTINGS)["spec"]["template"]
    assert (restart_hash(before) != restart_hash(after)) is restarts
    assert template["metadata"]["annotations"][RESTART_HASH_ANNOTATION] == restart_hash(after)
    # The ConfigMap carries every edit, hot or not.
    assert desired_configmap(before)["data"] != desired_configmap(after)["data"]


def test_the_configmap_holds_the_spec_and_identity() -> None:
    doc = json.loads(desired_configmap(_stream())["data"][CONFIG_FILE])
    assert (doc["kind"], doc["name"], doc["namespace"]) == ("MarketStream", "live", "market")
    assert doc["spec"]["tickers"] == ["AAPL", "MSFT", "NVDA", "SPY"]


def test_stream_url_reaches_the_pod_only_when_set() -> None:
    def env(settings: OperatorSettings) -> dict[str, Any]:
        (container,) = desired_deployment(_stream(), settings)["spec"]["template"]["spec"]["containers"]
        return {e["name"]: e.get("value") for e in container["env"]}

    assert "ANTHILL_MARKET_STREAM_URL" not in env(SETTINGS)
    custom = OperatorSettings(_env_file=None, market_stream_url="ws://127.0.0.1:8767")  # type: ignore[call-arg]
    assert env(custom)["ANTHILL_MARKET_STREAM_URL"] == "ws://127.0.0.1:8767"
