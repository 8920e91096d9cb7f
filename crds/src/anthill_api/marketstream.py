"""MarketStream: real-time market data from the Massive (Polygon.io) WebSocket API into the lake's bronze layer.

A kind of its own rather than a MarketFeed mode: a feed is a schedule of finished runs (a CronJob, a
watermark of complete days, a last run), a stream is one long-lived connection (a Deployment, a checkpoint
of the last event flushed, a rate and a lag). The two share the destination, the API key Secret, the
tickers' rules and the tenant's ServiceAccount, and nothing else.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from anthill_api.common import (
    DNS_SUBDOMAIN,
    QUANTITIES,
    Condition,
    Model,
    Quantity,
    Resources,
    SecretKeyRef,
    cel,
    conditions_field,
    printer_columns_common,
)
from anthill_api.marketfeed import TICKER, Destination

StreamAssetClass = Literal["stocks", "options", "crypto"]
Channel = Literal["trades", "quotes", "secondAggregates", "minuteAggregates"]
# The WebSocket API's channel prefix per market: `T.AAPL` subscribes to AAPL's stock trades.
CHANNEL_PREFIXES: dict[str, dict[str, str]] = {
    "stocks": {"trades": "T", "quotes": "Q", "secondAggregates": "A", "minuteAggregates": "AM"},
    "options": {"trades": "T", "quotes": "Q", "secondAggregates": "A", "minuteAggregates": "AM"},
    "crypto": {"trades": "XT", "quotes": "XQ", "secondAggregates": "XAS", "minuteAggregates": "XA"},
}
ALL_TICKERS = "*"
STREAM_TICKER = rf"^(\*|{TICKER[1:-1]})$"


class Flush(Model):
    """When buffered events are written to bronze: every `intervalSeconds` or `maxRows`, whichever first."""

    interval_seconds: int = Field(
        default=5, ge=1, le=300, description="Seconds between flushes at most (default 5)."
    )
    max_rows: int = Field(
        default=100_000,
        ge=1_000,
        le=2_000_000,
        description="Events held before a flush at most, over all channels (default 100000).",
    )


class StreamResources(Resources):
    """Requests and limits of the stream pod (Kubernetes quantities). The pod holds one flush of events and
    writes the one before it; with the default `flush.maxRows` it peaks near 400 MiB, which the defaults fit."""

    requests: dict[str, Quantity] | None = Field(
        default={"cpu": "250m", "memory": "512Mi"},
        max_length=16,
        description="What the scheduler reserves for the pod (default {cpu: 250m, memory: 512Mi}).",
        json_schema_extra=QUANTITIES,
    )
    limits: dict[str, Quantity] | None = Field(
        default={"memory": "1Gi"},
        max_length=16,
        description="What the pod may use at most (default {memory: 1Gi}).",
        json_schema_extra=QUANTITIES,
    )


class MarketStreamSpec(Model):
    """Desired state of a MarketStream: one pod subscribed to `channels` of `tickers`, writing bronze."""

    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel(
            "self.tickers.all(t, t == '*' || self.assetClass != 'stocks' || !t.contains(':'))",
            "stock tickers have no market prefix (AAPL, not X:AAPL)",
            ".tickers",
        ),
        cel(
            "self.tickers.all(t, t == '*' || self.assetClass != 'crypto' || t.startsWith('X:'))",
            "crypto tickers start with X: (X:BTCUSD)",
            ".tickers",
        ),
        cel(
            "self.tickers.all(t, t == '*' || self.assetClass != 'options' || t.startsWith('O:'))",
            "option tickers start with O: (O:AAPL251219C00150000)",
            ".tickers",
        ),
        cel(
            "!('*' in self.tickers) || size(self.tickers) == 1",
            "'*' subscribes to the whole market: list it alone",
            ".tickers",
        ),
    ]

    asset_class: StreamAssetClass = Field(
        default="stocks", description="Market of the tickers: stocks, options or crypto."
    )
    channels: list[Channel] = Field(
        min_length=1,
        max_length=4,
        description="What to stream: trades, quotes, secondAggregates and minuteAggregates.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    tickers: list[str] = Field(
        min_length=1,
        max_length=1000,
        description="Tickers to subscribe to, upper case with the market prefix where it has one (AAPL, "
        "X:BTCUSD, O:AAPL251219C00150000), or ['*'] for the whole market. Edits reach the running stream "
        "without a restart.",
        json_schema_extra={
            "items": {"type": "string", "pattern": STREAM_TICKER, "maxLength": 40},
            "x-kubernetes-list-type": "set",
        },
    )
    flush: Flush = Field(default=Flush(), description="When events are written to bronze.")
    gap_fill: bool = Field(
        default=True,
        description="On start, fetch the trades and quotes the stream missed since its last flush from the "
        "REST API, so a restart loses no events (silver drops the ones fetched twice).",
    )
    suspend: bool = Field(default=False, description="Stop streaming: the pod flushes and is scaled to zero.")
    destination: Destination = Field(description="The lake this stream writes to.")
    api_key_secret_ref: SecretKeyRef = Field(
        description="Secret key holding the Massive/Polygon API key. The key is passed to the pod from the "
        "Secret; it never appears in the spec, arguments, logs or status."
    )
    resources: StreamResources = Field(
        default=StreamResources(),
        description="Requests and limits of the stream pod (default: requests {cpu: 250m, memory: 512Mi}, "
        "limits {memory: 1Gi}).",
    )
    service_account_name: str | None = Field(
        default=None,
        description="ServiceAccount the stream pod runs as, in the stream's namespace: on EKS the one bound "
        "to the IAM role that may write the destination bucket (default: the namespace's `default`). Its "
        "Kubernetes API token is never mounted.",
        max_length=253,
        pattern=DNS_SUBDOMAIN,
    )


class StreamStatistics(Model):
    """What the stream pod last reported (a log line it writes after every flush)."""

    connected: bool = Field(description="Whether the pod is connected and subscribed.")
    messages_per_second: float = Field(description="Events received per second since the previous report.")
    last_flush_time: datetime.datetime | None = Field(
        default=None, description="When the pod last wrote events to bronze."
    )
    flush_lag_seconds: float | None = Field(
        default=None,
        description="Between an event's time and its flush, the 99th percentile over the last flush.",
    )
    rows_flushed: int = Field(default=0, description="Events written to bronze since the pod started.")
    reported_at: datetime.datetime = Field(description="When the pod wrote the report.")


class MarketStreamStatus(Model):
    """Observed state of a MarketStream."""

    observed_generation: int | None = Field(default=None, description="metadata.generation last reconciled.")
    conditions: list[Condition] = conditions_field("Ready and Synced.")
    deployment_name: str | None = Field(default=None, description="The Deployment this stream owns.")
    statistics: StreamStatistics | None = Field(default=None, description="The pod's latest report.")


MARKETSTREAM_PRINTER_COLUMNS: list[dict[str, Any]] = [
    *printer_columns_common(),
    {"name": "Market", "type": "string", "jsonPath": ".spec.assetClass"},
    {"name": "Msg/s", "type": "number", "jsonPath": ".status.statistics.messagesPerSecond"},
    {"name": "Lag", "type": "number", "jsonPath": ".status.statistics.flushLagSeconds"},
    {"name": "Last Flush", "type": "date", "jsonPath": ".status.statistics.lastFlushTime"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
