"""MarketFeed: what market data to pull from the Massive (Polygon.io) API into the lake's bronze layer."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from anthill_api.common import (
    CRON,
    DNS_SUBDOMAIN,
    IANA_TIME_ZONE,
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

Dataset = Literal[
    "aggregates",
    "groupedDaily",
    "dividends",
    "splits",
    "tickers",
    "marketHolidays",
    "news",
    "optionsContracts",
    "trades",
    "quotes",
    "financials",
]
# Datasets asked for per ticker, which a feed of them must name.
PER_TICKER_DATASETS = ("aggregates", "news", "optionsContracts", "trades", "quotes", "financials")
STOCKS_ONLY_DATASETS = ("news", "optionsContracts", "trades", "quotes", "financials")
AssetClass = Literal["stocks", "indices", "crypto", "forex", "options"]
Timespan = Literal["minute", "hour", "day", "week", "month"]
# Upper-case symbols with an optional market prefix: AAPL, BRK.B, I:NDX, X:BTCUSD, C:EURUSD, O:AAPL251219C00150000.
TICKER = r"^([ICXO]:)?[A-Z0-9][A-Z0-9.\-]{0,31}$"
# The API's grouped daily ("daily market summary") exists for these markets only, not for indices or options.
GROUPED_DAILY_ASSET_CLASSES = ("stocks", "crypto", "forex")
GROUPED_DAILY_UNSUPPORTED = (
    "groupedDaily exists only for stocks, crypto and forex, not for indices or options"
)
DESTINATION = r"^(s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\s]*)?|file:///[^\s]*)$"


class Bars(Model):
    """Bar size for the aggregates dataset: `multiplier` x `timespan` (5 x minute = 5-minute bars)."""

    multiplier: int = Field(default=1, ge=1, le=1000, description="How many timespans one bar covers (>= 1).")
    timespan: Timespan = Field(
        default="day", description="Unit of the bar: minute, hour, day, week or month."
    )


class Backfill(Model):
    """Where the first run starts; later runs continue from the watermark in status."""

    from_: datetime.date = Field(alias="from", description="First date to fetch (YYYY-MM-DD), inclusive.")


class Destination(Model):
    """Where the lake lives; bronze data goes under `<uri>/bronze/`, run state under `<uri>/_state/`."""

    uri: str = Field(
        description="s3://bucket/prefix or file:///absolute/path.", max_length=1024, pattern=DESTINATION
    )


class RateLimit(Model):
    """Client-side request budget; the free Massive plan allows 5 requests per minute."""

    requests_per_minute: int = Field(ge=1, le=100_000, description="Requests per minute, at least 1.")


class IngestResources(Resources):
    """Requests and limits of the ingest pod (Kubernetes quantities). A run holds one chunk of its window
    at a time (at most 200,000 rows, about 150 MiB), so the defaults fit a backfill of any size; a field left
    out keeps its default, an empty map sets none."""

    requests: dict[str, Quantity] | None = Field(
        default={"cpu": "100m", "memory": "256Mi"},
        max_length=16,
        description="What the scheduler reserves for the pod (default {cpu: 100m, memory: 256Mi}).",
        json_schema_extra=QUANTITIES,
    )
    limits: dict[str, Quantity] | None = Field(
        default={"memory": "1Gi"},
        max_length=16,
        description="What the pod may use at most; past the memory limit it is killed (default {memory: 1Gi}).",
        json_schema_extra=QUANTITIES,
    )


class MarketFeedSpec(Model):
    """Desired state of a MarketFeed: one CronJob that pulls `dataset` for `tickers` into bronze."""

    cel_rules: ClassVar[list[dict[str, str]]] = [
        cel(
            f"!(self.dataset in {list(PER_TICKER_DATASETS)}) || (has(self.tickers) && size(self.tickers) > 0)",
            "spec.tickers is required when dataset is aggregates, news, optionsContracts, trades, quotes or "
            "financials",
            ".tickers",
            "FieldValueRequired",
        ),
        cel(
            f"!(self.dataset in {list(STOCKS_ONLY_DATASETS)}) || self.assetClass == 'stocks'",
            "news, optionsContracts, trades, quotes and financials are for stocks (an options chain's "
            "underlyings are stock tickers)",
            ".assetClass",
        ),
        cel(
            "self.dataset != 'groupedDaily' || !has(self.tickers)",
            "spec.tickers must not be set for groupedDaily: it returns the whole market for a date",
            ".tickers",
            "FieldValueForbidden",
        ),
        cel(
            f"self.dataset != 'groupedDaily' || self.assetClass in {list(GROUPED_DAILY_ASSET_CLASSES)}",
            GROUPED_DAILY_UNSUPPORTED,
            ".assetClass",
        ),
        cel(
            "!has(self.bars) || self.dataset == 'aggregates'",
            "spec.bars only applies to the aggregates dataset",
            ".bars",
            "FieldValueForbidden",
        ),
        cel(
            "!has(self.tickers) || self.assetClass != 'stocks' || self.tickers.all(t, !t.contains(':'))",
            "stock tickers have no market prefix (AAPL, not X:AAPL)",
            ".tickers",
        ),
        cel(
            "!has(self.tickers) || self.assetClass != 'indices' || self.tickers.all(t, t.startsWith('I:'))",
            "index tickers start with I: (I:NDX)",
            ".tickers",
        ),
        cel(
            "!has(self.tickers) || self.assetClass != 'crypto' || self.tickers.all(t, t.startsWith('X:'))",
            "crypto tickers start with X: (X:BTCUSD)",
            ".tickers",
        ),
        cel(
            "!has(self.tickers) || self.assetClass != 'forex' || self.tickers.all(t, t.startsWith('C:'))",
            "forex tickers start with C: (C:EURUSD)",
            ".tickers",
        ),
        cel(
            "!has(self.tickers) || self.assetClass != 'options' || self.tickers.all(t, t.startsWith('O:'))",
            "option tickers start with O: (O:AAPL251219C00150000)",
            ".tickers",
        ),
    ]

    dataset: Dataset = Field(
        description="What to fetch: aggregates (OHLCV bars per ticker), groupedDaily (the whole market's daily "
        "bars for each date; stocks, crypto and forex only), dividends, splits, tickers (reference data), "
        "marketHolidays, news (articles per ticker, with the vendor's sentiment) or optionsContracts (the "
        "listed options of each underlying stock), trades or quotes (every tick, a day at a time) or financials (income statements, quarterly and annual)."
    )
    asset_class: AssetClass = Field(
        default="stocks", description="Market of the tickers: stocks, indices, crypto, forex or options."
    )
    tickers: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Tickers to fetch, upper case with the market prefix where it has one (AAPL, I:NDX, "
        "X:BTCUSD, C:EURUSD). Required for aggregates; not allowed for groupedDaily.",
        json_schema_extra={"items": {"pattern": TICKER, "maxLength": 40}, "x-kubernetes-list-type": "set"},
    )
    bars: Bars | None = Field(default=None, description="Bar size for aggregates (default 1 x day).")
    adjusted: bool = Field(default=True, description="Whether prices are adjusted for splits.")
    schedule: str = Field(
        description="When to run, as a 5-field cron expression (minute 0-59, hour 0-23, day-of-month 1-31, "
        "month 1-12 or JAN-DEC, day-of-week 0-6 or SUN-SAT, Sunday 0; each a list of values, ranges, * or ?, "
        "with optional /steps) or a macro such as @daily. Interpreted in timeZone.",
        max_length=128,
        pattern=CRON,
    )
    time_zone: str | None = Field(
        default=None,
        description="IANA time zone of the schedule, e.g. America/New_York (default: the controller's, UTC).",
        max_length=64,
        pattern=IANA_TIME_ZONE,
    )
    suspend: bool = Field(default=False, description="Stop scheduling new runs; a running one finishes.")
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = Field(
        default="Forbid", description="What to do when a run is due while the previous one still runs."
    )
    successful_jobs_history_limit: int = Field(
        default=3, ge=0, le=100, description="Finished successful Jobs to keep."
    )
    failed_jobs_history_limit: int = Field(default=3, ge=0, le=100, description="Failed Jobs to keep.")
    backfill: Backfill | None = Field(
        default=None, description="Where the first run starts (default: the last trading day only)."
    )
    destination: Destination = Field(description="The lake this feed writes to.")
    api_key_secret_ref: SecretKeyRef = Field(
        description="Secret key holding the Massive/Polygon API key. The key is passed to the pod from the "
        "Secret; it never appears in the spec, arguments, logs or status."
    )
    rate_limit: RateLimit | None = Field(
        default=None, description="Client-side request budget (default: unlimited, paced by 429 responses)."
    )
    resources: IngestResources = Field(
        default=IngestResources(),
        description="Requests and limits of the ingest pod (default: requests {cpu: 100m, memory: 256Mi}, "
        "limits {memory: 1Gi}).",
    )
    service_account_name: str | None = Field(
        default=None,
        description="ServiceAccount the ingest pods run as, in the feed's namespace: on EKS the one bound to "
        "the IAM role that may write the destination bucket (default: the namespace's `default`). Its "
        "Kubernetes API token is never mounted; IRSA and EKS Pod Identity inject their own.",
        max_length=253,
        pattern=DNS_SUBDOMAIN,
    )


class LastRun(Model):
    """Summary of the most recent finished Job, from its pod's termination message."""

    job: str = Field(description="Name of the Job.")
    result: Literal["Succeeded", "Failed", "Running"] = Field(description="Outcome of the Job.")
    rows: int | None = Field(default=None, description="Rows written to bronze.")
    files: int | None = Field(default=None, description="Parquet objects written.")
    started_at: datetime.datetime | None = Field(default=None, description="When the Job started.")
    finished_at: datetime.datetime | None = Field(default=None, description="When the Job finished.")
    message: str = Field(default="", description="Error or summary from the run.")


class MarketFeedStatus(Model):
    """Observed state of a MarketFeed."""

    observed_generation: int | None = Field(default=None, description="metadata.generation last reconciled.")
    conditions: list[Condition] = conditions_field("Ready and Synced.")
    cron_job_name: str | None = Field(default=None, description="The CronJob this feed owns.")
    last_schedule_time: datetime.datetime | None = Field(
        default=None, description="When a run was last scheduled."
    )
    last_successful_time: datetime.datetime | None = Field(
        default=None, description="When a run last succeeded."
    )
    watermark: str | None = Field(default=None, description="Last date fully ingested (YYYY-MM-DD).")
    last_run: LastRun | None = Field(default=None, description="The most recent finished run.")


MARKETFEED_PRINTER_COLUMNS: list[dict[str, Any]] = [
    *printer_columns_common(),
    {"name": "Dataset", "type": "string", "jsonPath": ".spec.dataset"},
    {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule"},
    {"name": "Watermark", "type": "string", "jsonPath": ".status.watermark"},
    {"name": "Last Run", "type": "string", "jsonPath": ".status.lastRun.result"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
