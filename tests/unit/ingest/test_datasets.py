"""The dataset registry: one module per dataset the API admits, each complete."""

from __future__ import annotations

import datetime
from typing import get_args

import pytest

from anthill_api.marketfeed import Dataset as DatasetName
from anthill_api.marketfeed import MarketFeedSpec
from anthill_ingest.datasets import DATASETS, dataset_for
from anthill_ingest.datasets.news import news_row
from anthill_ingest.datasets.options_contracts import contract_row
from anthill_ingest.datasets.ticks import Trades, day_range_ns
from anthill_ingest.errors import SchemaSurpriseError


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
        pytest.param({"dataset": "news", "tickers": ["A"]}, "event", id="news"),
        pytest.param({"dataset": "optionsContracts", "tickers": ["A"]}, "snapshot", id="options-contracts"),
        pytest.param({"dataset": "trades", "tickers": ["A"]}, "tick", id="trades"),
        pytest.param({"dataset": "financials", "tickers": ["A"]}, "event", id="financials"),
        pytest.param({"dataset": "quotes", "tickers": ["A"]}, "tick", id="quotes"),
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


class _Insight:
    def __init__(self, ticker: str, sentiment: str) -> None:
        self.ticker, self.sentiment = ticker, sentiment


ARTICLE = {"id": "n1", "published_utc": "2024-07-02T13:05:00Z", "title": "Apple rises",
           "insights": [_Insight("MSFT", "neutral"), _Insight("AAPL", "positive")], "tickers": ["AAPL", "MSFT"]}  # fmt: skip


def test_an_article_is_a_row_per_ticker_with_that_tickers_sentiment() -> None:
    assert news_row(ARTICLE, "AAPL")["sentiment"] == "positive"
    assert news_row(ARTICLE, "MSFT")["sentiment"] == "neutral"
    row = news_row(ARTICLE, "AAPL")
    assert row["published_utc"] == datetime.datetime(2024, 7, 2, 13, 5, tzinfo=datetime.UTC)
    assert dataset_for("news").partition_date(row, datetime.date(2024, 7, 9), "stocks") == datetime.date(
        2024, 7, 2
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"published_utc": "yesterday"}, "not a time", id="time-not-a-time"),
        pytest.param({"published_utc": "2024-07-02T13:05:00"}, "without its zone", id="time-without-zone"),
        pytest.param({"title": None}, "without 'title'", id="no-title"),
        pytest.param({"tickers": "AAPL"}, "'tickers' is not a list", id="tickers-not-a-list"),
    ],
)
def test_news_fields_of_another_shape_are_a_schema_surprise(change: dict[str, object], reason: str) -> None:
    with pytest.raises(SchemaSurpriseError, match=reason):
        news_row({**ARTICLE, **change}, "AAPL")


def test_a_contract_without_a_strike_is_a_schema_surprise() -> None:
    contract = {"ticker": "O:AAPL240712C00200000", "underlying_ticker": "AAPL", "contract_type": "call",
                "expiration_date": "2024-07-12", "strike_price": "200"}  # fmt: skip
    with pytest.raises(SchemaSurpriseError, match="'strike_price' is a string, not a number"):
        contract_row(contract)
    assert contract_row({**contract, "strike_price": 200})["strike_price"] == 200.0


@pytest.mark.parametrize(
    ("ticker", "name"),
    [pytest.param("AAPL", "feed-AAPL.parquet", id="stock"), pytest.param("O:AAPL240712C00200000",
     "feed-O-AAPL240712C00200000.parquet", id="no-colon-for-hadoop")],
)  # fmt: skip
def test_a_ticker_days_object_is_named_for_the_feed_and_ticker(ticker: str, name: str) -> None:
    assert Trades().object_name("feed", ticker) == name


def test_a_new_york_day_of_ticks_is_24_hours_of_utc_nanoseconds() -> None:
    start, end = day_range_ns(datetime.date(2024, 7, 9))
    assert start == int(datetime.datetime(2024, 7, 9, 4, tzinfo=datetime.UTC).timestamp()) * 10**9  # EDT
    assert end - start == 24 * 3600 * 10**9
