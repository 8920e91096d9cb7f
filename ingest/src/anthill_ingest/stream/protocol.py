"""The WebSocket API's side of the conversation, as pure functions: where to connect, what a status says,
and how long to wait before trying again."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from anthill_api.marketstream import CHANNEL_PREFIXES
from anthill_ingest.config import ConfigError

URL_VARIABLE = "ANTHILL_MARKET_STREAM_URL"
# A subscription named in a status message: `T.AAPL`, `XQ.BTC-USD`, `AM.*`.
SUBSCRIPTION = re.compile(r"\b([A-Z]{1,3})\.(\*|[A-Za-z0-9:\-]+)")
# How the API says a key's plan lacks a channel ("Your plan doesn't include websocket access ...").
REFUSAL = re.compile(r"plan|not authori[sz]ed|not entitled|permission|upgrade", re.IGNORECASE)
StatusKind = Literal["subscribed", "refused", "notice", "ok"]
OK_STATUSES = frozenset({"connected", "auth_success", "success"})


@dataclass(frozen=True)
class Feed:
    """What the massive client takes: ``feed`` (host[:port][/path]) and whether the connection is TLS."""

    host: str
    secure: bool


def feed_from_url(url: str | None, default_host: str) -> Feed:
    """``ws://host:port`` or ``wss://host`` as the client's feed; no URL is ``default_host`` over TLS."""
    if not url:
        return Feed(default_host, secure=True)
    parts = urlsplit(url)
    if (
        parts.scheme not in ("ws", "wss")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ConfigError(
            f"{URL_VARIABLE} must be ws://host[:port] or wss://host[:port] (no user info or query)"
        )
    return Feed(parts.netloc + parts.path.rstrip("/"), secure=parts.scheme == "wss")


def channel_of(param: str, asset_class: str) -> str | None:
    """The channel of a subscription param (``T.AAPL`` -> trades), or None for another market's prefix."""
    prefix = param.partition(".")[0]
    return next((c for c, p in CHANNEL_PREFIXES[asset_class].items() if p == prefix), None)


def classify(status: dict[str, Any], asset_class: str) -> tuple[StatusKind, frozenset[str]]:
    """What a status message means for the stream, and the channels it names."""
    state, message = status.get("status"), str(status.get("message", ""))
    named = frozenset(
        c for m in SUBSCRIPTION.finditer(message) if (c := channel_of(m.group(0), asset_class)) is not None
    )
    if state == "success" and message.startswith("subscribed"):
        return "subscribed", named
    if state in OK_STATUSES:
        return "ok", named
    if state == "error" and REFUSAL.search(message):
        return "refused", named
    return "notice", named


@dataclass(frozen=True)
class Backoff:
    """Exponential delays with jitter: attempt n waits between half and all of ``initial * 2**n``, at most
    ``cap``; the random half spreads replicas that lost the same server apart."""

    initial: float
    cap: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.initial * 2 ** min(attempt, 32))
        return rng.uniform(ceiling / 2, ceiling)


def redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text
