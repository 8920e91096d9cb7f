"""The stream a pod runs: the document the operator mounts (a ConfigMap, updated in place), or a manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anthill_api.marketstream import ALL_TICKERS, CHANNEL_PREFIXES, MarketStreamSpec
from anthill_ingest.config import ConfigError, parse_document, read_config

# The CRD's CEL rules on tickers, which pydantic does not run: (asset class, what a ticker must satisfy, why).
TICKER_RULES = (
    ("stocks", lambda t: ":" not in t, "stock tickers have no market prefix (AAPL, not X:AAPL)"),
    ("crypto", lambda t: t.startswith("X:"), "crypto tickers start with X: (X:BTCUSD)"),
    ("options", lambda t: t.startswith("O:"), "option tickers start with O: (O:AAPL251219C00150000)"),
)


# Quote currencies of crypto pairs longer than three letters: X:BTCUSDT is BTC-USDT, X:BTCUSD is BTC-USD.
LONG_QUOTES = ("USDT", "USDC")


def stream_symbol(ticker: str, asset_class: str) -> str:
    """How the WebSocket API names a ticker: as is, but a crypto pair with a dash (X:BTCUSD -> BTC-USD)."""
    if asset_class != "crypto" or ticker == ALL_TICKERS:
        return ticker
    symbol = ticker.removeprefix("X:")
    split = 4 if symbol.endswith(LONG_QUOTES) else 3
    return f"{symbol[:-split]}-{symbol[-split:]}"


@dataclass(frozen=True)
class StreamConfig:
    name: str
    namespace: str
    spec: MarketStreamSpec

    def subscriptions(self) -> frozenset[str]:
        """The WebSocket subscription params of the spec: ``T.AAPL``, ``Q.*``, ``XT.BTC-USD``, ..."""
        prefixes = CHANNEL_PREFIXES[self.spec.asset_class]
        symbols = [stream_symbol(t, self.spec.asset_class) for t in self.spec.tickers]
        return frozenset(f"{prefixes[c]}.{s}" for c in self.spec.channels for s in symbols)

    @property
    def all_tickers(self) -> bool:
        return self.spec.tickers == [ALL_TICKERS]


def parse_stream(text: str, source: str) -> StreamConfig:
    """Parse a stream document; an invalid one raises :class:`ConfigError` naming the field."""
    name, namespace, spec = parse_document(text, source, "MarketStream", MarketStreamSpec, "stream")
    _check_tickers(spec, source)
    return StreamConfig(name=name, namespace=namespace, spec=spec)


def load_stream(path: Path) -> StreamConfig:
    return parse_stream(read_config(path, "stream"), str(path))


def _check_tickers(spec: MarketStreamSpec, source: str) -> None:
    if ALL_TICKERS in spec.tickers and len(spec.tickers) > 1:
        raise ConfigError(f"{source}: spec.tickers: '*' subscribes to the whole market: list it alone")
    for asset_class, allowed, why in TICKER_RULES:
        if spec.asset_class != asset_class:
            continue
        if bad := [t for t in spec.tickers if t != ALL_TICKERS and not allowed(t)]:
            raise ConfigError(f"{source}: spec.tickers: {why}; not {', '.join(bad[:5])}")
