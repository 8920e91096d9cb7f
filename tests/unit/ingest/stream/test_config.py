"""The stream a pod runs: a bad document is refused with the field named, and the spec's channels and
tickers become the WebSocket subscriptions of its market."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anthill.marketstream.desired import CONFIG_FILE, Stream, desired_configmap
from anthill_api.marketstream import MarketStreamSpec
from anthill_ingest.config import ConfigError
from anthill_ingest.stream.config import load_stream, parse_stream
from anthill_ingest.stream.protocol import Feed, feed_from_url

SPEC = {"channels": ["trades"], "tickers": ["AAPL"], "destination": {"uri": "s3://lake/market"},
        "apiKeySecretRef": {"name": "k", "key": "k"}}  # fmt: skip


def doc(**spec: Any) -> str:
    return json.dumps({"kind": "MarketStream", "metadata": {"name": "live", "namespace": "market"},
                       "spec": {**SPEC, **spec}})  # fmt: skip


def test_the_configmap_the_operator_mounts_is_the_stream_the_pod_runs(tmp_path: Path) -> None:
    spec = MarketStreamSpec.model_validate({**SPEC, "channels": ["trades", "minuteAggregates"]})
    path = tmp_path / CONFIG_FILE
    path.write_text(desired_configmap(Stream("live", "team-a", spec))["data"][CONFIG_FILE])
    config = load_stream(path)
    assert (config.namespace, config.name, config.spec) == ("team-a", "live", spec)
    assert config.subscriptions() == {"T.AAPL", "AM.AAPL"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(doc(channels=[]), "spec.channels: List should have at least 1 item", id="no channels"),
        pytest.param(doc(channels=["trade"]), "spec.channels.0: Input should be", id="unknown channel"),
        pytest.param(doc(tickers=["*", "AAPL"]), "spec.tickers: '*' subscribes to the whole market",
                     id="star with others"),
        pytest.param(doc(tickers=["X:BTCUSD"]), "spec.tickers: stock tickers have no market prefix",
                     id="stock ticker with a prefix"),
        pytest.param(doc(assetClass="crypto", tickers=["BTCUSD"]), "spec.tickers: crypto tickers start with X:",
                     id="crypto ticker without X:"),
        pytest.param(doc(flush={"maxRows": 10}), "spec.flush.maxRows", id="maxRows below the minimum"),
        pytest.param(doc(flush={"intervalSeconds": 0}), "spec.flush.intervalSeconds", id="zero interval"),
        pytest.param(doc(destination=None), "spec.destination", id="no destination"),
        pytest.param(json.dumps({"kind": "MarketFeed", "metadata": {"name": "x"}, "spec": SPEC}),
                     "is not a MarketStream", id="another kind"),
        pytest.param(json.dumps({"kind": "MarketStream", "spec": SPEC}), "metadata.name is required",
                     id="no name"),
        pytest.param(json.dumps({"kind": "MarketStream", "metadata": {"name": "a/b"}, "spec": SPEC}),
                     "metadata.name must be a Kubernetes name", id="name with a slash"),
        pytest.param("{", "is not JSON or YAML", id="not JSON"),
    ],
)  # fmt: skip
def test_an_invalid_stream_names_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        parse_stream(text, "stream.json")


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_stream(tmp_path / "stream.json")


@pytest.mark.parametrize(
    ("spec", "subscriptions"),
    [
        pytest.param({"channels": ["trades", "quotes"], "tickers": ["AAPL", "MSFT"]},
                     {"T.AAPL", "T.MSFT", "Q.AAPL", "Q.MSFT"}, id="stocks: channels x tickers"),
        pytest.param({"channels": ["minuteAggregates"], "tickers": ["*"]}, {"AM.*"}, id="the whole market"),
        pytest.param({"assetClass": "crypto", "channels": ["trades", "secondAggregates"], "tickers": ["X:BTCUSD"]},
                     {"XT.BTC-USD", "XAS.BTC-USD"}, id="crypto: the stream names pairs with a dash"),
        pytest.param({"assetClass": "crypto", "channels": ["quotes"], "tickers": ["X:ETHUSDT", "X:SOLEUR"]},
                     {"XQ.ETH-USDT", "XQ.SOL-EUR"}, id="crypto: a four-letter quote currency"),
    ],
)  # fmt: skip
def test_subscriptions_are_the_markets_prefixes_times_the_tickers(
    spec: dict[str, Any], subscriptions: set[str]
) -> None:
    assert parse_stream(doc(**spec), "stream.json").subscriptions() == subscriptions


@pytest.mark.parametrize(
    ("url", "feed"),
    [
        pytest.param(None, Feed("feed.example", secure=True), id="default: the real-time feed over TLS"),
        pytest.param("ws://127.0.0.1:8767", Feed("127.0.0.1:8767", secure=False), id="plain, with a port"),
        pytest.param("wss://stream.example/", Feed("stream.example", secure=True), id="TLS, trailing slash"),
    ],
)
def test_the_stream_url_becomes_the_clients_feed(url: str | None, feed: Feed) -> None:
    assert feed_from_url(url, "feed.example") == feed


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:8767", id="not a WebSocket scheme"),
        pytest.param("ws://user:secret@host", id="user info"),
        pytest.param("ws://host/?key=x", id="a query"),
    ],
)
def test_a_stream_url_of_another_shape_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        feed_from_url(url, "feed.example")
    assert "ANTHILL_MARKET_STREAM_URL" in str(raised.value)
    assert "secret" not in str(raised.value)
