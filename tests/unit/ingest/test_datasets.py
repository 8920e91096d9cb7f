"""The dataset registry: one module per dataset the API admits, each complete."""

from __future__ import annotations

from typing import get_args

import pytest

from anthill_api.marketfeed import Dataset as DatasetName
from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.datasets import DATASETS, dataset_for


def test_every_admitted_dataset_has_a_module_and_no_other() -> None:
    assert set(DATASETS) == set(get_args(DatasetName))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_a_dataset_sorts_by_its_own_columns_and_reads_its_own_schema(name: str) -> None:
    dataset = dataset_for(name)
    assert dataset.name == name
    assert set(dataset.sort_keys) <= set(dataset.schema.names)
    assert dataset.to_table([]).schema == dataset.schema


@pytest.mark.parametrize(
    ("spec", "span"),
    [
        pytest.param({"dataset": "aggregates", "tickers": ["A"]}, "1day", id="aggregates-default"),
        pytest.param({"dataset": "aggregates", "tickers": ["A"], "bars": {"multiplier": 5, "timespan": "minute"}},
                     "5minute", id="aggregates-5min"),
        pytest.param({"dataset": "groupedDaily"}, "1day", id="grouped"),
        pytest.param({"dataset": "dividends", "tickers": ["A"]}, "event", id="dividends"),
        pytest.param({"dataset": "splits", "tickers": ["A"]}, "event", id="splits"),
        pytest.param({"dataset": "tickers"}, "snapshot", id="tickers"),
        pytest.param({"dataset": "marketHolidays"}, "snapshot", id="holidays"),
    ],
)  # fmt: skip
def test_the_bronze_path_segment_of_each_dataset_is_unchanged(spec: dict[str, object], span: str) -> None:
    """Bronze already written under these paths must stay where Spark reads it."""
    base = {
        "schedule": "@daily",
        "destination": {"uri": "file:///lake"},
        "apiKeySecretRef": {"name": "k", "key": "k"},
    }
    parsed = MarketFeedSpec.model_validate({**base, **spec})
    assert dataset_for(parsed.dataset).span(parsed) == span
