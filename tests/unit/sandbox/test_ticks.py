"""The sandbox's ticks are a pure function of (ticker, time, rate) and agree with its minute bars."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from http import HTTPStatus

import pytest

from anthill_sandbox import data, ticks
from anthill_sandbox.server import ApiError, tick_range

UTC = datetime.UTC
NS = ticks.NS


def _second(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """Epoch seconds of a UTC time."""
    return int(datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def _minute_trades(ticker: str, minute: int, rate: int) -> list[ticks.Trade]:
    return ticks.trades(ticker, minute * 60 * NS, (minute + 1) * 60 * NS, rate)


SESSION_MINUTES = [
    pytest.param("AAPL", _second(2024, 7, 1, 14, 30), 10, id="a stock's first session minute"),
    pytest.param("MSFT", _second(2024, 7, 1, 20, 59), 3, id="a stock's last session minute, another rate"),
    pytest.param("NVDA", _second(2024, 6, 10, 16, 0), 25, id="a split day, adjusted bars"),
    pytest.param("X:BTCUSD", _second(2024, 7, 6, 3, 17), 10, id="crypto on a Saturday night"),
]


@pytest.mark.parametrize(("ticker", "second", "rate"), SESSION_MINUTES)
def test_a_session_minute_prints_the_rest_minute_bar(ticker: str, second: int, rate: int) -> None:
    day = datetime.datetime.fromtimestamp(second, tz=UTC).date()
    bar = dict(data.minute_bars(ticker, day))[second * 1000]
    trades = _minute_trades(ticker, second // 60, rate)
    prices = [t.price for t in trades]
    assert (prices[0], max(prices), min(prices), prices[-1]) == tuple(
        round(x, ticks.DECIMALS) for x in (bar.open, bar.high, bar.low, bar.close)
    )
    assert sum(t.size for t in trades) == pytest.approx(bar.volume)


OFF_SESSION = [
    pytest.param("AAPL", _second(2024, 7, 1, 3, 0), id="before the open"),
    pytest.param("AAPL", _second(2024, 7, 1, 21, 0), id="the minute the session closed"),
    pytest.param("KO", _second(2024, 7, 6, 12, 0), id="a Saturday"),
    pytest.param("JPM", _second(2024, 7, 4, 15, 0), id="a holiday's session hours"),
]


@pytest.mark.parametrize(("ticker", "second"), OFF_SESSION)
def test_off_session_prices_walk_near_the_last_close(ticker: str, second: int) -> None:
    minute = second // 60
    close, _ = ticks._anchor(ticker, minute)
    for m in range(minute, minute + 3):
        o, h, lo, c, volume = ticks.minute_bar(ticker, m, 10)
        assert lo <= min(o, c) <= max(o, c) <= h
        assert abs(c / close - 1) < 0.05
        assert volume >= 600
        assert c == ticks.minute_bar(ticker, m + 1, 10)[0]  # one minute's close is the next one's open


def test_the_walk_starts_at_the_close() -> None:
    close_minute = _second(2024, 7, 1, 21, 0) // 60
    close = data.daily_bar("AAPL", datetime.date(2024, 7, 1))
    assert close is not None
    assert ticks.minute_bar("AAPL", close_minute, 10)[0] == round(close.close, ticks.DECIMALS)


RATES = [
    pytest.param("AAPL", _second(2024, 7, 1, 15, 0, 7), 1, id="one a second"),
    pytest.param("SPY", _second(2024, 7, 1, 2, 59, 59), 10, id="off session, across a minute"),
    pytest.param("X:ETHUSD", _second(2024, 7, 1, 15, 0, 7), 200, id="crypto, a high rate"),
]


@pytest.mark.parametrize(("ticker", "second", "rate"), RATES)
def test_each_second_holds_rate_ticks_with_sequence_from_the_time(
    ticker: str, second: int, rate: int
) -> None:
    trades = ticks.trades(ticker, second * NS, (second + 2) * NS, rate)
    quotes = ticks.quotes(ticker, second * NS, (second + 2) * NS, rate)
    assert len(trades) == len(quotes) == 2 * rate
    assert [t.sequence for t in trades] == [2 * (second * rate + k) for k in range(2 * rate)]
    assert [q.sequence for q in quotes] == [2 * (second * rate + k) + 1 for k in range(2 * rate)]
    for events in (trades, quotes):
        times = [e.sip_timestamp for e in events]
        assert times == sorted(set(times))
        assert second * NS <= times[0]
        assert times[-1] < (second + 2) * NS
        assert all(e.participant_timestamp < e.sip_timestamp for e in events)
    assert all(ticks.rest_trade(t)["id"] == str(t.sequence) for t in trades)


@pytest.mark.parametrize(("ticker", "second", "rate"), RATES)
def test_quotes_surround_the_trades(ticker: str, second: int, rate: int) -> None:
    trades = ticks.second_trades(ticker, second, rate)
    for trade, quote in zip(trades, ticks.second_quotes(ticker, second, rate), strict=True):
        assert quote.bid_price < quote.ask_price
        assert (quote.ask_price - quote.bid_price) / trade.price < 10 / 10_000
        assert quote.bid_price <= trade.price + 1e-4
        assert trade.price <= quote.ask_price + 1e-4
        assert quote.bid_size > 0
        assert quote.ask_size > 0


AGGREGATES = [
    pytest.param("AAPL", _second(2024, 7, 1, 14, 31), 10, id="stock session"),
    pytest.param("AAPL", _second(2024, 7, 1, 23, 5), 10, id="stock off session"),
    pytest.param("X:SOLUSD", _second(2024, 7, 1, 23, 5), 7, id="crypto"),
]


@pytest.mark.parametrize(("ticker", "second", "rate"), AGGREGATES)
def test_aggregates_are_the_aggregation_of_their_trades(ticker: str, second: int, rate: int) -> None:
    minute = second // 60
    assert ticks.minute_aggregate(ticker, minute, rate) == ticks.aggregate(
        ticker, _minute_trades(ticker, minute, rate), minute * 60_000, (minute + 1) * 60_000
    )
    for s in (second, second + 59):
        assert ticks.second_aggregate(ticker, s, rate) == ticks.aggregate(
            ticker, ticks.second_trades(ticker, s, rate), s * 1000, (s + 1) * 1000
        )


def test_ticks_do_not_depend_on_the_cache() -> None:
    second, rate = _second(2024, 7, 1, 15, 0, 30), 10
    before = ticks.second_trades("MSFT", second, rate), ticks.second_quotes("MSFT", second, rate)
    ticks._cache.clear()
    ticks.minute_bar.cache_clear()
    assert (ticks.second_trades("MSFT", second, rate), ticks.second_quotes("MSFT", second, rate)) == before


def test_ticks_do_not_depend_on_the_process() -> None:
    """Another interpreter, with another string-hash seed, generates the very same ticks."""
    second = _second(2024, 7, 1, 3, 0, 30)
    code = f"from anthill_sandbox import ticks; print(repr(ticks.second_trades('AAPL', {second}, 5)))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345"})  # fmt: skip
    assert other.stdout.strip() == repr(ticks.second_trades("AAPL", second, 5))


SECOND = _second(2024, 7, 1, 15, 0, 30)
STOCK_TRADES = ticks.trades("AAPL", SECOND * NS, (SECOND + 60) * NS, 50)


@pytest.mark.parametrize(
    "trade",
    [
        pytest.param(next(t for t in STOCK_TRADES if t.conditions), id="odd lot"),
        pytest.param(next(t for t in STOCK_TRADES if not t.conditions), id="round lot"),
    ],
)
def test_the_fast_encoders_write_the_events(trade: ticks.Trade) -> None:
    assert json.loads(ticks.trade_json(trade)) == ticks.trade_event(trade)
    quote = ticks.second_quotes("AAPL", SECOND, 50)[0]
    assert json.loads(ticks.quote_json(quote)) == ticks.quote_event(quote)


STOCK_QUOTE = ticks.second_quotes("AAPL", SECOND, 5)[0]
CRYPTO_TRADE = ticks.second_trades("X:BTCUSD", SECOND, 5)[0]
CRYPTO_QUOTE = ticks.second_quotes("X:BTCUSD", SECOND, 5)[0]
STOCK_AGG = ticks.second_aggregate("AAPL", SECOND, 5)
CRYPTO_AGG = ticks.minute_aggregate("X:BTCUSD", SECOND // 60, 5)


@pytest.mark.parametrize(
    ("event", "fields"),
    [
        pytest.param(ticks.trade_event(STOCK_TRADES[0]), "ev sym x i z p s t q", id="T"),
        pytest.param(ticks.quote_event(STOCK_QUOTE), "ev sym bx bp bs ax ap as c t q z", id="Q"),
        pytest.param(ticks.aggregate_event(STOCK_AGG, "A", 5), "ev sym v av op vw o c h l a z s e", id="A"),
        pytest.param(ticks.aggregate_event(STOCK_AGG, "AM", 5), "ev sym v av op vw o c h l a z s e", id="AM"),
        pytest.param(ticks.trade_event(CRYPTO_TRADE), "ev pair p t s c i x r", id="XT"),
        pytest.param(ticks.quote_event(CRYPTO_QUOTE), "ev pair bp bs ap as t x r", id="XQ"),
        pytest.param(ticks.aggregate_event(CRYPTO_AGG, "XA", 5), "ev pair o c h l v vw s e z", id="XA"),
        pytest.param(
            ticks.rest_trade(STOCK_TRADES[0]),
            "exchange id participant_timestamp price sequence_number sip_timestamp size tape",
            id="v3 trade",
        ),
        pytest.param(
            ticks.rest_quote(STOCK_QUOTE),
            "ask_exchange ask_price ask_size bid_exchange bid_price "
            "bid_size conditions participant_timestamp sequence_number sip_timestamp tape",
            id="v3 quote",
        ),
    ],
)
def test_events_carry_the_real_field_names(event: dict[str, object], fields: str) -> None:
    assert set(event) - {"c", "conditions"} == set(fields.split()) - {"c", "conditions"}
    assert None not in event.values()


def test_the_day_so_far_adds_up() -> None:
    """``av`` at the end of a minute is the previous minute's plus this minute's volume."""
    minute = _second(2024, 7, 1, 15, 0) // 60
    before, _, official = ticks.day_so_far("AAPL", minute * 60 - 1, 10)
    after, vwap, _ = ticks.day_so_far("AAPL", minute * 60 + 59, 10)
    assert after - before == ticks.minute_aggregate("AAPL", minute, 10).volume
    bar = data.daily_bar("AAPL", datetime.date(2024, 7, 1))
    assert bar is not None
    assert official == round(bar.open, ticks.DECIMALS)
    assert bar.low * 0.95 < vwap < bar.high * 1.05


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: ticks.trades("I:NDX", 0, NS, 10), "ticker", id="an index has no ticks"),
        pytest.param(lambda: ticks.trades("NOPE", 0, NS, 10), "ticker", id="an unknown ticker"),
        pytest.param(lambda: ticks.quotes("AAPL", 0, NS, 0), "rate", id="no events a second"),
        pytest.param(lambda: ticks.check_rate(ticks.MAX_RATE + 1), "rate", id="too many events a second"),
    ],
)
def test_bad_input_names_the_field(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


DAY = _second(2024, 7, 1) * NS
NOW = DAY + 36_000 * NS


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"timestamp": "2024-07-01"}, (DAY, NOW + 1), id="a date is its day, up to now"),
        pytest.param({"timestamp": "2024-06-30"}, (DAY - 86_400 * NS, DAY), id="a past day, whole"),
        pytest.param({"timestamp": str(DAY + 5)}, (DAY + 5, DAY + 6), id="nanoseconds are an instant"),
        pytest.param(
            {"timestamp.gte": str(DAY + 5), "timestamp.lt": str(DAY + 9)},
            (DAY + 5, DAY + 9),
            id="gte and lt as they are",
        ),
        pytest.param(
            {"timestamp.gt": str(DAY + 5), "timestamp.lte": str(DAY + 9)},
            (DAY + 6, DAY + 10),
            id="gt and lte exclude and include",
        ),
        pytest.param(
            {"timestamp.lt": str(DAY + 9)}, (DAY, DAY + 9), id="no lower bound: that day's midnight"
        ),
        pytest.param({}, (DAY, NOW + 1), id="nothing: today so far"),
        pytest.param({"timestamp.gte": "2024-07-02"}, (DAY + 86_400 * NS, NOW + 1), id="the future is empty"),
    ],
)
def test_tick_ranges(query: dict[str, str], expected: tuple[int, int]) -> None:
    assert tick_range(query, NOW) == expected


@pytest.mark.parametrize("name", ["timestamp", "timestamp.gte", "timestamp.lt"])
def test_a_bad_bound_is_a_bad_request_naming_it(name: str) -> None:
    with pytest.raises(ApiError, match=name) as caught:
        tick_range({name: "yesterday"}, NOW)
    assert caught.value.status == HTTPStatus.BAD_REQUEST
