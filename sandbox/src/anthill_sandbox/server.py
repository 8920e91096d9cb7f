"""A local market-data server speaking the Massive (Polygon.io) REST API for the endpoints Anthill uses.

Same JSON shapes, ``next_url`` paging, bearer-token auth and error bodies, over :mod:`anthill_sandbox.data`.
Faults can be injected (429 with Retry-After, 5xx, slow and malformed responses) to test clients against them.
Serves on loopback only.
"""

from __future__ import annotations

import datetime
import itertools
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from anthill_ingest.calendar import holidays, is_trading_day
from anthill_sandbox import data, reference, ticks
from anthill_sandbox.loopback import JsonHandler, LoopbackServer

TIMESPAN_MINUTES = {"minute": 1, "hour": 60}
DEFAULT_KEYS = frozenset({"sandbox"})
MAX_LIMIT = 50_000
TICKS_LIMIT = 1_000  # /v3/trades and /v3/quotes: results per page unless the request's limit says otherwise
DAY_NS = 86_400 * ticks.NS
SECONDS_PER_MINUTE = 60
# The API's grouped daily markets as locale/market; the instruments' `market` names them the same way.
GROUPED = {"us/stocks", "global/crypto", "global/fx"}


@dataclass
class Faults:
    """What the server does wrong, on purpose. Counters make the schedule deterministic."""

    rate_limit_first: int = 0  # the first N requests get 429
    rate_limit_every: int = 0  # then every N-th request gets 429
    retry_after: float = 1.0  # seconds, sent as Retry-After with each 429
    server_error_first: int = 0  # the first N requests (after any 429s) get 502
    server_error_every: int = 0
    malformed_every: int = 0  # every N-th 200 response has a truncated body
    schema_surprise_every: int = 0  # every N-th aggregates page has bars without a close price
    delay: float = 0.0  # seconds added to each response
    requests_per_minute: int = 0  # enforce a plan's budget (0: unlimited)
    # Tickers answered as the API answers for one it has nothing on: aggregates without results, and missing
    # from the grouped daily market.
    silent_tickers: frozenset[str] = frozenset()
    # Raw 200 bodies served instead of the generated answer, by path prefix (the longest prefix wins):
    # hostile vendor data, byte for byte, for the clients' tests.
    bodies: dict[str, bytes] = field(default_factory=dict)

    def body_for(self, path: str) -> bytes | None:
        prefixes = [prefix for prefix in self.bodies if path.startswith(prefix)]
        return self.bodies[max(prefixes, key=len)] if prefixes else None


@dataclass
class SandboxState:
    faults: Faults = field(default_factory=Faults)
    api_keys: frozenset[str] = DEFAULT_KEYS
    page_size: int = MAX_LIMIT  # results per page before next_url, never more than the request's limit
    # Serve daily bars with a vendor's quirks (bad prints, a preliminary newest day: data.vendor_bar), as of
    # the date ``today`` returns; off, every bar is the clean one.
    quirks: bool = False
    today: Callable[[], datetime.date] = field(default=lambda: datetime.datetime.now(datetime.UTC).date())
    # The clock of the ticks (nanoseconds): the stream sends each as its time passes, REST serves those past.
    now_ns: Callable[[], int] = field(default=time.time_ns)
    tick_rate: int = ticks.DEFAULT_RATE  # trades (and quotes) per second per ticker, the stream's and REST's
    requests: Counter[str] = field(default_factory=Counter)
    credentials_in: Counter[str] = field(default_factory=Counter)  # "header" or "query": how keys arrived
    lock: threading.Lock = field(default_factory=threading.Lock)
    _served: int = 0
    _window: list[float] = field(default_factory=list)

    def next_number(self) -> int:
        with self.lock:
            self._served += 1
            return self._served

    def over_budget(self) -> bool:
        if not self.faults.requests_per_minute:
            return False
        with self.lock:
            now = time.monotonic()
            self._window = [t for t in self._window if now - t < SECONDS_PER_MINUTE]
            if len(self._window) >= self.faults.requests_per_minute:
                return True
            self._window.append(now)
            return False


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _date(value: str) -> datetime.date:
    if value.isdigit():  # epoch milliseconds
        return datetime.datetime.fromtimestamp(int(value) / 1000, tz=datetime.UTC).date()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"Could not parse the time parameter: {value!r}") from None


def _bar_json(ts: int, bar: data.DailyBar, ticker: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"v": bar.volume, "vw": round(bar.vwap, 4), "o": round(bar.open, 4),
                           "c": round(bar.close, 4), "h": round(bar.high, 4), "l": round(bar.low, 4),
                           "t": ts, "n": bar.transactions}  # fmt: skip
    if ticker is not None:
        out = {"T": ticker, **out}
    return out


def _day_start_ms(day: datetime.date, ticker: str) -> int:
    """Massive stamps a daily bar at the start of its day: midnight New York for stocks and indices (the
    sandbox uses 05:00 UTC, EST), midnight UTC for the 24-hour crypto and fx markets."""
    hour = 0 if data.INSTRUMENTS[ticker].market in ("crypto", "fx") else 5
    return int(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=datetime.UTC).timestamp() * 1000)


def aggregate_bars(ticker: str, multiplier: int, timespan: str, start: datetime.date, end: datetime.date,
                   adjusted: bool, quirks_on: datetime.date | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Bars of ``multiplier`` x ``timespan`` between two dates (inclusive), oldest first; with ``quirks_on``,
    daily bars as a vendor serves them that day (:func:`data.vendor_bar`)."""
    days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    if timespan in TIMESPAN_MINUTES:
        size = TIMESPAN_MINUTES[timespan] * multiplier
        out = []
        for day in days:
            minutes = data.minute_bars(ticker, day, adjusted)
            for i in range(0, len(minutes), size):
                out.append(_merge(minutes[i : i + size]))
        return out
    daily = [
        (_day_start_ms(d, ticker), bar)
        for d in days
        if (bar := _daily(ticker, d, adjusted, quirks_on)) is not None
    ]
    if timespan == "day":
        groups = [daily[i : i + multiplier] for i in range(0, len(daily), multiplier)]
    else:  # week or month: group by calendar period, then by multiplier
        key = (lambda d: d.isocalendar()[:2]) if timespan == "week" else (lambda d: (d.year, d.month))
        periods: dict[Any, list[tuple[int, data.DailyBar]]] = {}
        for ts, bar in daily:
            periods.setdefault(key(bar.day), []).append((ts, bar))
        ordered = list(periods.values())
        groups = [list(itertools.chain.from_iterable(ordered[i : i + multiplier]))
                  for i in range(0, len(ordered), multiplier)]  # fmt: skip
    return [_merge(group) for group in groups if group]


def _daily(
    ticker: str, day: datetime.date, adjusted: bool, quirks_on: datetime.date | None
) -> data.DailyBar | None:
    if quirks_on is None:
        return data.daily_bar(ticker, day, adjusted)
    return data.vendor_bar(ticker, day, adjusted, quirks_on)


def _merge(bars: list[tuple[int, data.DailyBar]]) -> dict[str, Any]:
    first, last = bars[0][1], bars[-1][1]
    volume = sum(b.volume for _, b in bars)
    vwap = sum(b.vwap * b.volume for _, b in bars) / volume if volume else first.vwap
    merged = data.DailyBar(first.day, first.open, max(b.high for _, b in bars), min(b.low for _, b in bars),
                           last.close, volume, vwap, sum(b.transactions for _, b in bars))  # fmt: skip
    return _bar_json(bars[0][0], merged)


class Handler(JsonHandler):
    server: SandboxServer

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        state = self.server.state
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/_sandbox/stats":
            self._send(
                HTTPStatus.OK, {"requests": dict(state.requests), "total": sum(state.requests.values())}
            )
            return
        state.requests[_route(url.path)] += 1
        number = state.next_number()
        faults = state.faults
        if faults.delay:
            time.sleep(faults.delay)  # an injected slow response: the delay is the point
        try:
            self._authorize(query)
            if state.over_budget() or _hit(number, faults.rate_limit_first, faults.rate_limit_every):
                self._send(HTTPStatus.TOO_MANY_REQUESTS, _error("You've exceeded the maximum requests per "
                           "minute, please wait or upgrade your subscription to continue."),
                           {"Retry-After": f"{faults.retry_after:g}"})  # fmt: skip
                return
            if _hit(number - faults.rate_limit_first, faults.server_error_first, faults.server_error_every):
                self._send(HTTPStatus.BAD_GATEWAY, _error("Upstream unavailable, please retry."))
                return
            if (raw := faults.body_for(url.path)) is not None:
                self._send_raw(HTTPStatus.OK, raw)
                return
            body = self._route(url.path, query, number)
        except ApiError as exc:
            self._send(exc.status, _error(str(exc)))
            return
        if faults.malformed_every and number % faults.malformed_every == 0:
            raw = json.dumps(body).encode()
            self._send_raw(HTTPStatus.OK, raw[: max(1, len(raw) // 2)])
            return
        self._send(HTTPStatus.OK, body)

    def _authorize(self, query: dict[str, str]) -> None:
        header = self.headers.get("Authorization", "")
        key = (
            header.removeprefix("Bearer ").strip()
            if header.startswith("Bearer ")
            else query.get("apiKey", "")
        )
        self.server.state.credentials_in["header" if header else "query" if key else "none"] += 1
        if not key:
            raise ApiError(HTTPStatus.UNAUTHORIZED, "API Key was not provided")
        if key not in self.server.state.api_keys:
            raise ApiError(HTTPStatus.UNAUTHORIZED, "Unknown API Key")

    def _route(self, path: str, query: dict[str, str], number: int) -> Any:  # noqa: PLR0911 - a return per route
        parts = path.strip("/").split("/")
        match parts:
            case ["v2", "aggs", "ticker", ticker, "range", multiplier, timespan, start, end]:
                return self._aggs(ticker, multiplier, timespan, start, end, query, number)
            case ["v2", "aggs", "grouped", "locale", locale, "market", market, day] if (
                f"{locale}/{market}" in GROUPED
            ):
                return self._grouped(market, _date(day), query.get("adjusted", "true") != "false")
            case ["v3", "reference", "dividends"]:
                return self._reference(query, data.dividends, "ex_dividend_date")
            case ["v3", "reference", "splits"]:
                return self._reference(query, data.splits, "execution_date")
            case ["v3", "reference", "tickers"]:
                return self._tickers(query)
            case ["v1", "marketstatus", "upcoming"]:
                return _upcoming_holidays()
            case ["v3", "trades" | "quotes" as kind, ticker]:
                return self._ticks(kind, ticker, query)
            case ["v2", "reference", "news"]:
                return self._news(query)
            case ["stocks", "financials", "v1", "income-statements"]:
                return self._income_statements(query)
            case ["v3", "reference", "options", "contracts"]:
                as_of = _date(query.get("as_of", str(self.server.state.today())))
                return self._paged(reference.options_contracts(query.get("underlying_ticker", ""), as_of), query,
                                   "/v3/reference/options/contracts")  # fmt: skip
        raise ApiError(HTTPStatus.NOT_FOUND, f"Route not found: {path}")

    def _aggs(self, ticker: str, multiplier: str, timespan: str, start: str, end: str, query: dict[str, str],
              number: int) -> dict[str, Any]:  # fmt: skip
        if timespan not in (*TIMESPAN_MINUTES, "day", "week", "month"):
            raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid timespan: {timespan}")
        if not multiplier.isdigit() or int(multiplier) < 1:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid multiplier: {multiplier}")
        adjusted = query.get("adjusted", "true") != "false"
        limit = min(int(query.get("limit", "5000")), MAX_LIMIT)
        request_id = uuid.uuid5(uuid.NAMESPACE_URL, self.path).hex
        if ticker not in data.INSTRUMENTS or ticker in self.server.state.faults.silent_tickers:
            return {"ticker": ticker, "queryCount": 0, "resultsCount": 0, "adjusted": adjusted, "status": "OK",
                    "request_id": request_id}  # fmt: skip
        state = self.server.state
        quirks_on = state.today() if state.quirks else None
        bars = aggregate_bars(
            ticker, int(multiplier), timespan, _date(start), _date(end), adjusted, quirks_on
        )
        # Bounds in epoch milliseconds are instants, not days: keep the bars that start within them.
        first = int(start) if start.isdigit() else None
        last = int(end) if end.isdigit() else None
        bars = [
            bar for bar in bars if (first is None or bar["t"] >= first) and (last is None or bar["t"] <= last)
        ]
        offset = int(query.get("cursor", "0"))
        size = min(limit, self.server.state.page_size)
        page = bars[offset : offset + size]
        faults = self.server.state.faults
        if faults.schema_surprise_every and number % faults.schema_surprise_every == 0 and page:
            page = [{k: v for k, v in bar.items() if k != "c"} for bar in page]
        body: dict[str, Any] = {"ticker": ticker, "queryCount": len(page), "resultsCount": len(page),
                                "adjusted": adjusted, "results": page, "status": "OK", "request_id": request_id,
                                "count": len(page)}  # fmt: skip
        if offset + size < len(bars):
            next_query = {**query, "cursor": str(offset + size)}
            next_query.pop("apiKey", None)
            body["next_url"] = f"{self._base()}/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{start}/{end}?" \
                f"{urlencode(next_query)}"  # fmt: skip
        return body

    def _grouped(self, market: str, day: datetime.date, adjusted: bool) -> dict[str, Any]:
        results = []
        for ticker, instrument in data.INSTRUMENTS.items():
            if instrument.market != market or ticker in self.server.state.faults.silent_tickers:
                continue
            state = self.server.state
            bar = _daily(ticker, day, adjusted, state.today() if state.quirks else None)
            if bar is not None:
                results.append(_bar_json(_day_start_ms(day, ticker), bar, ticker))
        body: dict[str, Any] = {"queryCount": len(results), "resultsCount": len(results), "adjusted": adjusted,
                                "status": "OK", "request_id": uuid.uuid4().hex}  # fmt: skip
        if results:
            body["results"] = results
        return body

    def _reference(self, query: dict[str, str], source: Any, date_field: str) -> dict[str, Any]:
        start = _date(query.get(f"{date_field}.gte", str(data.ORIGIN)))
        # Events are known up to a quarter ahead (declared dividends), never further.
        horizon = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=90)
        end = min(_date(query.get(f"{date_field}.lte", str(horizon))), horizon)
        tickers = [query["ticker"]] if "ticker" in query else list(data.INSTRUMENTS)
        results = sorted((row for t in tickers for row in source(t, start, end)),
                         key=lambda r: (r[date_field], r["ticker"]))  # fmt: skip
        return self._paged(results, query, f"/{'/'.join(urlsplit(self.path).path.strip('/').split('/'))}")

    def _news(self, query: dict[str, str]) -> dict[str, Any]:
        """Articles about ``ticker`` (all instruments' without one) published in the asked range, up to today."""
        today = self.server.state.today()
        start = _date(query.get("published_utc.gte", str(data.ORIGIN))[:10])
        end = min(_date(query.get("published_utc.lte", str(today))[:10]), today)
        if "published_utc.lt" in query:  # a date bound that excludes its own day
            end = min(end, _date(query["published_utc.lt"][:10]) - datetime.timedelta(days=1))
        tickers = [query["ticker"]] if "ticker" in query else list(data.INSTRUMENTS)
        results = sorted((article for t in tickers for article in reference.news(t, start, end)),
                         key=lambda a: (str(a["published_utc"]), str(a["id"])),
                         reverse=query.get("order", "desc") == "desc")  # fmt: skip
        return self._paged(results, query, "/v2/reference/news")

    def _income_statements(self, query: dict[str, str]) -> dict[str, Any]:
        """Income statements of ``tickers`` (one, or all stocks) filed in the asked range, up to today."""
        today = self.server.state.today()
        start = _date(query.get("filing_date.gte", str(data.ORIGIN)))
        end = min(_date(query.get("filing_date.lte", str(today))), today)
        if "filing_date.lt" in query:
            end = min(end, _date(query["filing_date.lt"]) - datetime.timedelta(days=1))
        tickers = [query["tickers"]] if "tickers" in query else list(data.INSTRUMENTS)
        results = sorted((s for t in tickers for s in reference.income_statements(t, start, end)),
                         key=lambda s: (str(s["filing_date"]), str(s["tickers"]), str(s["timeframe"])))  # fmt: skip
        return self._paged(results, query, "/stocks/financials/v1/income-statements")

    def _tickers(self, query: dict[str, str]) -> dict[str, Any]:
        market = query.get("market")
        results = [{"ticker": i.ticker, "name": i.name, "market": i.market, "locale": "us" if i.market in
                    ("stocks", "indices") else "global", "active": True, "currency_name": "usd",
                    "primary_exchange": "XNAS" if i.market == "stocks" else None, "type": "CS" if
                    i.market == "stocks" else None}
                   for i in data.INSTRUMENTS.values() if market in (None, i.market)]  # fmt: skip
        return self._paged(results, query, "/v3/reference/tickers")

    def _paged(self, results: list[dict[str, Any]], query: dict[str, str], path: str) -> dict[str, Any]:
        limit = min(int(query.get("limit", "10")), 1000)
        offset = int(query.get("cursor", "0"))
        size = min(limit, self.server.state.page_size)
        body: dict[str, Any] = {"results": [{k: v for k, v in r.items() if v is not None}
                                            for r in results[offset : offset + size]],
                                "status": "OK", "request_id": uuid.uuid4().hex}  # fmt: skip
        if offset + size < len(results):
            next_query = {k: v for k, v in query.items() if k != "apiKey"} | {"cursor": str(offset + size)}
            body["next_url"] = f"{self._base()}{path}?{urlencode(next_query)}"
        return body

    def _ticks(self, kind: str, ticker: str, query: dict[str, str]) -> dict[str, Any]:
        """Trades or quotes in a time range, ``next_url`` continuing after the page's last one: the very
        ticks the stream sent for that range."""
        state = self.server.state
        low, high = tick_range(query, state.now_ns())
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid order: {order!r} (asc or desc)")
        if query.get("sort", "timestamp") != "timestamp":
            raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid sort: {query['sort']!r} (timestamp)")
        limit = query.get("limit", str(TICKS_LIMIT))
        if not limit.isdigit() or int(limit) < 1:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid limit: {limit!r} (1 to {MAX_LIMIT})")
        size = min(int(limit), MAX_LIMIT, state.page_size)
        body: dict[str, Any] = {"results": [], "status": "OK", "request_id": uuid.uuid4().hex}
        if not ticks.streamed(ticker) or ticker in state.faults.silent_tickers or low >= high:
            return body
        page = page_of_ticks(kind, ticker, low, high, order == "desc", size + 1, state.tick_rate)
        body["results"] = [ticks.rest_trade(t) if isinstance(t, ticks.Trade) else ticks.rest_quote(t)
                           for t in page[:size]]  # fmt: skip
        if len(page) > size:
            last = page[size - 1].sip_timestamp
            bounds = ({"timestamp.gte": str(low), "timestamp.lt": str(last)} if order == "desc"
                      else {"timestamp.gte": str(last + 1), "timestamp.lt": str(high)})  # fmt: skip
            rest = {k: v for k, v in query.items() if k != "apiKey" and not k.startswith("timestamp")}
            body["next_url"] = f"{self._base()}/v3/{kind}/{ticker}?{urlencode({**rest, **bounds})}"
        return body

    def _base(self) -> str:
        return self.server.url


def _instant(name: str, value: str) -> int:
    """A ``timestamp`` bound in nanoseconds: nanoseconds as they are, a date as its midnight (UTC)."""
    if value.isdigit():
        return int(value)
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"Could not parse {name}: {value!r} (a date YYYY-MM-DD or "
                       "nanoseconds)") from None  # fmt: skip
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC).timestamp()) * ticks.NS


def tick_range(query: dict[str, str], now_ns: int) -> tuple[int, int]:
    """The [low, high) nanoseconds a ticks request asks for, never past ``now_ns``. ``timestamp`` alone is an
    instant or a whole day; without a lower bound the range starts at the upper bound's UTC midnight."""
    low, high = None, now_ns + 1
    if "timestamp" in query:
        exact = query["timestamp"]
        low = _instant("timestamp", exact)
        high = min(high, low + (1 if exact.isdigit() else DAY_NS))
    for name, shift, is_low in (("gte", 0, True), ("gt", 1, True), ("lte", 1, False), ("lt", 0, False)):
        if (value := query.get(f"timestamp.{name}")) is not None:
            bound = _instant(f"timestamp.{name}", value) + shift
            if is_low:
                low = bound if low is None else max(low, bound)
            else:
                high = min(high, bound)
    if low is None:
        low = (high - 1) // DAY_NS * DAY_NS
    return low, high


def page_of_ticks(kind: str, ticker: str, low: int, high: int, newest_first: bool, count: int,
                  rate: int) -> list[ticks.Trade] | list[ticks.Quote]:  # fmt: skip
    """Up to ``count`` trades or quotes in [low, high), from the oldest or the newest, second by second."""
    of_second = ticks.second_trades if kind == "trades" else ticks.second_quotes
    out: list[Any] = []
    first, last = low // ticks.NS, (high - 1) // ticks.NS
    seconds = range(last, first - 1, -1) if newest_first else range(first, last + 1)
    for second in seconds:
        events = [e for e in of_second(ticker, second, rate) if low <= e.sip_timestamp < high]
        out.extend(reversed(events) if newest_first else events)
        if len(out) >= count:
            break
    return out[:count]


def _hit(number: int, first: int, every: int) -> bool:
    if number <= 0:
        return False
    if number <= first:
        return True
    return bool(every) and (number - first) % every == 0


def _error(message: str) -> dict[str, str]:
    return {"status": "ERROR", "request_id": uuid.uuid4().hex, "error": message}


def _route(path: str) -> str:
    """The endpoint family of a path, for request counting."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["v2", "aggs", "ticker"]:
        return "aggs"
    if parts[:3] == ["v2", "aggs", "grouped"]:
        return "groupedDaily"
    return "/".join(parts[:3])


def _upcoming_holidays(today: datetime.date | None = None) -> list[dict[str, str]]:
    """Polygon's upcoming-holidays list: a bare JSON array. The sandbox lists the coming 12 months."""
    today = today or datetime.datetime.now(datetime.UTC).date()
    out = []
    for year in (today.year, today.year + 1):
        for day in sorted(holidays(year)):
            if today <= day <= today + datetime.timedelta(days=365) and not is_trading_day(day):
                for exchange in ("NYSE", "NASDAQ"):
                    out.append(
                        {"date": str(day), "exchange": exchange, "name": "Market Holiday", "status": "closed"}
                    )
    return out


class SandboxServer(LoopbackServer):
    """The market-data sandbox on ``host:port`` (loopback by default; 0 picks a free port)."""

    def __init__(self, port: int = 0, state: SandboxState | None = None, host: str = "127.0.0.1") -> None:
        self.state = state or SandboxState()
        super().__init__(port, Handler, host)
