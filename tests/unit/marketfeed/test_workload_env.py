"""Workload pods reach an S3-compatible lake and a chosen market-data API only as the settings say, with the
lake's keys by reference to a Secret in the pod's own namespace, never by value."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from anthill.marketfeed.desired import Feed, desired_cronjob
from anthill.pipeline.desired import Pipeline
from anthill.pipeline.kubernetes import desired_spark_cronjob
from anthill.settings import OperatorSettings
from anthill.workload import workload_lake_environment
from anthill_api.marketfeed import MarketFeedSpec
from anthill_api.pipeline import MedallionPipelineSpec

LOCAL = OperatorSettings(
    market_data_url="http://10.200.1.1:8080",
    s3_endpoint_url="http://10.200.1.1:9000",
    s3_region="us-east-1",
    s3_credentials_secret="lake-credentials",
)


def _env(cronjob: dict[str, Any]) -> dict[str, Any]:
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item for item in container["env"]}


def _feed() -> Feed:
    spec = {
        "dataset": "aggregates", "assetClass": "stocks", "tickers": ["AAPL"],
        "bars": {"multiplier": 1, "timespan": "day"}, "schedule": "0 1 * * *", "backfill": {"from": "2026-01-02"},
        "destination": {"uri": "s3://lake/market"}, "apiKeySecretRef": {"name": "massive-api", "key": "apiKey"},
    }  # fmt: skip
    return Feed("daily", "market", MarketFeedSpec.model_validate(spec), uid="u-1", generation=1)


def _pipeline() -> Pipeline:
    spec = {
        "feeds": [{"name": "daily"}], "lake": {"uri": "s3://lake/market"}, "gold": ["daily_returns"],
        "schedule": "0 2 * * *", "runtime": {"kubernetes": {"image": "local/anthill-spark:1"}},
    }  # fmt: skip
    return Pipeline(
        "refine", "market", MedallionPipelineSpec.model_validate(spec), uid="u-2",
        bronze=("s3://lake/market/bronze/market/daily",),
    )  # fmt: skip


def test_ingest_pods_get_the_api_url_endpoint_region_and_keys_by_reference() -> None:
    env = _env(desired_cronjob(_feed(), LOCAL))
    assert env["ANTHILL_MARKET_DATA_URL"]["value"] == "http://10.200.1.1:8080"
    assert env["AWS_ENDPOINT_URL_S3"]["value"] == "http://10.200.1.1:9000"
    assert env["AWS_REGION"]["value"] == "us-east-1"
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert "value" not in env[key]
        assert env[key]["valueFrom"] == {"secretKeyRef": {"name": "lake-credentials", "key": key}}


def test_spark_pods_get_the_same_lake_environment() -> None:
    env = _env(desired_spark_cronjob(_pipeline(), workload_lake_environment(LOCAL)))
    assert env["AWS_ENDPOINT_URL_S3"]["value"] == "http://10.200.1.1:9000"
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "lake-credentials"


def test_defaults_add_nothing() -> None:
    env = _env(desired_cronjob(_feed(), OperatorSettings()))
    assert set(env) == {"MASSIVE_API_KEY", "ANTHILL_FEED"}
    assert workload_lake_environment(OperatorSettings()) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("market_data_url", "http://user:secret@host:1"),  # credentials never ride in a URL
        ("s3_endpoint_url", "ftp://host"),
        ("s3_endpoint_url", "http://host/?token=x"),
        ("s3_credentials_secret", "Not_A_Name"),
    ],
)
def test_bad_settings_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        OperatorSettings.model_validate({field: value})
