"""``/v3/trades`` and ``/v3/quotes`` answer as the real API does: time bounds, order, limit and next_url paging,
the server's auth and faults; the real massive client reads them into its models."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from massive import RESTClient

from anthill_sandbox import ticks
from anthill_sandbox.server import Faults, SandboxServer, SandboxState

pytestmark = pytest.mark.integration

RATE = 10
DAY = datetime.datetime(2024, 7, 1, tzinfo=datetime.UTC)
MIDNIGHT_NS = int(DAY.timestamp()) * ticks.NS
AUTH = {"Authorization": "Bearer sandbox"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(0, SandboxState(tick_rate=RATE)).start()
    yield server
    server.stop()


def _get(url: str, **params: Any) -> requests.Response:
    return requests.get(url, params=params, headers=AUTH, timeout=10)


def test_pages_continue_after_the_last_result_and_carry_no_key(sandbox: SandboxServer) -> None:
    first = _get(
        f"{sandbox.url}/v3/trades/AAPL", timestamp="2024-07-01", order="asc", limit=5, apiKey="sandbox"
    )
    body = first.json()
    assert [r["sequence_number"] for r in body["results"]] == [
        2 * (MIDNIGHT_NS // ticks.NS * RATE + k) for k in range(5)
    ]
    assert "sandbox" not in body["next_url"]
    second = _get(body["next_url"]).json()
    assert [r["sequence_number"] for r in second["results"]] == [
        2 * (MIDNIGHT_NS // ticks.NS * RATE + k) for k in range(5, 10)
    ]


def test_the_newest_come_first_unless_asked(sandbox: SandboxServer) -> None:
    end = MIDNIGHT_NS + 3 * ticks.NS
    body = _get(f"{sandbox.url}/v3/trades/AAPL", **{"timestamp.lt": end, "timestamp.gte": MIDNIGHT_NS}).json()
    times = [r["sip_timestamp"] for r in body["results"]]
    assert len(times) == 3 * RATE
    assert times == sorted(times, reverse=True)
    assert "next_url" not in body


def test_the_client_pages_through_a_range(sandbox: SandboxServer) -> None:
    client = RESTClient(api_key="sandbox", base=sandbox.url, retries=0)
    bounds = {"timestamp_gte": MIDNIGHT_NS, "timestamp_lt": MIDNIGHT_NS + 2 * ticks.NS}
    before = sandbox.state.requests["v3/trades/AAPL"]
    trades = list(client.list_trades("AAPL", order="asc", limit=3, **bounds))
    assert [t.sequence_number for t in trades] == [
        t.sequence for t in ticks.trades("AAPL", MIDNIGHT_NS, MIDNIGHT_NS + 2 * ticks.NS, RATE)
    ]
    assert all(t.id == str(t.sequence_number) and t.tape == ticks.STOCK_TAPE for t in trades)
    assert sandbox.state.requests["v3/trades/AAPL"] - before == 7  # 20 trades, 3 a page
    quotes = list(client.list_quotes("X:BTCUSD", order="asc", limit=50_000, **bounds))
    assert len(quotes) == 2 * RATE
    assert all(q.bid_price < q.ask_price for q in quotes)


def test_nothing_past_now(sandbox: SandboxServer) -> None:
    tomorrow = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)
    body = _get(f"{sandbox.url}/v3/quotes/AAPL", **{"timestamp.gte": str(tomorrow)}).json()
    assert body["results"] == []
    newest = _get(f"{sandbox.url}/v3/trades/AAPL", limit=1).json()["results"][0]
    assert newest["sip_timestamp"] <= datetime.datetime.now(datetime.UTC).timestamp() * ticks.NS


@pytest.mark.parametrize("ticker", ["I:NDX", "C:EURUSD", "NOPE"])
def test_tickers_without_ticks_have_no_results(sandbox: SandboxServer, ticker: str) -> None:
    body = _get(f"{sandbox.url}/v3/trades/{ticker}", timestamp="2024-07-01").json()
    assert (body["status"], body["results"]) == ("OK", [])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"timestamp.gte": "yesterday"}, "timestamp.gte", id="a bound that is no time"),
        pytest.param({"order": "up"}, "order", id="an unknown order"),
        pytest.param({"sort": "price"}, "sort", id="a sort the API lacks"),
        pytest.param({"limit": "0"}, "limit", id="no results a page"),
    ],
)
def test_bad_parameters_are_bad_requests_naming_them(
    sandbox: SandboxServer, params: dict[str, str], message: str
) -> None:
    answer = _get(f"{sandbox.url}/v3/trades/AAPL", **params)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_the_servers_auth_and_faults_apply() -> None:
    server = SandboxServer(0, SandboxState(faults=Faults(rate_limit_first=1))).start()
    try:
        url = f"{server.url}/v3/trades/AAPL"
        assert _get(url).status_code == 429
        assert requests.get(url, timeout=10).status_code == 401
        assert _get(url).status_code == 200
    finally:
        server.stop()
