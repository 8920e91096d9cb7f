"""The feed a pod ingests: its namespace and name come from the feed.json the operator mounts, and become
segments of every key it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anthill.marketfeed.desired import CONFIG_FILE, Feed, desired_configmap
from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.config import ConfigError, load_feed
from anthill_ingest.runner import partition_dir, state_key

SPEC = {"dataset": "aggregates", "tickers": ["AAPL"], "schedule": "@daily",
        "destination": {"uri": "s3://lake/market"}, "apiKeySecretRef": {"name": "k", "key": "k"}}  # fmt: skip


def test_the_mounted_feed_json_puts_namespace_and_name_in_every_key(tmp_path: Path) -> None:
    configmap = desired_configmap(Feed("daily", "team-a", MarketFeedSpec.model_validate(SPEC)))
    path = tmp_path / CONFIG_FILE
    path.write_text(configmap["data"][CONFIG_FILE])
    config = load_feed(path)
    assert (config.namespace, config.name) == ("team-a", "daily")
    assert state_key(config) == "_state/team-a/daily.json"
    assert partition_dir(config) == "bronze/team-a/daily/aggregates/1day"


@pytest.mark.parametrize(
    ("identity", "field"),
    [
        pytest.param({"name": "daily", "namespace": "../other"}, "metadata.namespace", id="namespace climbs"),
        pytest.param({"name": "a/b", "namespace": "market"}, "metadata.name", id="name with a slash"),
    ],
)
def test_names_that_could_leave_the_feeds_keys_are_refused(
    tmp_path: Path, identity: dict[str, str], field: str
) -> None:
    path = tmp_path / CONFIG_FILE
    path.write_text(json.dumps({"kind": "MarketFeed", **identity, "spec": SPEC}))
    with pytest.raises(ConfigError, match=f"{field} must be a Kubernetes name"):
        load_feed(path)
